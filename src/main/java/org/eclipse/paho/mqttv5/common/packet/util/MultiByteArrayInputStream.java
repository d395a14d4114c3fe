package org.eclipse.paho.mqttv5.common.packet.util;

import java.io.InputStream;
import java.util.Objects;

/**
 * Two ranges of byte arrays read as one stream, the first then the second: how Paho reads a stored packet back (its
 * header and its payload are kept apart). The bridge's own class of Paho 1.2.5's name and API, only so that every
 * class of this package comes from one jar (see {@link CountingInputStream}); it reads in bulk too.
 */
public class MultiByteArrayInputStream extends InputStream {

    private final byte[] first;
    private final int firstOffset;
    private final int firstLength;
    private final byte[] second;
    private final int secondOffset;
    private final int secondLength;
    private int position;

    /** Reads {@code firstLength} bytes of {@code first} from {@code firstOffset}, then those of {@code second}. */
    public MultiByteArrayInputStream(byte[] first, int firstOffset, int firstLength, byte[] second, int secondOffset,
            int secondLength) {
        this.first = first;
        this.firstOffset = firstOffset;
        this.firstLength = firstLength;
        this.second = second;
        this.secondOffset = secondOffset;
        this.secondLength = secondLength;
    }

    @Override
    public int read() {
        if (position < firstLength) {
            return first[firstOffset + position++] & 0xff;
        }
        if (position < firstLength + secondLength) {
            return second[secondOffset + position++ - firstLength] & 0xff;
        }
        return -1;
    }

    @Override
    public int read(byte[] b, int off, int len) {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        int left = available();
        if (left == 0) {
            return -1;
        }
        int n = Math.min(len, left);
        int fromFirst = Math.max(0, Math.min(n, firstLength - position));
        if (fromFirst > 0) {
            System.arraycopy(first, firstOffset + position, b, off, fromFirst);
        }
        if (n > fromFirst) {
            System.arraycopy(second, secondOffset + position + fromFirst - firstLength, b, off + fromFirst,
                    n - fromFirst);
        }
        position += n;
        return n;
    }

    @Override
    public int available() {
        return firstLength + secondLength - position;
    }
}

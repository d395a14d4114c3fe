package dev.metamorphosis.bench;

import java.util.Arrays;
import java.util.Base64;

import dev.metamorphosis.it.Load;

/**
 * What the benchmark's publisher writes at the start of every payload, in ASCII so that it survives any path: the
 * publishing connection, its sequence number and the wall-clock millisecond of the publish, then filler.
 */
record Stamp(int connection, int seq, long publishedMillis) {

    /** Bytes of the stamp: "cc sssssssss tttttttttttttt " */
    static final int LENGTH = 28;

    /** Writes the stamp over the first bytes of a payload (of at least {@link #LENGTH} bytes). */
    static void write(byte[] payload, int connection, int seq, long millis) {
        digits(payload, 0, 2, connection);
        digits(payload, 3, 9, seq);
        digits(payload, 13, 14, millis);
        payload[2] = ' ';
        payload[12] = ' ';
        payload[27] = ' ';
    }

    /** A number right-aligned in a field of spaces. */
    private static void digits(byte[] into, int at, int width, long value) {
        for (int i = at + width - 1; i >= at; i--) {
            into[i] = value == 0 && i < at + width - 1 ? (byte) ' ' : (byte) ('0' + value % 10);
            value /= 10;
        }
    }

    /** A payload of the given size, filled, ready for {@link #write}. */
    static byte[] payload(int size) {
        byte[] payload = new byte[Math.max(size, LENGTH)];
        Arrays.fill(payload, (byte) 'x');
        return payload;
    }

    /** Payloads of {@code size} bytes for {@link Load}, each stamped as it is published. */
    static Load.Content content(int size) {
        return new Load.Content() {
            @Override
            public byte[] buffer() {
                return payload(size);
            }

            @Override
            public void write(byte[] payload, int connection, int seq, int n) {
                Stamp.write(payload, connection, seq, System.currentTimeMillis());
            }
        };
    }

    static Stamp read(byte[] payload, int offset) {
        return new Stamp((int) number(payload, offset, 2), (int) number(payload, offset + 3, 9),
                number(payload, offset + 13, 14));
    }

    private static long number(byte[] bytes, int at, int width) {
        long value = 0;
        for (int i = at; i < at + width; i++) {
            if (bytes[i] != ' ') {
                value = value * 10 + bytes[i] - '0';
            }
        }
        return value;
    }

    /** The stamp of a Kafka record value, an envelope {"topic":"...","content":"<base64>"}: decodes only the start. */
    static Stamp ofEnvelope(byte[] envelope, int contentAt) {
        // 40 base64 characters are 30 bytes, enough for the stamp
        byte[] head = Base64.getDecoder().decode(Arrays.copyOfRange(envelope, contentAt, contentAt + 40));
        return read(head, 0);
    }
}

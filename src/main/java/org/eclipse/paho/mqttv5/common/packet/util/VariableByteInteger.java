package org.eclipse.paho.mqttv5.common.packet.util;

/**
 * An MQTT variable byte integer as Paho decodes it: the value, and how many bytes it took on the wire. The bridge's
 * own class of Paho 1.2.5's name and API, only so that every class of this package comes from one jar (see
 * {@link CountingInputStream}).
 */
public class VariableByteInteger {

    private final int value;
    private final int length;

    /** A value whose encoded length is not known: {@link #getEncodedLength()} is -1. */
    public VariableByteInteger(int value) {
        this(value, -1);
    }

    /** A value read from {@code length} bytes. */
    public VariableByteInteger(int value, int length) {
        this.value = value;
        this.length = length;
    }

    /** The bytes it was read from, or -1 when not known. */
    public int getEncodedLength() {
        return length;
    }

    public int getValue() {
        return value;
    }
}

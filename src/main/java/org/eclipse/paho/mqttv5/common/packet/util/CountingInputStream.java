package org.eclipse.paho.mqttv5.common.packet.util;

import java.io.IOException;
import java.io.InputStream;

/**
 * An input stream that counts the bytes read through it: the bridge's own class of the name Paho 1.2.5 uses, loaded
 * in place of Paho's because {@code metamorphosis.jar} comes before the Paho jar on the class path. It has the API
 * Paho calls (the constructor, {@link #getCounter()}, {@link #resetCounter()}) and also reads in bulk.
 * <p>
 * Paho parses every packet it receives ({@code MqttPublish(byte, byte[])}, the acknowledgements, {@code MqttWireMessage})
 * through a {@code DataInputStream} over this stream over a {@code ByteArrayInputStream} of the packet. Paho's own
 * class overrides only {@code read()}, so {@code DataInputStream.readFully} of a payload falls back to
 * {@code InputStream}'s loop of one {@code read()} call per byte: 10,240 calls for a 10 KiB message, 83 % of the bridge's
 * CPU at that size. This class passes {@code read(byte[], int, int)} and {@code skip} on to the stream it wraps, so a
 * payload is one array copy, and counts what they return.
 * <p>
 * What upstream Paho should change (org.eclipse.paho.mqttv5.client 1.2.5, and the MQTT 3 client's class of the same
 * name): {@code CountingInputStream} should override {@code read(byte[], int, int)}, delegating to the wrapped stream
 * and adding the number of bytes it returns (when positive) to the counter, and likewise {@code skip(long)}; or extend
 * {@code FilterInputStream}, which delegates the bulk read already, and count in the overrides. No caller has to
 * change, and received payloads are then read at the speed of {@code System.arraycopy}.
 * <p>
 * The other two classes of this package, {@code VariableByteInteger} and {@code MultiByteArrayInputStream}, are the
 * bridge's own too, so that the whole package comes from one jar: the Paho jar is signed, and a JVM that honours its
 * signature (Java 17 before 17.0.5, or any that accepts its SHA-1 timestamp) refuses to load a package split between
 * a signed and an unsigned jar with a {@code SecurityException}. Java 17.0.5 and later treat the jar as unsigned.
 * <p>
 * Should a Paho release change this class's API, {@code MqttComponent} logs at start-up which class was loaded and
 * whether it reads in bulk.
 */
public class CountingInputStream extends InputStream {

    private final InputStream in;
    private int counter;

    /** Counts what is read from {@code in}, starting at 0. */
    public CountingInputStream(InputStream in) {
        this.in = in;
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        if (b != -1) {
            counter++;
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n > 0) {
            counter += n;
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        long skipped = in.skip(n);
        if (skipped > 0) {
            counter += (int) skipped;
        }
        return skipped;
    }

    @Override
    public int available() throws IOException {
        return in.available();
    }

    /** The bytes read or skipped since construction or the last {@link #resetCounter()}. */
    public int getCounter() {
        return counter;
    }

    /** Counts from 0 again. */
    public void resetCounter() {
        counter = 0;
    }
}

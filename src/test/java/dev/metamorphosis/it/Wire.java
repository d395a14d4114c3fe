package dev.metamorphosis.it;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A minimal MQTT 5 client on a plain socket, for the publisher of {@link Load} and the benchmark's plain subscriber:
 * CONNECT, PUBLISH, PUBACK, SUBSCRIBE and DISCONNECT, nothing else; or the broker's end of a connection, for a test
 * that writes the broker's packets itself. It does only what it is told, so its own cost stays small and known, and it
 * pipelines as far as the broker's receive maximum allows (Paho's publisher fails against a broker that advertises
 * 65535).
 */
public final class Wire implements AutoCloseable {

    public static final int CONNACK = 2;
    public static final int PUBLISH = 3;
    public static final int PUBACK = 4;
    public static final int SUBACK = 9;
    public static final int DISCONNECT = 14;

    private static final int RECEIVE_MAXIMUM = 0x21;

    public final Socket socket;
    public final DataInputStream in;
    public final OutputStream out;
    /** The broker's receive maximum from its CONNACK: how many QoS 1 publishes may wait for their PUBACK. */
    public final int brokerReceiveMaximum;
    /** A PUBLISH's fixed header, topic, packet id and properties, built here and written at once. */
    private final byte[] packet = new byte[1024];

    /** A packet read: its type (upper four bits of the first byte), flags and the bytes after the length. */
    public record Packet(int type, int flags, byte[] body) {
    }

    /**
     * Connects with a clean start, no keep-alive (the benchmark's connections are never idle long) and the given
     * receive maximum (0: leave the property out, so the broker uses its own default).
     */
    public Wire(String host, int port, String clientId, int receiveMaximum) throws IOException {
        socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.setReceiveBufferSize(1 << 20);
        socket.setSendBufferSize(1 << 20);
        socket.connect(new InetSocketAddress(host, port), 10_000);
        in = new DataInputStream(new java.io.BufferedInputStream(socket.getInputStream(), 1 << 16));
        out = new java.io.BufferedOutputStream(socket.getOutputStream(), 1 << 16);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        string(body, "MQTT");
        body.write(5);
        body.write(0x02); // clean start
        body.write(0);
        body.write(0); // keep alive 0: off
        ByteArrayOutputStream properties = new ByteArrayOutputStream();
        if (receiveMaximum > 0) {
            properties.write(RECEIVE_MAXIMUM);
            properties.write(receiveMaximum >> 8);
            properties.write(receiveMaximum & 0xff);
        }
        varInt(body, properties.size());
        properties.writeTo(body);
        string(body, clientId);
        packet(out, 0x10, body.toByteArray());
        out.flush();
        Packet connack = read();
        if (connack.type() != CONNACK || connack.body().length < 2 || connack.body()[1] != 0) {
            throw new IOException("MQTT CONNECT refused: packet type " + connack.type() + ", reason "
                    + (connack.body().length > 1 ? connack.body()[1] & 0xff : -1));
        }
        brokerReceiveMaximum = receiveMaximum(connack.body());
    }

    /** The broker's end of a connection it accepted, for a test that plays the broker: nothing is sent yet. */
    public Wire(Socket accepted) throws IOException {
        socket = accepted;
        in = new DataInputStream(new java.io.BufferedInputStream(accepted.getInputStream(), 1 << 16));
        out = new java.io.BufferedOutputStream(accepted.getOutputStream(), 1 << 16);
        brokerReceiveMaximum = 0;
    }

    /** Writes (into the buffer) a packet of this first byte and body, a byte each. */
    public void write(int header, int... body) throws IOException {
        byte[] bytes = new byte[body.length];
        for (int i = 0; i < body.length; i++) {
            bytes[i] = (byte) body[i];
        }
        packet(out, header, bytes);
    }

    /** Subscribes to one filter and waits for the SUBACK. */
    public void subscribe(String filter, int qos) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(0);
        body.write(1); // packet id 1
        body.write(0); // no properties
        string(body, filter);
        body.write(qos);
        packet(out, 0x82, body.toByteArray());
        out.flush();
        Packet suback;
        do {
            suback = read();
        } while (suback.type() != SUBACK);
        int reason = suback.body()[suback.body().length - 1] & 0xff;
        if (reason > 2) {
            throw new IOException("MQTT SUBSCRIBE to " + filter + " refused: reason " + reason);
        }
    }

    /** Writes (into the buffer; flush to send) one PUBLISH; the packet id is used for QoS 1 only. */
    public void publish(byte[] topic, int qos, int packetId, byte[] payload) throws IOException {
        int length = 2 + topic.length + (qos > 0 ? 2 : 0) + 1 + payload.length;
        int at = 0;
        packet[at++] = (byte) (0x30 | qos << 1);
        do {
            int b = length & 0x7f;
            length >>>= 7;
            packet[at++] = (byte) (length > 0 ? b | 0x80 : b);
        } while (length > 0);
        packet[at++] = (byte) (topic.length >> 8);
        packet[at++] = (byte) topic.length;
        System.arraycopy(topic, 0, packet, at, topic.length);
        at += topic.length;
        if (qos > 0) {
            packet[at++] = (byte) (packetId >> 8);
            packet[at++] = (byte) packetId;
        }
        packet[at++] = 0; // no properties
        out.write(packet, 0, at);
        out.write(payload);
    }

    /** Writes (into the buffer) the PUBACK of a QoS 1 message. */
    public void puback(int packetId) throws IOException {
        out.write(0x40);
        out.write(2);
        out.write(packetId >> 8);
        out.write(packetId & 0xff);
    }

    public Packet read() throws IOException {
        int first = in.read();
        if (first < 0) {
            throw new EOFException("MQTT connection closed by the broker");
        }
        int length = 0;
        int shift = 0;
        int b;
        do {
            b = in.readUnsignedByte();
            length |= (b & 0x7f) << shift;
            shift += 7;
        } while ((b & 0x80) != 0);
        byte[] body = new byte[length];
        in.readFully(body);
        return new Packet(first >> 4, first & 0x0f, body);
    }

    /** The packet id of a PUBACK (or of any packet whose body starts with one). */
    public static int packetId(byte[] body, int at) {
        return (body[at] & 0xff) << 8 | body[at + 1] & 0xff;
    }

    @Override
    public void close() {
        try {
            out.write(0xe0);
            out.write(0);
            out.flush();
        } catch (IOException e) {
            // closing anyway
        }
        try {
            socket.close();
        } catch (IOException e) {
            // closed
        }
    }

    private static int receiveMaximum(byte[] connack) {
        int at = 2;
        int[] length = varInt(connack, at);
        at = length[1];
        int end = at + length[0];
        while (at < end) {
            int id = connack[at++] & 0xff;
            if (id == RECEIVE_MAXIMUM) {
                return packetId(connack, at);
            }
            switch (id) {
                case 0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2a -> at += 1;
                case 0x13, 0x22, 0x23 -> at += 2;
                case 0x02, 0x11, 0x18, 0x27 -> at += 4;
                case 0x0b -> at = varInt(connack, at)[1];
                case 0x26 -> {
                    at += 2 + packetId(connack, at);
                    at += 2 + packetId(connack, at);
                }
                default -> at += 2 + packetId(connack, at); // strings and binary data
            }
        }
        return 65535;
    }

    private static int[] varInt(byte[] bytes, int at) {
        int value = 0;
        int shift = 0;
        int b;
        do {
            b = bytes[at++] & 0xff;
            value |= (b & 0x7f) << shift;
            shift += 7;
        } while ((b & 0x80) != 0);
        return new int[] {value, at};
    }

    private static void packet(OutputStream out, int header, byte[] body) throws IOException {
        out.write(header);
        varInt(out, body.length);
        out.write(body);
    }

    private static void varInt(OutputStream out, int value) throws IOException {
        do {
            int b = value & 0x7f;
            value >>>= 7;
            out.write(value > 0 ? b | 0x80 : b);
        } while (value > 0);
    }

    private static void string(OutputStream out, String s) throws IOException {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        out.write(bytes.length >> 8);
        out.write(bytes.length & 0xff);
        out.write(bytes);
    }
}

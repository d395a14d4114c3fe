package dev.metamorphosis.bench;

import java.io.IOException;
import java.io.UncheckedIOException;

import dev.metamorphosis.it.Wire;

/**
 * A plain MQTT subscriber, the raw limit the bridge is measured against: one connection, one subscription, every
 * QoS 1 message acknowledged as soon as it is read (acknowledgements go out when nothing more waits to be read). It
 * counts what arrives and when, without checking the order, at as little cost as it can.
 */
final class PlainSubscriber implements Subscriber {

    private final Tally tally = new Tally();
    private final Wire wire;
    private final Thread reader;
    private volatile Throwable failure;

    PlainSubscriber(String host, int port, String filter, int qos, int receiveMaximum) {
        try {
            wire = new Wire(host, port, "bench-sub-" + System.nanoTime(), receiveMaximum);
            wire.subscribe(filter, qos);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        reader = new Thread(this::read, "bench-sub");
        reader.setDaemon(true);
        reader.start();
    }

    private void read() {
        try {
            while (true) {
                Wire.Packet p = wire.read();
                if (p.type() != Wire.PUBLISH) {
                    continue;
                }
                long now = System.currentTimeMillis();
                byte[] body = p.body();
                int qos = p.flags() >> 1 & 3;
                int at = 2 + Wire.packetId(body, 0);
                int id = 0;
                if (qos > 0) {
                    id = Wire.packetId(body, at);
                    at += 2;
                }
                int propertiesLength = 0;
                int shift = 0;
                int b;
                do {
                    b = body[at++] & 0xff;
                    propertiesLength |= (b & 0x7f) << shift;
                    shift += 7;
                } while ((b & 0x80) != 0);
                at += propertiesLength;
                tally.add(null, Stamp.read(body, at), now);
                if (qos > 0) {
                    wire.puback(id);
                }
                if (wire.in.available() == 0) {
                    wire.out.flush();
                }
            }
        } catch (IOException | RuntimeException e) {
            failure = e;
        }
    }

    @Override
    public Tally tally() {
        return tally;
    }

    /** Set when the connection failed (or was closed). */
    @Override
    public Throwable failure() {
        return failure;
    }

    @Override
    public void close() {
        wire.close();
        try {
            reader.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

package dev.metamorphosis.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A fast MQTT publisher (the benchmark's, and the durable delivery tests' at thousands of messages a second): several
 * MQTT connections ({@link Wire}), each with its own writer thread and, at QoS 1, a reader thread for the PUBACKs, so
 * publishes are pipelined up to a window per connection (never more than the broker's receive maximum). Message
 * {@code n} goes to topic {@code n % topics}; a topic belongs to one connection when there are at least as many topics
 * as connections, so the order per topic is defined. What a payload holds is the caller's ({@link Content}).
 */
public final class Load {

    /**
     * One publishing run: when it began and ended (the last PUBACK at QoS 1, the last write at QoS 0), and at QoS 1 when
     * each connection had its last PUBACK (0 at QoS 0).
     */
    public record Run(long count, long startMillis, long endMillis, long[] connectionEnds) {
        /** Messages a second, from the first publish to the end. */
        public double rate() {
            return count * 1000.0 / Math.max(1, endMillis - startMillis);
        }

        /** Seconds from the first publish to each connection's last acknowledgement, in order: "1.62, 1.63, 2.17". */
        public String connectionsDone() {
            StringBuilder out = new StringBuilder();
            for (long e : connectionEnds) {
                out.append(out.isEmpty() ? "" : ", ")
                        .append(String.format(Locale.ROOT, "%.2f", (e - startMillis) / 1000.0));
            }
            return out.toString();
        }
    }

    private final String host;
    private final int port;
    private final int connections;
    private final int window;

    /** The payloads of a run, written into one buffer per connection just before each publish. */
    public interface Content {
        /** A new payload buffer for one connection. */
        byte[] buffer();

        /** Writes message {@code n} of the run, number {@code seq} of its connection, into the buffer. */
        void write(byte[] payload, int connection, int seq, int n);
    }

    public Load(String host, int port, int connections, int window) {
        this.host = host;
        this.port = port;
        this.connections = connections;
        this.window = window;
    }

    /**
     * Publishes {@code count} messages to {@code prefix/t0}, or with several topics to {@code prefix/g0/t0,
     * prefix/g1/t1, prefix/g2/t2, prefix/g0/t3 .. prefix/g<n%3>/t<topics-1>}, as fast as the window allows
     * ({@code perSecond} 0) or at a steady total rate, and returns once the broker has acknowledged all of them.
     */
    public Run publish(String prefix, int topics, int count, int qos, int perSecond, Content content) {
        byte[][] names = new byte[topics][];
        for (int t = 0; t < topics; t++) {
            // with many topics, three groups of them (a topic map can tell them apart by a level)
            names[t] = (prefix + (topics > 1 ? "/g" + t % 3 : "") + "/t" + t).getBytes(StandardCharsets.UTF_8);
        }
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicLong end = new AtomicLong();
        long[] ends = new long[connections];
        List<Thread> threads = new ArrayList<>();
        List<Wire> wires = new ArrayList<>();
        long start = System.currentTimeMillis();
        try {
            for (int c = 0; c < connections; c++) {
                Wire wire = new Wire(host, port, "bench-pub-" + c + "-" + System.nanoTime(), 0);
                wire.socket.setSoTimeout(120_000); // a broker that stops acknowledging fails the run
                wires.add(wire);
            }
            start = System.currentTimeMillis();
            for (int c = 0; c < connections; c++) {
                int connection = c;
                Wire wire = wires.get(c);
                Semaphore permits = new Semaphore(Math.min(window, wire.brokerReceiveMaximum));
                int mine = 0;
                for (int n = 0; n < count; n++) {
                    mine += owner(n, topics) == connection ? 1 : 0;
                }
                int expected = mine;
                if (qos > 0) {
                    threads.add(thread("bench-acks-" + c, failure, () -> {
                        for (int acked = 0; acked < expected; ) {
                            Wire.Packet p = wire.read();
                            if (p.type() == Wire.PUBACK) {
                                acked++;
                                permits.release();
                            } else if (p.type() == Wire.DISCONNECT) {
                                throw new IOException("the broker disconnected the publisher");
                            }
                        }
                        ends[connection] = System.currentTimeMillis();
                        end.accumulateAndGet(ends[connection], Math::max);
                    }));
                }
                threads.add(thread("bench-pub-" + c, failure, () -> {
                    byte[] payload = content.buffer();
                    long interval = perSecond > 0 ? TimeUnit.SECONDS.toNanos(1) * connections / perSecond : 0;
                    long due = System.nanoTime();
                    int seq = 0;
                    int id = 0;
                    for (int n = 0; n < count; n++) {
                        if (owner(n, topics) != connection) {
                            continue;
                        }
                        if (qos > 0 && !permits.tryAcquire()) {
                            wire.out.flush();
                            while (!permits.tryAcquire(1, TimeUnit.SECONDS)) {
                                if (failure.get() != null) {
                                    return;
                                }
                            }
                        }
                        if (interval > 0) {
                            due += interval;
                            long wait = due - System.nanoTime();
                            if (wait > 0) {
                                TimeUnit.NANOSECONDS.sleep(wait);
                            }
                        }
                        content.write(payload, connection, seq++, n);
                        id = id % 65535 + 1;
                        wire.publish(names[n % topics], qos, id, payload);
                        if (interval > 0) {
                            wire.out.flush();
                        }
                    }
                    wire.out.flush();
                    if (qos == 0) {
                        end.accumulateAndGet(System.currentTimeMillis(), Math::max);
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            wires.forEach(Wire::close);
        }
        if (failure.get() != null) {
            throw new IllegalStateException("publisher failed", failure.get());
        }
        return new Run(count, start, end.get(), ends);
    }

    private int owner(int n, int topics) {
        return topics >= connections ? n % topics % connections : n % connections;
    }

    @FunctionalInterface
    interface Work {
        void run() throws Exception;
    }

    private static Thread thread(String name, AtomicReference<Throwable> failure, Work work) {
        Thread t = new Thread(() -> {
            try {
                work.run();
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }
}

package dev.metamorphosis;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The QoS 1 acknowledgements (PUBACK) of one MQTT client, sent by a thread of their own: those that gather while it
 * sends go in one burst. Paho's {@code messageArrivedComplete} queues the PUBACK and wakes Paho's sender thread for
 * it; called from the thread that takes the messages in (buffered delivery acknowledges each message as it arrives),
 * it costs that thread one wake-up of the sender a message, and the sender one write a message.
 * <p>
 * {@link #close} sends what is queued, and from then on {@link #add} sends on the caller's thread, as before: the
 * subscriber closes this before it disconnects, so no acknowledgement handed over is left behind.
 */
final class Acknowledgements {

    private static final Logger LOG = LoggerFactory.getLogger("mqtt");

    private final IntConsumer send;
    private final Thread sender;
    private final ArrayDeque<Integer> queue = new ArrayDeque<>();
    private boolean waiting;
    private boolean closed;

    /** {@code send} sends the acknowledgement of one message id, and logs its own failures. */
    Acknowledgements(IntConsumer send, String name) {
        this.send = send;
        this.sender = new Thread(this::run, name);
        sender.setDaemon(true);
        sender.start();
    }

    /** Hands the acknowledgement of message {@code id} to the sender thread (once closed: sends it now). */
    void add(int id) {
        synchronized (this) {
            if (!closed) {
                queue.addLast(id);
                if (waiting) {
                    waiting = false;
                    notify();
                }
                return;
            }
        }
        send.accept(id);
    }

    /** Sends what is queued, then stops the thread; waits at most {@code millis} for it. */
    void close(long millis) throws InterruptedException {
        synchronized (this) {
            closed = true;
            notify();
        }
        sender.join(millis);
    }

    private void run() {
        List<Integer> burst = new ArrayList<>();
        while (true) {
            synchronized (this) {
                while (queue.isEmpty()) {
                    if (closed) {
                        return;
                    }
                    waiting = true;
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        closed = true; // the JVM is going: what is queued still goes below
                    }
                }
                burst.addAll(queue);
                queue.clear();
            }
            for (int id : burst) {
                try {
                    send.accept(id);
                } catch (RuntimeException e) { // one that fails must not stop those behind it
                    LOG.warn("Could not acknowledge MQTT message {}: {} (the broker delivers it again)", id,
                            e.toString());
                }
            }
            burst.clear();
        }
    }
}

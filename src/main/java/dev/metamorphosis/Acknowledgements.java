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
 * it costs that thread one wake-up of the sender a message, and the sender one write a message. Where the connection
 * is the bridge's own ({@link SocketWriter}), a burst goes out as one write of its PUBACKs, past Paho's sender.
 * <p>
 * {@link #close} sends what is queued, and from then on {@link #add} sends on the caller's thread, as before: the
 * subscriber closes this before it disconnects, so no acknowledgement handed over is left behind.
 */
final class Acknowledgements {

    private static final Logger LOG = LoggerFactory.getLogger("mqtt");

    /** Sends a burst in one go (the bridge's own PUBACKs, see {@link SocketWriter#writePackets}), or says it cannot. */
    interface Burst {
        /** Sends the acknowledgements of these message ids, and logs its own failures; false when it sent none. */
        boolean send(List<Integer> ids);
    }

    private final IntConsumer send;
    private final Burst atOnce;
    private final Thread sender;
    private final ArrayDeque<Integer> queue = new ArrayDeque<>();
    private boolean waiting;
    private boolean closed;

    /** {@code send} sends the acknowledgement of one message id, and logs its own failures. */
    Acknowledgements(IntConsumer send, String name) {
        this(send, ids -> false, name);
    }

    /** As above, and each burst goes to {@code burst} first, one by one to {@code send} when it cannot take it. */
    Acknowledgements(IntConsumer send, Burst burst, String name) {
        this.send = send;
        this.atOnce = burst;
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

    private boolean sentAtOnce(List<Integer> ids) {
        try {
            return atOnce.send(ids);
        } catch (RuntimeException e) {
            LOG.debug("Could not send {} acknowledgement(s) at once: {}; one by one instead", ids.size(), e.toString());
            return false;
        }
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
            if (!sentAtOnce(burst)) {
                for (int id : burst) {
                    try {
                        send.accept(id);
                    } catch (RuntimeException e) { // one that fails must not stop those behind it
                        LOG.warn("Could not acknowledge MQTT message {}: {} (the broker delivers it again)", id,
                                e.toString());
                    }
                }
            }
            burst.clear();
        }
    }
}

package dev.metamorphosis;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
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
 * Where the connection reads ahead ({@link ClientSockets#moreBuffered}), an acknowledgement handed over on the thread
 * that takes the messages in, while more of the broker's packets wait in its buffer, does not wake this thread: those
 * of a read burst go together, with the last message read, once that thread is about to read the socket again
 * ({@link #release}), or after at most the hold given (its route waits for room in the spool, say). Buffered delivery
 * so wakes this thread, and it the socket's writer, once a read burst instead of once a message (docs/performance.md,
 * runs ab1 to ab7: no cap on a burst was measured better, also with a window of 20 messages in flight).
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
    private final BooleanSupplier moreFollow;
    private final long holdMillis;
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
        this(send, burst, () -> false, 0, name);
    }

    /**
     * As above, and while {@code moreFollow} says so on the caller's thread, {@link #add} leaves the acknowledgement
     * queued without waking the sender, for {@link #release} or at most {@code holdMillis} (above 0).
     */
    Acknowledgements(IntConsumer send, Burst burst, BooleanSupplier moreFollow, long holdMillis, String name) {
        this.send = send;
        this.atOnce = burst;
        this.moreFollow = moreFollow;
        this.holdMillis = holdMillis;
        this.sender = new Thread(this::run, name);
        sender.setDaemon(true);
        sender.start();
    }

    /**
     * Hands the acknowledgement of message {@code id} to the sender thread (once closed: sends it now); leaves it
     * queued while more messages follow at once (see the class).
     */
    void add(int id) {
        boolean more = moreFollow.getAsBoolean(); // asked outside the lock: about the caller's own connection
        synchronized (this) {
            if (!closed) {
                queue.addLast(id);
                if (waiting && !more) {
                    waiting = false;
                    notify();
                }
                return;
            }
        }
        send.accept(id);
    }

    /** Wakes the sender for what is queued: the thread that takes the messages in is about to read the socket. */
    synchronized void release() {
        if (waiting && !queue.isEmpty()) {
            waiting = false;
            notify();
        }
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
                        wait(holdMillis); // 0: until woken; else wakes to send what was held past its bound
                    } catch (InterruptedException e) {
                        closed = true; // the JVM is going: what is queued still goes below
                    }
                    waiting = false;
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

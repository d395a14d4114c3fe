package dev.metamorphosis;

import java.util.AbstractQueue;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Stream;

import org.apache.camel.Exchange;
import org.apache.camel.component.seda.BlockingQueueFactory;
import org.apache.camel.spi.Synchronization;

/**
 * The queue of {@code seda:spool}, which holds each spooled envelope in a compact form, {@link Spooled}: its bytes and
 * the few fields its Kafka record needs, not a Camel exchange with its message, headers and properties (a third of the
 * heap). {@link Spool} puts envelopes in; the route {@code kafka-batch} takes each out as an exchange made as it
 * leaves, so the exchange of an envelope lives only while it joins its batch; {@link Batch} takes the envelopes
 * behind it straight from here ({@link #nextSpooled}), so the route runs once a batch rather than once an envelope.
 * Anything else sent to {@code seda:spool} (the flush timer's exchange, the shutdown's) passes through as it is.
 * <p>
 * Set as the SEDA component's {@code defaultQueueFactory} by {@link Settings#configure}: {@code seda:spool} is the only
 * SEDA queue.
 */
public final class SpoolQueue extends AbstractQueue<Exchange> implements BlockingQueue<Exchange> {

    /**
     * A spooled envelope: its bytes, MQTT topic, Kafka topic and key when the route set them, its record headers as the
     * bytes Kafka writes, when its message arrived, its MQTT acknowledgement when that waits for Kafka
     * (at-least-once), and, in durable delivery, where its record ends in the log, its bytes there and its order.
     */
    record Spooled(byte[] value, String mqttTopic, String kafkaTopic, byte[] key, List<Map.Entry<String, byte[]>> headers,
                   long arrived, List<Synchronization> acks, long end, int frame, long seq) {
    }

    private final LinkedBlockingQueue<Object> items = new LinkedBlockingQueue<>();
    /**
     * How many envelopes must wait before the thread of {@code seda:spool} is woken for them: 1 (each) but in buffered
     * delivery, where a batch waits to fill, and that thread, woken for each envelope, took it alone and waited again
     * (a wake-up of a thread a message: docs/performance.md, runs pf1 and p100). See {@link #wanted(int)}.
     */
    private volatile int wanted = 1;
    /** Exchanges other than envelopes' in {@link #items} (the flush timer's, the shutdown's): they wake it at once. */
    private final AtomicInteger others = new AtomicInteger();
    /** What the thread of {@code seda:spool} waits on in {@link #poll(long, TimeUnit)}. */
    private final Object arrivals = new Object();
    private volatile boolean waiting;
    /**
     * An exchange other than an envelope's that {@link #nextSpooled} took out: it leaves first, to the route. Only the
     * one thread of {@code seda:spool} takes items out of the queue's front, so only it sets this.
     */
    private volatile Exchange front;
    private volatile Function<Spooled, Exchange> exchanges;

    /** How a spooled envelope becomes the exchange it leaves as (set by {@link Spool} before it puts any in). */
    void exchanges(Function<Spooled, Exchange> exchanges) {
        this.exchanges = exchanges;
    }

    /**
     * Wakes the thread of {@code seda:spool} from now on once {@code envelopes} wait (1: for each), or at once for any
     * other exchange; it wakes by itself after its poll's timeout (SEDA's, a second) whatever waits.
     */
    void wanted(int envelopes) {
        wanted = Math.max(1, envelopes);
    }

    /** Puts a spooled envelope in. */
    void put(Spooled spooled) {
        items.offer(spooled);
        if (waiting && items.size() >= wanted) {
            wake();
        }
    }

    private void putOther(Exchange exchange) {
        others.incrementAndGet();
        items.offer(exchange);
        wake();
    }

    private void wake() {
        synchronized (arrivals) {
            arrivals.notifyAll();
        }
    }

    /** Takes the front item of {@link #items} out, or null. */
    private Object next() {
        Object item = items.poll();
        if (item != null && !(item instanceof Spooled)) {
            others.decrementAndGet();
        }
        return item;
    }

    /** Takes the oldest spooled envelope out as it is, or null when none waits (anything else in front is dropped). */
    Spooled pollSpooled() {
        Object item;
        while ((item = next()) != null) {
            if (item instanceof Spooled s) {
                return s;
            }
        }
        return null;
    }

    /**
     * The next envelope, when the next item is one, as the exchange it leaves as; else null, and an exchange that is
     * next (the flush timer's) stays next. For the thread of {@code seda:spool}, which also runs {@link Batch}.
     */
    Exchange nextSpooled() {
        if (front != null) {
            return null;
        }
        Object item = next();
        if (item instanceof Spooled s) {
            return exchanges.apply(s);
        }
        front = (Exchange) item;
        return null;
    }

    /** Takes out what {@link #nextSpooled} left at the front, if anything. */
    private Exchange takeFront() {
        Exchange f = front;
        if (f != null) {
            front = null;
        }
        return f;
    }

    /** When the oldest envelope waiting arrived from MQTT; 0 when none waits. */
    long oldestArrived() {
        for (Object item : items) {
            if (item instanceof Spooled s) {
                return s.arrived();
            }
        }
        return 0;
    }

    private Exchange exchange(Object item) {
        return item instanceof Spooled s ? exchanges.apply(s) : (Exchange) item;
    }

    @Override
    public boolean offer(Exchange exchange) {
        putOther(exchange);
        return true;
    }

    @Override
    public boolean offer(Exchange exchange, long timeout, TimeUnit unit) {
        putOther(exchange);
        return true;
    }

    @Override
    public void put(Exchange exchange) {
        putOther(exchange);
    }

    @Override
    public Exchange poll() {
        Exchange f = takeFront();
        if (f != null) {
            return f;
        }
        Object item = next();
        return item == null ? null : exchange(item);
    }

    /**
     * The next exchange, once {@link #wanted} envelopes or any other exchange wait, or, after the timeout, whatever is
     * next (null when nothing is).
     */
    @Override
    public Exchange poll(long timeout, TimeUnit unit) throws InterruptedException {
        Exchange f = takeFront();
        if (f != null) {
            return f;
        }
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        synchronized (arrivals) {
            waiting = true;
            try {
                long left;
                while (items.size() < wanted && others.get() == 0 && (left = deadline - System.nanoTime()) > 0) {
                    TimeUnit.NANOSECONDS.timedWait(arrivals, left);
                }
            } finally {
                waiting = false;
            }
        }
        Object item = next();
        return item == null ? null : exchange(item);
    }

    @Override
    public Exchange take() throws InterruptedException {
        while (true) {
            Exchange e = poll(1, TimeUnit.SECONDS);
            if (e != null) {
                return e;
            }
        }
    }

    @Override
    public Exchange peek() {
        Exchange f = front;
        if (f != null) {
            return f;
        }
        Object item = items.peek();
        return item == null ? null : exchange(item);
    }

    @Override
    public int size() {
        return items.size() + (front != null ? 1 : 0);
    }

    @Override
    public boolean isEmpty() {
        return front == null && items.isEmpty();
    }

    @Override
    public boolean remove(Object o) {
        if (o != null && o == front) {
            front = null;
            return true;
        }
        boolean removed = items.remove(o);
        if (removed && !(o instanceof Spooled)) {
            others.decrementAndGet();
        }
        return removed;
    }

    @Override
    public void clear() {
        front = null;
        items.clear();
        others.set(0);
    }

    @Override
    public int remainingCapacity() {
        return Integer.MAX_VALUE;
    }

    @Override
    public int drainTo(Collection<? super Exchange> c) {
        return drainTo(c, Integer.MAX_VALUE);
    }

    @Override
    public int drainTo(Collection<? super Exchange> c, int maxElements) {
        List<Object> drained = new ArrayList<>();
        Exchange f = maxElements > 0 ? takeFront() : null;
        if (f != null) {
            drained.add(f);
        }
        items.drainTo(drained, maxElements - drained.size());
        for (Object item : drained) {
            if (!(item instanceof Spooled) && item != f) { // the front was counted out as it left the items
                others.decrementAndGet();
            }
        }
        drained.forEach(item -> c.add(exchange(item)));
        return drained.size();
    }

    /** What is waiting, each made an exchange as it is read (Camel's browsing of the endpoint). */
    @Override
    public Iterator<Exchange> iterator() {
        Exchange f = front;
        Iterator<Object> it = f == null ? items.iterator()
                : Stream.concat(Stream.of((Object) f), items.stream()).iterator();
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public Exchange next() {
                return exchange(it.next());
            }
        };
    }

    /** The SEDA component's queue factory: every SEDA queue is a spool queue (there is one, {@code seda:spool}). */
    public static final class Factory implements BlockingQueueFactory<Exchange> {
        @Override
        public BlockingQueue<Exchange> create() {
            return new SpoolQueue();
        }

        @Override
        public BlockingQueue<Exchange> create(int capacity) {
            return new SpoolQueue();
        }
    }
}

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
import java.util.function.Function;

import org.apache.camel.Exchange;
import org.apache.camel.component.seda.BlockingQueueFactory;
import org.apache.camel.spi.Synchronization;

/**
 * The queue of {@code seda:spool}, which holds each spooled envelope in a compact form, {@link Spooled}: its bytes and
 * the few fields its Kafka record needs, not a Camel exchange with its message, headers and properties (a third of the
 * heap). {@link Spool} puts envelopes in; the route {@code kafka-batch} takes each out as an exchange made as it
 * leaves, so the exchange of an envelope lives only while it joins its batch. Anything else sent to
 * {@code seda:spool} (the flush timer's exchange) passes through as it is.
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
    private volatile Function<Spooled, Exchange> exchanges;

    /** How a spooled envelope becomes the exchange it leaves as (set by {@link Spool} before it puts any in). */
    void exchanges(Function<Spooled, Exchange> exchanges) {
        this.exchanges = exchanges;
    }

    /** Puts a spooled envelope in. */
    void put(Spooled spooled) {
        items.offer(spooled);
    }

    /** Takes the oldest spooled envelope out as it is, or null when none waits (anything else in front is dropped). */
    Spooled pollSpooled() {
        Object item;
        while ((item = items.poll()) != null) {
            if (item instanceof Spooled s) {
                return s;
            }
        }
        return null;
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
        return items.offer(exchange);
    }

    @Override
    public boolean offer(Exchange exchange, long timeout, TimeUnit unit) {
        return items.offer(exchange);
    }

    @Override
    public void put(Exchange exchange) {
        items.offer(exchange);
    }

    @Override
    public Exchange poll() {
        Object item = items.poll();
        return item == null ? null : exchange(item);
    }

    @Override
    public Exchange poll(long timeout, TimeUnit unit) throws InterruptedException {
        Object item = items.poll(timeout, unit);
        return item == null ? null : exchange(item);
    }

    @Override
    public Exchange take() throws InterruptedException {
        return exchange(items.take());
    }

    @Override
    public Exchange peek() {
        Object item = items.peek();
        return item == null ? null : exchange(item);
    }

    @Override
    public int size() {
        return items.size();
    }

    @Override
    public boolean isEmpty() {
        return items.isEmpty();
    }

    @Override
    public boolean remove(Object o) {
        return items.remove(o);
    }

    @Override
    public void clear() {
        items.clear();
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
        items.drainTo(drained, maxElements);
        drained.forEach(item -> c.add(exchange(item)));
        return drained.size();
    }

    /** What is waiting, each made an exchange as it is read (Camel's browsing of the endpoint). */
    @Override
    public Iterator<Exchange> iterator() {
        Iterator<Object> it = items.iterator();
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

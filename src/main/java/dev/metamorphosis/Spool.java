package dev.metamorphosis;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.component.seda.SedaEndpoint;
import org.apache.kafka.common.record.AbstractRecords;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The spool: every envelope received from MQTT and not yet in Kafka, in the SEDA queue {@code spool} or in the batch
 * being filled or written. The ingest routes have it {@link #process admit} an envelope before they queue it, bean
 * {@code batch} calls {@link #take} when it moves one into the batch, and the write route {@link #written} once Kafka
 * has the batch.
 * <p>
 * The queue is bounded by {@code SPOOL_MAX_MESSAGES} and {@code SPOOL_MAX_BYTES} (the batch being filled or written
 * holds at most {@code KAFKA_MAX_BATCH_SIZE} more). When full, {@code block} holds the MQTT client until there is
 * room; {@code drop-oldest} and {@code drop-newest} (buffered delivery only) drop, count and log at most every 10 s.
 * In {@code buffered} delivery a message is acknowledged to MQTT when it is admitted; in {@code at-least-once} its
 * acknowledgement travels with it into its batch (see {@link Batch}). Once the bridge is closing, nothing is admitted
 * and nothing refused is acknowledged, so the broker delivers it again after a restart.
 * An envelope larger than the Kafka producer takes is not admitted but set aside at once (see {@link DeadLetter}).
 */
public final class Spool implements CamelContextAware, Processor {

    static final String BYTES = "metamorphosis.bytes";
    private static final Logger LOG = LoggerFactory.getLogger("bridge");
    private static final long DROP_LOG_MILLIS = 10_000;
    /** Below this much under the limit, the record's framing cannot make it too large. */
    private static final int RECORD_OVERHEAD = 1024;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition room = lock.newCondition();
    private final AtomicLong dropped = new AtomicLong();
    private long messages;
    private long bytes;
    private long queued;
    private long queuedBytes;
    private long droppedSinceLog;
    private long lastDropLog;
    private volatile long batchOldest;
    private volatile boolean closing;
    private volatile BlockingQueue<Exchange> queue;
    private CamelContext context;

    private boolean atLeastOnce = true;
    private long maxMessages = Long.MAX_VALUE;
    private long maxBytes = Long.MAX_VALUE;
    private String overflow = "block";
    private int batchSize = 1000;
    private int maxBatchSize = 8000;
    private int maxRequestSize = Integer.MAX_VALUE;

    /**
     * Admits an envelope into the spool, waiting for room or dropping as {@code SPOOL_OVERFLOW} says. An envelope
     * that is not to be queued goes no further: its route stops here.
     */
    @Override
    public void process(Exchange exchange) throws InterruptedException {
        if (!admit(exchange)) {
            exchange.setRouteStop(true);
        }
    }

    /** Admits an envelope, or returns false when it is not to be queued. */
    private boolean admit(Exchange exchange) throws InterruptedException {
        byte[] envelope = exchange.getMessage().getBody(byte[].class);
        long size = envelope == null ? 0 : envelope.length;
        exchange.setProperty(BYTES, size);
        if (!closing && tooLarge(envelope)) {
            context.getRegistry().lookupByNameAndType("deadLetter", DeadLetter.class).setAside(exchange,
                    "RecordTooLargeException: the record would be larger than the producer's max.request.size of "
                    + maxRequestSize + " bytes");
            acknowledge(exchange);
            return false;
        }
        lock.lockInterruptibly();
        try {
            while (!closing && full(size)) {
                if ("drop-newest".equals(overflow)) {
                    dropped(1, "newest");
                    acknowledge(exchange);
                    return false;
                }
                if ("drop-oldest".equals(overflow) && dropOldest()) {
                    continue;
                }
                room.await(1, TimeUnit.SECONDS);
            }
            if (closing) {
                Batch.detach(exchange); // never acknowledged: the broker delivers it again
                return false;
            }
            messages++;
            bytes += size;
            queued++;
            queuedBytes += size;
        } finally {
            lock.unlock();
        }
        if (atLeastOnce) {
            Batch.hold(exchange);
        } else {
            acknowledge(exchange);
        }
        return true;
    }

    /** Whether Kafka's producer would refuse this envelope as a record, as it measures records. */
    private boolean tooLarge(byte[] envelope) {
        return envelope != null && envelope.length + RECORD_OVERHEAD > maxRequestSize
               && AbstractRecords.estimateSizeInBytesUpperBound(RecordBatch.CURRENT_MAGIC_VALUE, CompressionType.NONE,
                       null, ByteBuffer.wrap(envelope), Record.EMPTY_HEADERS) > maxRequestSize;
    }

    /**
     * Room for one more envelope of this size in the queue; one envelope always goes into an empty queue. The batch
     * being filled or written holds at most {@code KAFKA_MAX_BATCH_SIZE} more.
     */
    private boolean full(long size) {
        return queued >= maxMessages || queued > 0 && queuedBytes + size > maxBytes;
    }

    /** Drops the oldest envelope still in the queue (not one in the batch being written). */
    private boolean dropOldest() {
        Exchange oldest;
        while ((oldest = queue().poll()) != null) {
            Long size = oldest.getProperty(BYTES, Long.class);
            if (size != null) {
                messages--;
                bytes -= size;
                queued--;
                queuedBytes -= size;
                dropped(1, "oldest");
                return true;
            }
        }
        return false;
    }

    private void dropped(long count, String which) {
        dropped.addAndGet(count);
        droppedSinceLog += count;
        long now = System.currentTimeMillis();
        if (now - lastDropLog >= DROP_LOG_MILLIS) {
            LOG.warn("Spool full ({} messages, {} bytes waiting; SPOOL_MAX_MESSAGES={}, SPOOL_MAX_BYTES={}): dropped "
                     + "the {} {} message(s) since the last report, {} in all", queued, queuedBytes, maxMessages,
                    maxBytes, which,
                    droppedSinceLog, dropped.get());
            lastDropLog = now;
            droppedSinceLog = 0;
        }
    }

    /** Runs the exchange's completion work now: the MQTT acknowledgement. */
    private static void acknowledge(Exchange exchange) {
        Batch.detach(exchange).forEach(s -> s.onComplete(exchange));
    }

    /** An envelope leaves the queue for the open batch. */
    public void take(Exchange exchange) {
        Long size = exchange.getProperty(BYTES, Long.class);
        if (size == null) {
            return; // the flush marker
        }
        if (batchOldest == 0) {
            batchOldest = exchange.getClock().getCreated();
        }
        lock.lock();
        try {
            queued--;
            queuedBytes -= size;
            room.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Kafka has acknowledged a batch (or its records were set aside): they leave the spool. */
    public void written(List<Exchange> records) {
        long newest = 0;
        for (Exchange record : records) {
            newest = Math.max(newest, record.getClock().getCreated());
        }
        if (batchOldest <= newest) {
            batchOldest = 0; // unless the next batch has begun already
        }
        release(records);
    }

    /** Envelopes that left the spool other than by a batch write: set aside as poison. */
    void release(List<Exchange> records) {
        long size = 0;
        for (Exchange record : records) {
            size += record.getProperty(BYTES, 0L, Long.class);
        }
        lock.lock();
        try {
            messages -= records.size();
            bytes -= size;
            room.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The size a batch may reach: larger while a backlog waits behind it, up to {@code KAFKA_MAX_BATCH_SIZE}. */
    public int batchSize() {
        return queue().size() > batchSize ? Math.max(batchSize, maxBatchSize) : batchSize;
    }

    /**
     * In at-least-once delivery a batch is also complete when nothing more waits in the queue. The MQTT broker sends
     * only so many messages before it waits for their acknowledgements (HiveMQ 50, Mosquitto 20 to begin with), and
     * those wait for the batch: so the batch takes what came while the previous one was being written, and goes.
     */
    public boolean drained() {
        return atLeastOnce && queue().isEmpty();
    }

    /** From now on nothing is admitted; MQTT clients waiting for room are let go. */
    public void close() {
        lock.lock();
        try {
            closing = true;
            room.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits up to the given time for the spool to be empty; returns the envelopes still in it. */
    public long awaitEmpty(long millis) {
        long left = TimeUnit.MILLISECONDS.toNanos(millis);
        lock.lock();
        try {
            while (messages > 0 && left > 0) {
                left = room.awaitNanos(left);
            }
            return messages;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return messages;
        } finally {
            lock.unlock();
        }
    }

    /** Envelopes received and not yet in Kafka. */
    public long messages() {
        lock.lock();
        try {
            return messages;
        } finally {
            lock.unlock();
        }
    }

    /** Bytes of those envelopes. */
    public long bytes() {
        lock.lock();
        try {
            return bytes;
        } finally {
            lock.unlock();
        }
    }

    /** Whether acknowledgements wait for Kafka ({@code DELIVERY=at-least-once}). */
    public boolean atLeastOnce() {
        return atLeastOnce;
    }

    /** Envelopes dropped because the spool was full, since start. */
    public long dropped() {
        return dropped.get();
    }

    /** Milliseconds since the oldest envelope in the spool arrived from MQTT; 0 when the spool is empty. */
    public long oldestAgeMillis() {
        long oldest = batchOldest;
        if (oldest == 0) {
            for (Exchange waiting : queue()) {
                if (waiting.getProperty(BYTES) != null) {
                    oldest = waiting.getClock().getCreated();
                    break;
                }
            }
        }
        return oldest == 0 ? 0 : Math.max(0, System.currentTimeMillis() - oldest);
    }

    private BlockingQueue<Exchange> queue() {
        if (queue == null) {
            queue = context.getEndpoint("seda:spool", SedaEndpoint.class).getQueue();
        }
        return queue;
    }

    public void setDelivery(String delivery) {
        this.atLeastOnce = !"buffered".equals(delivery);
    }

    public void setMaxMessages(long maxMessages) {
        this.maxMessages = maxMessages;
    }

    public void setMaxBytes(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    public void setOverflow(String overflow) {
        this.overflow = overflow;
    }

    public void setBatchSize(int batchSize) {
        this.batchSize = batchSize;
    }

    public void setMaxBatchSize(int maxBatchSize) {
        this.maxBatchSize = maxBatchSize;
    }

    public void setMaxRequestSize(int maxRequestSize) {
        this.maxRequestSize = maxRequestSize;
    }

    @Override
    public void setCamelContext(CamelContext camelContext) {
        this.context = camelContext;
    }

    @Override
    public CamelContext getCamelContext() {
        return context;
    }
}

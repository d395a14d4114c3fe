package dev.metamorphosis;

import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.Exchange;
import org.apache.camel.component.seda.SedaEndpoint;

/**
 * The spool: every envelope received from MQTT and not yet acknowledged by Kafka, in the SEDA queue {@code spool}
 * or in the batch being filled or written. The ingest routes call {@link #add} before they queue an envelope, the
 * batch route {@link #take} when it moves one into the batch and {@link #written} once Kafka has the batch.
 * Batches are filled and written one at a time, so the oldest envelope is the first of the open batch, or else the
 * head of the queue.
 */
public final class Spool implements CamelContextAware {

    static final String BYTES = "metamorphosis.bytes";

    private final AtomicLong messages = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private volatile long batchOldest;
    private CamelContext context;
    private volatile BlockingQueue<Exchange> queue;

    /** An envelope enters the spool. */
    public void add(Exchange exchange) {
        byte[] envelope = exchange.getMessage().getBody(byte[].class);
        long size = envelope == null ? 0 : envelope.length;
        exchange.setProperty(BYTES, size);
        messages.incrementAndGet();
        bytes.addAndGet(size);
    }

    /** An envelope leaves the queue for the open batch. */
    public void take(Exchange exchange) {
        if (batchOldest == 0 && exchange.getProperty(BYTES) != null) {
            batchOldest = exchange.getClock().getCreated();
        }
    }

    /** Kafka has acknowledged a batch: its envelopes leave the spool. */
    public void written(List<Exchange> records) {
        long size = 0;
        for (Exchange record : records) {
            size += record.getProperty(BYTES, 0L, Long.class);
        }
        batchOldest = 0;
        messages.addAndGet(-records.size());
        bytes.addAndGet(-size);
    }

    /** Envelopes received and not yet in Kafka. */
    public long messages() {
        return messages.get();
    }

    /** Bytes of those envelopes. */
    public long bytes() {
        return bytes.get();
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

    @Override
    public void setCamelContext(CamelContext camelContext) {
        this.context = camelContext;
    }

    @Override
    public CamelContext getCamelContext() {
        return context;
    }
}

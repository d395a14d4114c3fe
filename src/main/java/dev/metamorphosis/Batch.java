package dev.metamorphosis;

import java.util.ArrayList;
import java.util.List;

import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.spi.Synchronization;
import org.apache.camel.support.DefaultExchange;

/**
 * Collects envelopes into one batch whose body is the list of their exchanges, one Kafka record each (the route
 * {@code kafka-batch}, on the one thread of {@code seda:spool}); each envelope leaves the spool's queue as it joins
 * ({@link Spool#take}). The envelope that comes through the route brings the ones waiting behind it
 * ({@link Spool#next}), so the route runs once a batch, not once an envelope, while a backlog waits. A batch is
 * complete when it has {@link Spool#batchSize()} envelopes, when the spool is {@link Spool#drained()}, or when an
 * exchange other than an envelope's comes through the queue (the flush timer's, or the shutdown's): then the exchange
 * at hand carries the batch on to Kafka, and the exchange of any other envelope ends here. Plain Java rather than
 * Camel's aggregator, which copies every exchange it aggregates.
 * <p>
 * In at-least-once delivery the completion work of an envelope's exchange (its MQTT acknowledgement) was taken off it
 * at its admission ({@link Spool#holdAcknowledgement}) and travels with the envelope; the write route has its batch
 * run it, in arrival order, once Kafka has the batch ({@link #acknowledge}); if the write fails for good (the bridge
 * stops first), the batch's exchange reports the failure to it.
 */
public final class Batch implements Processor {

    /** The MQTT acknowledgement an envelope holds (at-least-once delivery). */
    static final String HELD = "metamorphosis.held";
    /** The MQTT acknowledgements a batch holds (at-least-once delivery). */
    private static final String BATCH_HELD = "metamorphosis.batch.held";
    /**
     * The record's Kafka topic header, kept: camel-kafka takes the header off when it builds the record (and so the
     * timestamp's, which {@link Redelivery} sets again from the arrival time).
     */
    public static final String TOPIC = "metamorphosis.topic";

    private Spool spool;
    private List<Exchange> records = new ArrayList<>();
    private Held held = new Held();
    /** The size of {@link #records}, for other threads. */
    private volatile int open;

    /** Takes the completion work (the MQTT acknowledgement, among others) off an exchange, in order. */
    static List<Synchronization> detach(Exchange exchange) {
        Exchange carrier = new DefaultExchange(exchange.getContext());
        exchange.getExchangeExtension().handoverCompletions(carrier);
        List<Synchronization> work = carrier.getExchangeExtension().handoverCompletions();
        // mostly one, the MQTT acknowledgement, kept until a sync or Kafka's acknowledgement: without the 10 slots
        return work == null ? List.of() : work.size() == 1 ? List.of(work.get(0)) : work;
    }

    /**
     * The envelope joins the open batch, and the envelopes waiting behind it until the batch is full; a complete batch
     * goes on with this exchange, else the exchange ends here.
     */
    @Override
    public void process(Exchange exchange) {
        boolean envelope = exchange.getProperty(Spool.BYTES) != null;
        int carrier = records.size();
        if (envelope) {
            join(exchange);
            Exchange next;
            while (records.size() < spool.batchSize() && (next = spool.next()) != null) {
                join(next);
            }
        }
        if (records.isEmpty() || envelope && records.size() < spool.batchSize() && !spool.drained()) {
            spool.batchOpen(records.size());
            exchange.setRouteStop(true);
            return;
        }
        List<Exchange> batch = records;
        Held work = held;
        records = new ArrayList<>();
        open = 0;
        held = new Held();
        spool.batchOpen(0);
        if (envelope) {
            batch.set(carrier, exchange.copy()); // this exchange carries the batch, its copy the record
        }
        exchange.getMessage().getHeaders().clear();
        exchange.getMessage().setBody(batch);
        exchange.setProperty(BATCH_HELD, work);
        exchange.getExchangeExtension().addOnCompletion(work);
    }

    /** At-least-once delivery: Kafka has the batch, so the MQTT acknowledgements it holds go now, in arrival order. */
    public void acknowledge(Exchange batch) {
        Held work = batch.getProperty(BATCH_HELD, Held.class);
        if (work != null) {
            work.onComplete(batch);
        }
    }

    @SuppressWarnings("unchecked")
    private void join(Exchange record) {
        spool.take(record);
        List<Synchronization> acks = (List<Synchronization>) record.removeProperty(HELD);
        if (acks != null) {
            held.work.addAll(acks);
        }
        Object topic = record.getMessage().getHeader(KafkaConstants.OVERRIDE_TOPIC);
        if (topic != null) {
            record.setProperty(TOPIC, topic);
        }
        // the record's timestamp is the time its message arrived from MQTT, also for a backlog written late
        record.getMessage().setHeader(KafkaConstants.OVERRIDE_TIMESTAMP, Spool.arrived(record));
        records.add(record);
        open = records.size();
    }

    /** The envelopes in the open batch. */
    public int size() {
        return open;
    }

    public void setSpool(Spool spool) {
        this.spool = spool;
    }

    /**
     * The completion work of every exchange in a batch: run by {@link #acknowledge}, else when the batch's exchange
     * completes; each piece runs once.
     */
    static final class Held implements Synchronization {
        final List<Synchronization> work = new ArrayList<>();

        @Override
        public void onComplete(Exchange batch) {
            work.forEach(s -> s.onComplete(batch));
            work.clear();
        }

        @Override
        public void onFailure(Exchange batch) {
            work.forEach(s -> s.onFailure(batch));
            work.clear();
        }
    }
}

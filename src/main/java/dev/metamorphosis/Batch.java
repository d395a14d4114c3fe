package dev.metamorphosis;

import java.util.ArrayList;
import java.util.List;

import org.apache.camel.AggregationStrategy;
import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.Exchange;
import org.apache.camel.Predicate;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.spi.Synchronization;
import org.apache.camel.support.DefaultExchange;

/**
 * Collects envelopes into one batch exchange whose body is the list of their exchanges, one Kafka record each; each
 * envelope leaves the spool's queue as it joins ({@link Spool#take}). As the aggregator's completion predicate, a batch
 * is complete when it has {@link Spool#batchSize()} envelopes or the spool is {@link Spool#drained()} (plain calls: a
 * bean method as predicate would copy every exchange to evaluate it).
 * <p>
 * Camel completes an exchange when it joins an aggregate, which would acknowledge its MQTT message before Kafka has
 * it. {@link #hold} therefore takes the completion work (the MQTT acknowledgement, when the consumer acks by hand) off
 * the exchange when the spool admits it; the work travels with the envelope into its batch, which runs it, in arrival
 * order, once the batch's write to Kafka has succeeded, or reports the failure to it if the write failed for good.
 */
public final class Batch implements AggregationStrategy, Predicate, CamelContextAware {

    static final String HELD = "metamorphosis.held";
    /**
     * The record's Kafka topic header, kept: camel-kafka takes the header off when it builds the record (and so the
     * timestamp's, which {@link Redelivery} sets again from the arrival time).
     */
    static final String TOPIC = "metamorphosis.topic";

    private CamelContext context;
    private Spool spool;

    /** Moves the exchange's completion work into a property that travels with it into the batch. */
    static void hold(Exchange exchange) {
        List<Synchronization> held = detach(exchange);
        if (!held.isEmpty()) {
            exchange.setProperty(HELD, held);
        }
    }

    /** Takes the completion work (the MQTT acknowledgement, among others) off an exchange, in order. */
    static List<Synchronization> detach(Exchange exchange) {
        Exchange carrier = new DefaultExchange(exchange.getContext());
        exchange.getExchangeExtension().handoverCompletions(carrier);
        List<Synchronization> work = carrier.getExchangeExtension().handoverCompletions();
        return work == null ? List.of() : work;
    }

    @Override
    @SuppressWarnings("unchecked")
    public Exchange aggregate(Exchange batch, Exchange record) {
        Held held;
        if (batch == null) {
            batch = new DefaultExchange(record.getContext());
            batch.getMessage().setBody(new ArrayList<Exchange>());
            held = new Held();
            batch.getExchangeExtension().addOnCompletion(held);
            batch.setProperty(HELD, held);
        } else {
            held = batch.getProperty(HELD, Held.class);
        }
        spool().take(record);
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
        batch.getMessage().getBody(List.class).add(record);
        return batch;
    }

    /** Whether the batch is complete: full, or nothing more waits while acknowledgements wait for it. */
    @Override
    public boolean matches(Exchange batch) {
        return batch.getMessage().getBody(List.class).size() >= spool().batchSize() || spool().drained();
    }

    private Spool spool() {
        if (spool == null) {
            spool = context.getRegistry().lookupByNameAndType("spool", Spool.class);
        }
        return spool;
    }

    @Override
    public void setCamelContext(CamelContext camelContext) {
        this.context = camelContext;
    }

    @Override
    public CamelContext getCamelContext() {
        return context;
    }

    /** The completion work of every exchange in a batch, run when the batch completes. */
    static final class Held implements Synchronization {
        final List<Synchronization> work = new ArrayList<>();

        @Override
        public void onComplete(Exchange batch) {
            work.forEach(s -> s.onComplete(batch));
        }

        @Override
        public void onFailure(Exchange batch) {
            work.forEach(s -> s.onFailure(batch));
        }
    }
}

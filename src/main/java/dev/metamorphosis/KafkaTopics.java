package dev.metamorphosis;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.spi.OnCamelContextStarting;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka topics that rules of {@code TOPIC_MAP} name, created the first time a batch holds a record for one (with
 * {@code KAFKA_TOPIC_PARTITIONS} and {@code KAFKA_TOPIC_REPLICATION}), so they exist on a broker that does not create
 * topics itself. A creation that fails fails the batch's write, which is tried again like any other (route
 * configuration {@code kafka-retry}); it is logged once per topic.
 * <p>
 * A topic that takes smaller record batches ({@code max.message.bytes}) than the producer makes is logged once at
 * ERROR: Kafka would refuse a full batch to it, and the producer would send it again for ever (KAFKA-8350). Route
 * {@code kafka-write} writes the records of such topics after the others, through a producer that puts one record in
 * each batch ({@link #small}), so they are written, more slowly, and a record too large for the topic is refused and
 * set aside like any other.
 */
public final class KafkaTopics implements OnCamelContextStarting {

    private static final Logger LOG = LoggerFactory.getLogger("kafka");
    /**
     * The number of records at the end of the whole batch for topics that take smaller batches; set only when there are
     * some, which route {@code kafka-write}'s filter reads by this name.
     */
    private static final String SMALL = "metamorphosis.small-batches";
    /** The whole batch, while the body is a part of it. */
    private static final String WHOLE = "metamorphosis.whole-batch";

    private final Set<String> known = ConcurrentHashMap.newKeySet();
    private final Set<String> failed = ConcurrentHashMap.newKeySet();
    /** Topics that take smaller record batches than the producer makes. */
    private final Set<String> smallBatches = ConcurrentHashMap.newKeySet();
    private CamelContext context;
    private int partitions;
    private short replication;

    @Override
    public void onContextStarting(CamelContext camelContext) {
        context = camelContext;
        // created at start-up (see Bridge)
        known.add(context.resolvePropertyPlaceholders("{{kafka.topic}}"));
        known.add(context.resolvePropertyPlaceholders("{{dead.letter.topic}}"));
        partitions = Integer.parseInt(context.resolvePropertyPlaceholders("{{kafka.topic.partitions}}"));
        replication = Short.parseShort(context.resolvePropertyPlaceholders("{{kafka.topic.replication}}"));
    }

    /**
     * Creates the topics of the batch's records that were not seen before; throws when Kafka does not create them. When
     * the batch holds records of topics that take smaller batches than the producer makes, it puts them last, and the
     * body becomes the records before them, for the producer of whole batches.
     */
    public void ensure(Exchange batch) throws Exception {
        @SuppressWarnings("unchecked")
        List<Exchange> records = batch.getMessage().getBody(List.class);
        Map<String, Map<String, String>> missing = null;
        for (Exchange record : records) {
            String topic = record.getProperty(Batch.TOPIC, String.class);
            if (topic != null && !known.contains(topic)) {
                if (missing == null) {
                    missing = new LinkedHashMap<>();
                }
                missing.put(topic, Map.of());
            }
        }
        if (missing != null) {
            create(missing);
        }
        // to the end, in order: each topic's records keep their order, and records Kafka acknowledged stay a prefix
        // of the part being written (Redelivery)
        List<Exchange> small = new ArrayList<>();
        if (records.removeIf(r -> smallBatches(r) && small.add(r))) {
            records.addAll(small);
            batch.setProperty(SMALL, small.size());
            batch.setProperty(WHOLE, records);
            batch.getMessage().setBody(records.subList(0, records.size() - small.size()));
        }
    }

    /** Whether the record's Kafka topic takes smaller batches than the producer makes (never KAFKA_TOPIC's). */
    private boolean smallBatches(Exchange record) {
        String topic = record.getProperty(Batch.TOPIC, String.class);
        return topic != null && smallBatches.contains(topic);
    }

    /**
     * The records of topics that take smaller batches, as the body, once the others are in Kafka; route
     * {@code kafka-write} comes here only for a batch that holds some. A retry of their write (Redelivery) takes those
     * Kafka acknowledged out of the whole batch too.
     */
    public void small(Exchange batch) {
        int small = batch.getProperty(SMALL, Integer.class);
        List<?> records = batch.getProperty(WHOLE, List.class);
        batch.getMessage().setBody(records.subList(records.size() - small, records.size()));
    }

    /** The whole batch as the body again, for the steps after the write. */
    public void whole(Exchange batch) {
        batch.getMessage().setBody(batch.removeProperty(WHOLE));
        batch.removeProperty(SMALL);
    }

    private void create(Map<String, Map<String, String>> missing) throws Exception {
        try {
            // a topic that takes smaller batches than the producer makes is said once: its writes would stop (KAFKA-8350)
            Bridge.batchTooLarge(context, Bridge.createTopics(context, missing, partitions, replication))
                    .forEach((topic, line) -> {
                        LOG.error("{}; meanwhile the bridge writes its records one per batch, more slowly", line);
                        smallBatches.add(topic);
                    });
        } catch (Exception e) {
            for (String topic : missing.keySet()) {
                if (failed.add(topic)) {
                    LOG.warn("Could not create Kafka topic {} for TOPIC_MAP (tried again with the batch): {}", topic,
                            Bridge.causeOf(e));
                }
            }
            throw e;
        }
        known.addAll(missing.keySet());
    }
}

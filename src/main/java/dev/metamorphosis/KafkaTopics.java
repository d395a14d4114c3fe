package dev.metamorphosis;

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
 * configuration {@code kafka-retry}); it is logged once per topic. So is, at ERROR, a topic that takes smaller record
 * batches ({@code max.message.bytes}) than the producer makes: a full batch to it would never be written.
 */
public final class KafkaTopics implements OnCamelContextStarting {

    private static final Logger LOG = LoggerFactory.getLogger("kafka");

    private final Set<String> known = ConcurrentHashMap.newKeySet();
    private final Set<String> failed = ConcurrentHashMap.newKeySet();
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

    /** Creates the topics of these records that were not seen before; throws when Kafka does not create them. */
    public void ensure(List<Exchange> records) throws Exception {
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
        if (missing == null) {
            return;
        }
        try {
            // a topic that takes smaller batches than the producer makes is said once: its writes can stop (KAFKA-8350)
            Bridge.batchTooLarge(context, Bridge.createTopics(context, missing, partitions, replication))
                    .forEach(LOG::error);
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

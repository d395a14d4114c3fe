package dev.metamorphosis.it;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import dev.metamorphosis.Settings;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * KAFKA_KEY=topic keys each record by its MQTT topic, so on a topic of several partitions each MQTT topic keeps to one
 * partition, in order; KAFKA_COMPRESSION compresses the batches and the records read back unchanged.
 */
@CamelMainTest(configurationClasses = Settings.class, propertyPlaceholderLocations = "file:application.properties",
        properties = {
            "camel.main.routesIncludePattern=file:routes/*.camel.yaml",
            "mqtt.client.id=kafka-key-it-%h",
            "mqtt.topic=kafka-key/#",
            "kafka.topic=kafka-key-it",
            "kafka.topic.partitions=4",
            "kafka.key=topic",
            "kafka.compression=zstd",
            "kafka.interval=1"
        })
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KafkaKeyIT {

    private static final int TOPICS = 12;
    private static final int PER_TOPIC = 50;

    @BeforeAll
    static void brokers() {
        Brokers.useShared();
    }

    @Test
    void should_key_records_by_mqtt_topic_and_keep_each_topic_in_one_partition_in_order() {
        try (Publisher publisher = new Publisher(Brokers.mqtt().url())) {
            for (int n = 0; n < PER_TOPIC; n++) {
                for (int t = 0; t < TOPICS; t++) {
                    publisher.publish("kafka-key/t" + t, Integer.toString(n).getBytes(StandardCharsets.UTF_8), 1);
                }
            }
        }
        List<ConsumerRecord<byte[], byte[]>> records = Records.await(Brokers.kafka().bootstrap(), "kafka-key-it",
                TOPICS * PER_TOPIC, Duration.ofSeconds(90));

        assertThat(records).hasSize(TOPICS * PER_TOPIC);
        Map<String, Set<Integer>> partitions = new HashMap<>();
        Map<String, Integer> last = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            GoEnvelope envelope = GoEnvelope.parse(r.value());
            String topic = envelope.topic();
            assertThat(new String(r.key(), StandardCharsets.UTF_8)).as("key").isEqualTo(topic);
            assertThat(r.headers().toArray()).as("Kafka headers").isEmpty();
            partitions.computeIfAbsent(topic, k -> new java.util.HashSet<>()).add(r.partition());
            int n = Integer.parseInt(envelope.text());
            assertThat(n).as("order within " + topic).isEqualTo(last.getOrDefault(topic, -1) + 1);
            last.put(topic, n);
        }
        assertThat(partitions).hasSize(TOPICS).allSatisfy((topic, used) -> assertThat(used).as(topic).hasSize(1));
        assertThat(partitions.values().stream().flatMap(Set::stream).collect(Collectors.toSet()))
                .as("partitions used by the 12 topics").hasSizeGreaterThan(1);
    }
}

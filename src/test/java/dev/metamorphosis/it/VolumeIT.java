package dev.metamorphosis.it;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.metamorphosis.Settings;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static org.assertj.core.api.Assertions.assertThat;

/** 100,000 QoS 1 messages over 10 topics reach Kafka exactly once each, in order per topic. */
@CamelMainTest(configurationClasses = Settings.class, propertyPlaceholderLocations = "file:application.properties",
        properties = {
            "camel.main.routesIncludePattern=file:routes/*.camel.yaml",
            "mqtt.client.id=volume-it-%h",
            "mqtt.topic=volume/#",
            "kafka.topic=volume-it",
            "kafka.interval=1"
        })
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VolumeIT {

    static final int TOPICS = 10;
    static final int PER_TOPIC = 10_000;

    @BeforeAll
    static void brokers() {
        Brokers.useShared();
    }

    @Test
    void should_bridge_100000_messages_over_10_topics_exactly_once_in_order_per_topic() {
        try (Publisher publisher = new Publisher(Brokers.mqtt().url())) {
            for (int seq = 0; seq < PER_TOPIC; seq++) {
                for (int t = 0; t < TOPICS; t++) {
                    publisher.publish("volume/t" + t, ("t" + t + "#" + seq).getBytes(StandardCharsets.UTF_8), 1);
                }
            }
        }
        List<ConsumerRecord<byte[], byte[]>> records = Records.await(Brokers.kafka().bootstrap(), "volume-it",
                TOPICS * PER_TOPIC, Duration.ofSeconds(180));

        Map<String, List<Integer>> seqByTopic = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> record : records) {
            GoEnvelope envelope = GoEnvelope.parse(record.value());
            String topic = envelope.topic();
            String payload = envelope.text();
            assertThat(payload).startsWith(topic.substring("volume/".length()) + "#");
            seqByTopic.computeIfAbsent(topic, k -> new ArrayList<>())
                    .add(Integer.parseInt(payload.substring(payload.indexOf('#') + 1)));
        }
        List<Integer> expected = new ArrayList<>();
        for (int seq = 0; seq < PER_TOPIC; seq++) {
            expected.add(seq);
        }
        assertThat(records).hasSize(TOPICS * PER_TOPIC);
        assertThat(seqByTopic).hasSize(TOPICS);
        seqByTopic.forEach((topic, seqs) -> assertThat(seqs).as(topic).isEqualTo(expected));
    }
}

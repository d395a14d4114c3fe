package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Kafka topics that take smaller record batches ({@code max.message.bytes}, 64 KiB here) than the bridge's producer
 * makes ({@code camel.component.kafka.producerBatchSize}, 512 KiB). Kafka refuses a batch over the topic's limit, and
 * kafka-clients 3.9 splits it into batches of the producer's size, which are refused again, until the delivery timeout
 * (KAFKA-8350): under a backlog, writes to such a topic would stop for good, whatever the size of its records. The
 * bridge refuses to start against such a {@code KAFKA_TOPIC}, says so of a {@code TOPIC_MAP} topic the first time it
 * writes to it, and, with the batch lowered to the topic's limit, writes a backlog of many times that limit.
 */
// bridge processes on the shared brokers, topics of their own: runs beside the concurrent scenarios
@Execution(ExecutionMode.CONCURRENT)
class TopicBatchLimitIT {

    private static final Map<String, String> LIMIT = Map.of("max.message.bytes", "65536");
    private static final Duration START = Duration.ofSeconds(90);

    @Test
    void should_exit_1_with_one_line_naming_the_setting_when_kafka_topic_takes_smaller_batches() throws IOException {
        String kafka = Brokers.kafka().bootstrap();
        Topics.create(kafka, "batch-limit-exit", LIMIT);
        Map<String, String> env = BridgeProcess.environment(Brokers.mqtt().port(), kafka, "batch-limit-exit");
        try (BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory("batch-limit-exit"), env)) {
            assertThat(bridge.exitCode(START)).isEqualTo(1);
            assertThat(bridge.stderr().lines().toList()).singleElement().asString().contains("FATAL",
                    "camel.component.kafka.producerBatchSize=524288 is larger than max.message.bytes=65536 of Kafka "
                    + "topic batch-limit-exit", "CAMEL_COMPONENT_KAFKA_PRODUCERBATCHSIZE to at most 65536");
            assertThat(bridge.stdout()).doesNotContain("Subscribed");
        }
    }

    @Test
    void should_write_a_backlog_of_many_topic_limits_once_the_producer_batch_is_lowered_to_it() throws IOException {
        String kafka = Brokers.kafka().bootstrap();
        String topic = "batch-limit-backlog";
        Topics.create(kafka, topic, LIMIT);
        Map<String, String> env = BridgeProcess.environment(Brokers.mqtt().port(), kafka, topic);
        env.put("CAMEL_COMPONENT_KAFKA_PRODUCERBATCHSIZE", "65536");
        // 3,000 envelopes of about 1.4 KB: 4 MB, batches of 1,000 (1.4 MB) to Kafka, 21 times the topic's limit each
        List<String> sent = new ArrayList<>();
        try (BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory(topic), env);
             Publisher publisher = new Publisher(Brokers.mqtt().url())) {
            bridge.awaitSubscribed(START);
            for (int i = 0; i < 3000; i++) {
                byte[] payload = String.format("%05d", i).repeat(200).getBytes(StandardCharsets.UTF_8);
                publisher.publish(topic + "/a", payload, 1);
                sent.add(EnvelopeIT.envelope(topic + "/a", payload));
            }
            publisher.flush();
            List<String> written = Records.values(Records.await(kafka, topic, sent.size(), START));
            assertThat(written).as("every message once, in order").isEqualTo(sent);
            assertThat(bridge.stderr()).doesNotContain("MESSAGE_TOO_LARGE");
        }
    }

    @Test
    void should_log_an_error_naming_a_topic_map_topic_that_takes_smaller_batches_and_write_a_backlog_to_it()
            throws IOException {
        String kafka = Brokers.kafka().bootstrap();
        Topics.create(kafka, "batch-limit-small", LIMIT);
        Path map = TopicMapIT.writeMap("batch-limit", """
                - filter: "batch-limit-map/small/#"
                  topic: "batch-limit-small"
                """);
        Map<String, String> env = TopicMapIT.environment("batch-limit-map", kafka, map.toString());
        // 3,000 envelopes of about 1.4 KB, every other one to the small topic, the rest to KAFKA_TOPIC: the producer's
        // 512 KiB batches would hold 8 times the small topic's limit
        List<String> small = new ArrayList<>();
        List<String> other = new ArrayList<>();
        try (BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory("batch-limit-map"), env);
             Publisher publisher = new Publisher(Brokers.mqtt().url())) {
            bridge.awaitSubscribed(START);
            // first a batch of only that topic's records: nothing for the producer of whole batches
            byte[] one = "one".getBytes(StandardCharsets.UTF_8);
            publisher.publish("batch-limit-map/small/1", one, 1);
            publisher.flush();
            small.add(EnvelopeIT.envelope("batch-limit-map/small/1", one));
            assertThat(Records.values(Records.await(kafka, "batch-limit-small", 1, START))).isEqualTo(small);
            for (int i = 0; i < 3000; i++) {
                String topic = i % 2 == 0 ? "batch-limit-map/small/1" : "batch-limit-map/other";
                byte[] payload = String.format("%05d", i).repeat(200).getBytes(StandardCharsets.UTF_8);
                publisher.publish(topic, payload, 1);
                (i % 2 == 0 ? small : other).add(EnvelopeIT.envelope(topic, payload));
            }
            publisher.flush();
            assertThat(Records.values(Records.await(kafka, "batch-limit-small", small.size(), START)))
                    .as("every message to the small topic once, in order").isEqualTo(small);
            assertThat(Records.values(Records.await(kafka, "batch-limit-map", other.size(), START)))
                    .as("every other message once, in order").isEqualTo(other);
            assertThat(bridge.stderr().lines().filter(l -> l.contains("batch-limit-small")).toList())
                    .as("the error, once").singleElement().asString().contains("ERROR",
                            "camel.component.kafka.producerBatchSize=524288 is larger than max.message.bytes=65536 of "
                            + "Kafka topic batch-limit-small", "one per batch");
            assertThat(bridge.stderr()).doesNotContain("MESSAGE_TOO_LARGE");
            assertThat(bridge.isAlive()).isTrue();
        }
    }
}

package dev.metamorphosis.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.record.TimestampType;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

import static dev.metamorphosis.it.TopicMapIT.START;
import static dev.metamorphosis.it.TopicMapIT.environment;
import static dev.metamorphosis.it.TopicMapIT.payloadText;
import static dev.metamorphosis.it.TopicMapIT.utf8;
import static dev.metamorphosis.it.TopicMapIT.writeMap;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * TOPIC_MAP's arrival timestamps through a Kafka outage, on the built jar. It runs by itself ({@link Isolated}: after
 * the other tests): its bound of a second from publishing to the record's timestamp measures the test JVM too when
 * the other broker tests load the two cores (a load average of 70 was seen in {@code ./mvnw verify}). It has a class
 * of its own so that the rest of {@link TopicMapIT} runs beside the other tests. Kafka is killed, so a batch it took
 * before its acknowledgement was lost may be written again: every message must arrive, at most
 * {@link Signs#duplicatesAtMost} of them twice (CI once saw one record twice here).
 */
@Isolated
class TopicMapTimestampIT {

    /** The MQTT topics of the scenario: one for each rule of its map, and one no rule matches. */
    private static final String[] TIME_TOPICS = {"tm-time/mapped/m", "tm-time/a/x", "tm-time/q/b", "tm-time/plain"};

    @Test
    void should_stamp_each_record_with_the_time_it_came_from_mqtt_also_when_written_after_a_kafka_outage()
            throws Exception {
        // three rules, so this is also the Kafka outage with a map of three rules
        Path map = writeMap("time", """
                - filter: "tm-time/mapped/+"
                  topic: "tm-time-mapped"
                  format: raw
                - filter: "tm-time/a/#"
                  topic: "tm-time-{1}"
                  format: raw
                - filter: "tm-time/+/b"
                  topic: "tm-time-b"
                  key: "{1}"
                """);
        Map<Integer, Long> publishedAt = new ConcurrentHashMap<>();
        AtomicInteger next = new AtomicInteger();
        Map<String, String> env;
        try (KafkaBroker own = KafkaBroker.start("tm-time", Map.of());
             BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory("tm-time"),
                     env = environment("tm-time", own.bootstrap(), map.toString()));
             Publisher publisher = new Publisher(Brokers.mqtt().url())) {
            bridge.awaitSubscribed(START);
            ScheduledExecutorService pacer = Executors.newSingleThreadScheduledExecutor();
            long down;
            long up;
            try {
                // 5 a second, in turn to each rule and to KAFKA_TOPIC
                pacer.scheduleAtFixedRate(() -> {
                    int n = next.getAndIncrement();
                    publishedAt.put(n, System.currentTimeMillis());
                    publisher.publish(TIME_TOPICS[n % TIME_TOPICS.length], utf8(Integer.toString(n)), 1);
                }, 0, 200, TimeUnit.MILLISECONDS);
                Faults.last(Duration.ofSeconds(5));
                down = System.currentTimeMillis();
                own.kill();
                Faults.last(Duration.ofSeconds(20));
                up = System.currentTimeMillis();
                own.restart();
                Faults.last(Duration.ofSeconds(5));
            } finally {
                pacer.shutdown();
                assertThat(pacer.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
            }
            publisher.flush();
            int published = next.get();
            // Kafka was killed, so a batch it took may be written again (at-least-once): every message at least
            // once, at most the documented bound twice
            String[] kafkaTopics = {"tm-time-mapped", "tm-time-x", "tm-time-b", "tm-time"};
            List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
            for (int k = 0; k < kafkaTopics.length; k++) {
                int rule = k;
                Set<String> expected = IntStream.range(0, published).filter(n -> n % kafkaTopics.length == rule)
                        .mapToObj(Integer::toString).collect(Collectors.toSet());
                records.addAll(awaitEach(own.bootstrap(), kafkaTopics[k], expected));
            }
            assertThat(records.stream().map(TopicMapIT::payloadText).distinct()).hasSize(published);
            assertThat((long) records.size() - published).as("records written twice, of " + records.size())
                    .isLessThanOrEqualTo(Signs.duplicatesAtMost(env));

            List<String> late = new ArrayList<>();
            Set<Integer> duringOutage = new HashSet<>();
            for (ConsumerRecord<byte[], byte[]> r : records) {
                assertThat(r.timestampType()).isEqualTo(TimestampType.CREATE_TIME);
                int n = Integer.parseInt(payloadText(r));
                long sent = publishedAt.get(n);
                if (sent > down && sent < up) {
                    duringOutage.add(n);
                    // written once Kafka was back, so a timestamp of the writing would be later than this
                    assertThat(r.timestamp()).as("timestamp of #" + n + ", published during the outage").isLessThan(up);
                }
                if (Math.abs(r.timestamp() - sent) > 1000) {
                    late.add("#" + n + " published at " + sent + ", record timestamp " + r.timestamp() + " ("
                             + (r.timestamp() - sent) + " ms)"
                             + (sent > down && sent < up ? " during the outage" : ""));
                }
            }
            // distinct messages: a record written twice counts once
            assertThat(duringOutage).as("messages published while Kafka was down").hasSizeGreaterThanOrEqualTo(90);
            assertThat(late).as("records stamped more than 1 s from their publishing").isEmpty();
        }
    }

    /** Waits until the topic holds each of the payloads; all its records then (a payload may be there twice). */
    private static List<ConsumerRecord<byte[], byte[]>> awaitEach(String bootstrap, String topic,
                                                                  Set<String> payloads) {
        List<ConsumerRecord<byte[], byte[]>> records = Awaitility.await("each of the " + payloads.size()
                        + " messages on " + topic).atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                .ignoreExceptions().until(() -> Records.read(bootstrap, topic), read -> read.stream()
                        .map(TopicMapIT::payloadText).collect(Collectors.toSet()).containsAll(payloads));
        assertThat(records).as("records on " + topic).extracting(TopicMapIT::payloadText)
                .isSubsetOf(payloads);
        return records;
    }
}

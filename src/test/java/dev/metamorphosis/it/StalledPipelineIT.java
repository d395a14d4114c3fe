package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A pipeline stalled while Kafka is reachable, one bridge per delivery mode: an ACL denies writes to the topic, so
 * Kafka answers, the topic has its leader and {@code /readyz} says ready, but every write is refused and retried. The
 * oldest spooled message's age rises while nothing is written (what alert MetamorphosisPipelineStalled watches); once
 * the ACL is gone, every message is written once, in order, and the age falls back to 0.
 */
@Execution(ExecutionMode.CONCURRENT)
class StalledPipelineIT {

    private static final int MESSAGES = 50;
    /** Seconds the oldest message has waited at least before the stall is checked: many KAFKA_INTERVALs (1 s). */
    private static final double STALLED_SECONDS = 20;
    private static final String AGE = "metamorphosis_spool_oldest_age_seconds";

    @Test
    void should_show_the_oldest_message_ageing_while_kafka_is_reachable_and_takes_nothing() throws IOException {
        Map<String, BridgeProcess> bridges = new LinkedHashMap<>();
        try (KafkaBroker broker = KafkaBroker.start("stalled", Topics.AUTHORIZER)) {
            String kafka = broker.bootstrap();
            for (String delivery : BridgeProcess.DELIVERIES) {
                String prefix = "stalled-" + delivery;
                Topics.create(kafka, prefix, Map.of());
                Topics.denyWrites(kafka, prefix);
                bridges.put(delivery, BridgeProcess.start(Files.createTempDirectory("stalled"),
                        BridgeProcess.environment(Brokers.mqtt().port(), kafka, prefix, delivery)));
            }
            long started = System.currentTimeMillis();
            for (String delivery : BridgeProcess.DELIVERIES) {
                bridges.get(delivery).awaitSubscribed(Duration.ofSeconds(90));
                publish("stalled-" + delivery);
            }
            for (String delivery : BridgeProcess.DELIVERIES) {
                BridgeProcess bridge = bridges.get(delivery);
                await(delivery + ": stalled " + STALLED_SECONDS + " s with Kafka reachable and refusing writes")
                        .atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
                        .untilAsserted(() -> assertThat(List.of(bridge.metric(AGE) >= STALLED_SECONDS,
                                bridge.metric("kafka_errors") >= 1, bridge.metric("metamorphosis_kafka_connected") == 1,
                                ready(bridge))).as("[aged, Kafka errors, Kafka connected, /readyz 200]")
                                .containsOnly(true));
                double age = bridge.metric(AGE);
                assertThat(age).as(delivery + ": no older than the test").isLessThanOrEqualTo(
                        (System.currentTimeMillis() - started) / 1000.0);
                assertThat(bridge.metric("metamorphosis_kafka_records_written_total")).as(delivery + ": written")
                        .isZero();
                // at-least-once holds what the broker sent before it waits for acknowledgements (HiveMQ: one)
                double waiting = delivery.equals("at-least-once")
                        ? bridge.metric("metamorphosis_mqtt_unacknowledged_messages") : MESSAGES;
                assertThat(bridge.metric("metamorphosis_spool_messages")).as(delivery + ": waiting")
                        .isEqualTo(waiting).isPositive();
                assertThat(Records.count(kafka, "stalled-" + delivery)).as(delivery + ": in Kafka").isZero();
                await(delivery + ": the age goes on rising").atMost(Duration.ofSeconds(30))
                        .until(() -> bridge.metric(AGE) > age);
            }
            BridgeProcess.DELIVERIES.forEach(d -> Topics.allowWrites(kafka, "stalled-" + d));
            for (String delivery : BridgeProcess.DELIVERIES) {
                BridgeProcess bridge = bridges.get(delivery);
                String topic = "stalled-" + delivery;
                await(delivery + ": the spool empty, the age back to 0").atMost(Duration.ofSeconds(120))
                        .until(() -> bridge.metric(AGE) == 0 && bridge.metric("metamorphosis_spool_messages") == 0);
                List<String> written = Records.values(Records.read(kafka, topic));
                assertThat(written).as(delivery + ": every message once, in order").isEqualTo(envelopes(topic));
                assertThat(bridge.metric("metamorphosis_kafka_records_written_total")).as(delivery + ": counted")
                        .isEqualTo(MESSAGES);
            }
        } finally {
            bridges.values().forEach(BridgeProcess::close);
        }
    }

    private static boolean ready(BridgeProcess bridge) {
        Http.Response readyz = Http.get(bridge.healthPort(), "/readyz");
        return readyz != null && readyz.status() == 200;
    }

    private static void publish(String prefix) {
        try (Publisher publisher = new Publisher(Brokers.mqtt().url())) {
            for (int i = 0; i < MESSAGES; i++) {
                publisher.publish(prefix + "/a", ("stalled " + i).getBytes(StandardCharsets.UTF_8), 1);
            }
        }
    }

    private static List<String> envelopes(String prefix) {
        return IntStream.range(0, MESSAGES).mapToObj(i -> EnvelopeIT.envelope(prefix + "/a",
                ("stalled " + i).getBytes(StandardCharsets.UTF_8))).toList();
    }
}

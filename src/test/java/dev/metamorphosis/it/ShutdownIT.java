package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SIGTERM while Kafka is down, and Kafka back within SHUTDOWN_TIMEOUT: each bridge (one per delivery mode) writes its
 * spool, exits 0, and nothing is lost (what it never took stays at the MQTT broker for the next start).
 */
@Execution(ExecutionMode.CONCURRENT)
@Order(2) // early, after the durable outages: 1.5 to 2 minutes, longer than most (junit-platform.properties)
@Timeout(value = 10, unit = TimeUnit.MINUTES) // its longest run in ./mvnw verify: 249 s
class ShutdownIT {

    @Test
    void should_write_the_spool_on_sigterm_once_kafka_is_back_and_exit_0() throws IOException {
        Map<String, Traffic> traffic = new LinkedHashMap<>();
        Map<String, Map<String, String>> env = new LinkedHashMap<>();
        try (KafkaBroker kafka = KafkaBroker.start("shutdown", Map.of());
             Bridges bridges = new Bridges()) {
            for (String delivery : BridgeProcess.DELIVERIES) {
                String prefix = "shutdown-" + delivery;
                Path dir = Files.createTempDirectory("shutdown");
                env.put(delivery, BridgeProcess.environment(Brokers.mqtt().port(), kafka.bootstrap(), prefix,
                        delivery));
                env.get(delivery).put("SHUTDOWN_TIMEOUT", "120");
                bridges.put(delivery, BridgeProcess.start(dir, env.get(delivery)));
                traffic.put(delivery, new Traffic(prefix, 3));
            }
            for (String delivery : BridgeProcess.DELIVERIES) {
                bridges.get(delivery).awaitSubscribed(Duration.ofSeconds(90));
                traffic.get(delivery).start(Brokers.mqtt().url(), 100);
            }
            Faults.last(Duration.ofSeconds(5));
            Map<String, Double> errors = new LinkedHashMap<>();
            bridges.forEach((delivery, b) -> errors.put(delivery, b.metric("kafka_errors")));
            kafka.kill();
            bridges.forEach((delivery, b) -> Signs.awaitKafkaDown(delivery, b, errors.get(delivery),
                    Duration.ofSeconds(60)));
            traffic.values().forEach(Traffic::stop);
            bridges.forEach((delivery, b) -> {
                // sampled just before the SIGTERM: what the bridge must write to Kafka before it exits
                assertThat(b.metric(Signs.SPOOL_MESSAGES)).as(delivery + " spool at the SIGTERM").isPositive();
                b.terminate();
            });
            Faults.last(Duration.ofSeconds(5));
            bridges.forEach((delivery, b) -> assertThat(b.isAlive()).as(delivery + " still draining while Kafka is "
                    + "down").isTrue());
            kafka.restart();
            bridges.forEach((delivery, b) -> {
                assertThat(b.exitCode(Duration.ofSeconds(150))).as(delivery + " exit code").isZero();
                assertThat(b.stdout()).as(delivery).contains("everything received is in Kafka");
            });

            // what the at-least-once and durable bridges never took waits in their MQTT sessions for the next start
            for (String delivery : BridgeProcess.DELIVERIES) {
                bridges.restart(delivery, BridgeProcess.start(bridges.get(delivery).workDir(), env.get(delivery)));
            }
            for (String delivery : BridgeProcess.DELIVERIES) {
                bridges.get(delivery).awaitSubscribed(Duration.ofSeconds(90));
                Traffic.Tally t = traffic.get(delivery).awaitAll(kafka.bootstrap(), "shutdown-" + delivery,
                        Duration.ofSeconds(120));
                Traffic.report(t.line("sigterm-while-kafka-down", delivery));
                assertThat(t.lost()).as(delivery + " lost").isZero();
                assertThat(t.reordered()).as(delivery + " out of order").isZero();
                assertThat(t.duplicated()).as(delivery + " duplicated").isLessThanOrEqualTo(
                        Signs.duplicatesAtMost(env.get(delivery)));
            }
        } finally {
            traffic.values().forEach(Traffic::close);
        }
    }
}

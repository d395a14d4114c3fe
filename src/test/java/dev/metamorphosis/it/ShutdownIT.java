package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SIGTERM while Kafka is down, and Kafka back within SHUTDOWN_TIMEOUT: the bridge writes its spool, exits 0, and
 * nothing is lost (what it never took stays at the MQTT broker for the next start).
 */
@Execution(ExecutionMode.CONCURRENT)
class ShutdownIT {

    @Test
    void should_write_the_spool_on_sigterm_once_kafka_is_back_and_exit_0() throws IOException {
        try (KafkaBroker kafka = KafkaBroker.start("shutdown", Map.of());
             Traffic a = new Traffic("shutdown-alo", 3);
             Traffic b = new Traffic("shutdown-buf", 3)) {
            Path dir = Files.createTempDirectory("shutdown");
            Map<String, String> aloEnv = BridgeProcess.environment(Brokers.mqtt().port(), kafka.bootstrap(),
                    "shutdown-alo", "at-least-once");
            Map<String, String> bufEnv = BridgeProcess.environment(Brokers.mqtt().port(), kafka.bootstrap(),
                    "shutdown-buf", "buffered");
            aloEnv.put("SHUTDOWN_TIMEOUT", "120");
            bufEnv.put("SHUTDOWN_TIMEOUT", "120");
            BridgeProcess atLeastOnce = BridgeProcess.start(dir, aloEnv).awaitSubscribed(Duration.ofSeconds(90));
            BridgeProcess buffered = BridgeProcess.start(dir, bufEnv).awaitSubscribed(Duration.ofSeconds(90));
            a.start(Brokers.mqtt().url(), 100);
            b.start(Brokers.mqtt().url(), 100);
            Faults.last(Duration.ofSeconds(5));
            kafka.kill();
            Faults.last(Duration.ofSeconds(5));
            a.stop();
            b.stop();
            atLeastOnce.terminate();
            buffered.terminate();
            Faults.last(Duration.ofSeconds(5));
            assertThat(atLeastOnce.isAlive()).as("still draining while Kafka is down").isTrue();
            kafka.restart();
            assertThat(atLeastOnce.exitCode(Duration.ofSeconds(150))).isZero();
            assertThat(buffered.exitCode(Duration.ofSeconds(150))).isZero();
            assertThat(buffered.stdout()).contains("everything received is in Kafka");
            assertThat(atLeastOnce.stdout()).contains("everything received is in Kafka");

            // what the at-least-once bridge never took waits in its MQTT session for the next start
            try (BridgeProcess again = BridgeProcess.start(dir, aloEnv)) {
                again.awaitSubscribed(Duration.ofSeconds(90));
                Traffic.Tally alo = a.awaitAll(kafka.bootstrap(), "shutdown-alo", Duration.ofSeconds(120));
                Traffic.Tally buf = b.awaitAll(kafka.bootstrap(), "shutdown-buf", Duration.ofSeconds(120));
                Traffic.report(alo.line("sigterm-while-kafka-down", "at-least-once"));
                Traffic.report(buf.line("sigterm-while-kafka-down", "buffered"));
                for (Traffic.Tally t : new Traffic.Tally[] {alo, buf}) {
                    assertThat(t.lost()).as("lost").isZero();
                    assertThat(t.reordered()).as("out of order").isZero();
                }
            }
        }
    }
}

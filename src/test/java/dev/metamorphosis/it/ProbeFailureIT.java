package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.assertj.core.api.Assertions.assertThat;

/** With Kafka unreachable the real program gives up on the probe: one line on stderr, exit code 1. */
// a bridge process that waits out the probe's timeout: runs beside the concurrent scenarios
@Execution(ExecutionMode.CONCURRENT)
class ProbeFailureIT {

    @Test
    void should_exit_1_with_one_line_naming_the_topic_and_cause_when_kafka_is_unreachable() throws IOException {
        Map<String, String> env = BridgeProcess.environment(Brokers.mqtt().port(), "127.0.0.1:" + Ports.free(),
                "probe-failure");
        env.put("KAFKA_TEST_TOPIC", "probe-failure-test");
        try (BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory("probe-failure"), env)) {
            assertThat(bridge.exitCode(Duration.ofSeconds(60))).isEqualTo(1);
            assertThat(bridge.stderr().lines().toList()).singleElement().asString()
                    .contains("FATAL", "probe-failure-test", "Timeout");
            assertThat(bridge.stdout()).doesNotContain("Subscribed");
        }
    }
}

package dev.metamorphosis.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A bad setting stops the real program at once: exit code 1, one line on stderr naming it, nothing else. One case of
 * each way a refusal reaches the user (a setting, a rule between settings, a data file, the spool folder found bad
 * only when the spool opens); every message itself is in ConfigErrorsTest, which needs no process.
 */
// bridge processes of its own against brokers nobody listens on, each stopping at once: runs beside the other
// concurrent scenarios
@Execution(ExecutionMode.CONCURRENT)
class ConfigErrorsIT {

    /** Everything a valid start needs, against brokers nobody listens on (it never gets that far). */
    private static Map<String, String> valid() {
        return BridgeProcess.environment(1, "127.0.0.1:1", "config-errors");
    }

    private static void assertStopsNaming(BridgeProcess bridge, String setting) {
        assertThat(bridge.exitCode(Duration.ofSeconds(60))).isEqualTo(1);
        assertThat(bridge.stderr().lines().toList()).singleElement().asString().contains(setting);
        assertThat(bridge.stdout() + bridge.stderr()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    private static void assertStopsNaming(Map<String, String> env, String setting) throws IOException {
        try (BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory("config-errors"), env)) {
            assertStopsNaming(bridge, setting);
        }
    }

    @Test
    void should_exit_1_naming_the_setting_that_does_not_parse() throws IOException {
        Map<String, String> env = valid();
        env.put("MQTT_PORT", "abc");
        assertStopsNaming(env, "MQTT_PORT=\"abc\" is not valid");
    }

    @Test
    void should_exit_1_naming_HEALTH_PORT_when_another_process_listens_on_it() throws IOException {
        try (ServerSocket taken = new ServerSocket(Ports.free())) {
            Map<String, String> env = valid();
            env.put("HEALTH_PORT", Integer.toString(taken.getLocalPort()));
            assertStopsNaming(env, "HEALTH_PORT=" + taken.getLocalPort() + " cannot be used: Address already in use");
        }
    }

    @Test
    void should_exit_1_naming_SPOOL_OVERFLOW_that_drops_with_at_least_once_delivery() throws IOException {
        Map<String, String> env = valid();
        env.put("DELIVERY", "at-least-once");
        env.put("SPOOL_OVERFLOW", "drop-newest");
        assertStopsNaming(env, "SPOOL_OVERFLOW=drop-newest drops messages, which DELIVERY=at-least-once never does");
    }

    @Test
    void should_exit_1_naming_TOPIC_MAP_its_file_and_the_rule() throws IOException {
        Path map = Files.writeString(Files.createTempDirectory("config-errors").resolve("map.yaml"), """
                - filter: "a/+"
                  topic: "x"
                  format: xml
                """);
        Map<String, String> env = valid();
        env.put("TOPIC_MAP", map.toString());
        assertStopsNaming(env, "TOPIC_MAP=\"" + map + "\" (" + map + "): rule 1 (line 3): ");
    }

    @Test
    void should_exit_1_naming_SPOOL_DIR_when_it_holds_a_spool_of_another_format_version() throws IOException {
        Path dir = Files.createTempDirectory("config-errors");
        Path spool = Files.createDirectories(dir.resolve("spool"));
        Files.write(spool.resolve("00000000000000000000.log"), ByteBuffer.allocate(12)
                .put("MTMSPOOL".getBytes(StandardCharsets.US_ASCII)).putInt(99).array());
        try (BridgeProcess bridge = BridgeProcess.start(dir, valid())) {
            assertStopsNaming(bridge, "SPOOL_DIR");
            assertThat(bridge.stderr()).contains("format version 99");
        }
    }

    @Test
    void should_exit_1_naming_SPOOL_DIR_when_a_running_bridge_holds_it() throws IOException {
        Path dir = Files.createTempDirectory("config-errors");
        // the first one keeps running: MQTT is tried again for as long as it takes
        try (BridgeProcess holder = BridgeProcess.start(dir, valid())) {
            await("the first bridge up, holding the spool").atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(200)).until(() -> {
                        assertThat(holder.isAlive()).as("first bridge running; stderr: " + holder.stderr()).isTrue();
                        return Files.exists(dir.resolve("spool/lock"))
                               && Http.get(holder.healthPort(), "/healthz") != null;
                    });
            try (BridgeProcess second = BridgeProcess.start(dir, valid())) {
                assertStopsNaming(second, "SPOOL_DIR");
            }
            assertThat(holder.isAlive()).isTrue();
        }
    }
}

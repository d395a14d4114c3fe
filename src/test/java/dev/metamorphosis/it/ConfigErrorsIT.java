package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/** A bad or missing setting stops the real program at once: exit code 1, one line on stderr naming it. */
class ConfigErrorsIT {

    /** Everything a valid start needs, against brokers nobody listens on (it never gets that far). */
    private static Map<String, String> valid() {
        Map<String, String> env = new HashMap<>();
        env.put("MQTT_BROKER", "127.0.0.1");
        env.put("MQTT_PORT", "1");
        env.put("MQTT_TLS", "false");
        env.put("MQTT_TOPIC", "a/#");
        env.put("KAFKA_BROKER", "127.0.0.1");
        env.put("KAFKA_PORT", "1");
        env.put("KAFKA_TOPIC", "t");
        env.put("CONFIG_DIR", BridgeProcess.repo().toString());
        return env;
    }

    private static void assertStopsNaming(BridgeProcess bridge, String setting) {
        assertThat(bridge.exitCode(Duration.ofSeconds(60))).isEqualTo(1);
        assertThat(bridge.stderr().lines().toList()).singleElement().asString().contains(setting);
        assertThat(bridge.stdout() + bridge.stderr()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', nullValues = "<unset>", value = {
        "MQTT_BROKER          | <unset>",
        "MQTT_TOPIC           | <unset>",
        "KAFKA_BROKER         | <unset>",
        "KAFKA_TOPIC          | <unset>",
        "MQTT_PORT            | abc",
        "MQTT_PORT            | 70000",
        "KAFKA_PORT           | -1",
        "MQTT_TLS             | maybe",
        "MQTT_QOS             | 3",
        "LOG_LEVEL            | loud",
        "LOG_FORMAT           | xml",
        "KAFKA_BATCH_SIZE     | 0",
        "KAFKA_MAX_BATCH_SIZE | many",
        "KAFKA_INTERVAL       | 1.5s",
        "KAFKA_RETRY_INTERVAL | 0",
        "HEALTH_PORT          | 0",
        "KAFKA_TOPIC          | bad topic",
        "KAFKA_TEST_TOPIC     | bad/topic",
        "MQTT_TOPIC           | a/#/b",
        "KAFKA_BROKER         | host:port",
        "KAFKA_TOPIC_PARTITIONS | 0",
    })
    void should_exit_1_naming_the_setting_that_is_missing_or_does_not_parse(String setting, String value)
            throws IOException {
        Map<String, String> env = valid();
        if (value == null) {
            env.remove(setting);
        } else {
            env.put(setting, value);
        }
        try (BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory("config-errors"), env)) {
            assertStopsNaming(bridge, setting);
        }
    }

    @Test
    void should_exit_1_saying_what_is_missing_when_mqtt_tls_is_on() throws IOException {
        Map<String, String> env = valid();
        env.remove("MQTT_TLS"); // the Go version's default: true
        try (BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory("config-errors"), env)) {
            assertStopsNaming(bridge, "MQTT_TLS");
            assertThat(bridge.stderr()).contains("MQTT_TLS=false");
        }
    }

    @Test
    void should_exit_1_naming_an_unknown_flag() throws IOException {
        try (BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory("config-errors"), valid(),
                "-no-such-flag", "x")) {
            assertStopsNaming(bridge, "-no-such-flag");
        }
    }

    @Test
    void should_rank_flags_over_the_environment_over_the_dot_env_file() throws IOException {
        // the rejected value in the error line tells which source won
        Path dir = Files.createTempDirectory("precedence");
        Files.writeString(dir.resolve(".env"), "# a .env file\nexport KAFKA_BATCH_SIZE=\"from-dotenv\"\n"
                + "KAFKA_INTERVAL=from-dotenv # comment\n");
        Map<String, String> env = valid();
        env.put("KAFKA_BATCH_SIZE", "from-env");
        try (BridgeProcess bridge = BridgeProcess.start(dir, env, "--kafka-batch-size=from-flag")) {
            assertStopsNaming(bridge, "KAFKA_BATCH_SIZE=\"from-flag\"");
        }
        try (BridgeProcess bridge = BridgeProcess.start(dir, env, "-kafka-batch-size", "7")) {
            assertStopsNaming(bridge, "KAFKA_INTERVAL=\"from-dotenv\"");
        }
        try (BridgeProcess bridge = BridgeProcess.start(dir, env)) {
            assertStopsNaming(bridge, "KAFKA_BATCH_SIZE=\"from-env\"");
        }
        env.remove("KAFKA_BATCH_SIZE");
        try (BridgeProcess bridge = BridgeProcess.start(dir, env)) {
            assertStopsNaming(bridge, "KAFKA_BATCH_SIZE=\"from-dotenv\"");
        }
    }
}

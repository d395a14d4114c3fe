package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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
        "KAFKA_SASL_MECHANISM | GSSAPI",
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
    void should_exit_1_naming_the_setting_and_file_of_a_bad_tls_file() throws IOException {
        Certs certs = Certs.create("config-errors");
        Certs.Identity client = certs.issue("client", "RSA", Certs.KeyForm.TRADITIONAL);
        Certs.Identity other = certs.issue("other", "EC", Certs.KeyForm.TRADITIONAL);
        Path missing = certs.dir().resolve("missing.pem");
        Map<String, String> env = valid();
        env.remove("MQTT_TLS"); // the Go version's default: true
        env.put("ROOT_CA", missing.toString());
        try (BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory("config-errors"), env)) {
            assertStopsNaming(bridge, "ROOT_CA=\"" + missing + "\" is not valid: the file does not exist");
        }
        env.put("ROOT_CA", certs.ca().toString());
        env.put("MQTT_CLIENT_CERT", client.cert().toString());
        env.put("MQTT_CLIENT_KEY", other.key().toString());
        try (BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory("config-errors"), env)) {
            assertStopsNaming(bridge, "MQTT_CLIENT_KEY=\"" + other.key() + "\" is not valid: it is not the key of "
                    + "the certificate in MQTT_CLIENT_CERT=\"" + client.cert() + "\"");
        }
        env.put("MQTT_CLIENT_KEY", client.key().toString());
        env.put("KAFKA_TLS", "true");
        env.put("KAFKA_ROOT_CA", client.key().toString());
        try (BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory("config-errors"), env)) {
            assertStopsNaming(bridge, "KAFKA_ROOT_CA=\"" + client.key() + "\" is not valid: the file holds no PEM "
                    + "certificate");
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

    /** A SPOOL_DIR durable delivery cannot use, set up in the bridge's working folder; the setting to give. */
    enum BadSpoolDir {
        PARENT_MISSING {
            @Override
            String prepare(Path workDir) {
                return workDir.resolve("no-such-folder/spool").toString();
            }
        },
        A_REGULAR_FILE {
            @Override
            String prepare(Path workDir) throws IOException {
                return Files.writeString(workDir.resolve("spool"), "not a folder").toString();
            }
        },
        A_SEGMENT_OF_FORMAT_VERSION_99 {
            @Override
            String prepare(Path workDir) throws IOException {
                Path spool = Files.createDirectories(workDir.resolve("spool"));
                Files.write(spool.resolve("00000000000000000000.log"), ByteBuffer.allocate(12)
                        .put("MTMSPOOL".getBytes(StandardCharsets.US_ASCII)).putInt(99).array());
                return "spool";
            }
        };

        abstract String prepare(Path workDir) throws IOException;
    }

    private static Map<String, String> durable() {
        Map<String, String> env = valid();
        env.put("DELIVERY", "durable");
        return env;
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(BadSpoolDir.class)
    void should_exit_1_naming_SPOOL_DIR_when_durable_delivery_cannot_use_it(BadSpoolDir bad) throws IOException {
        Path dir = Files.createTempDirectory("config-errors");
        Map<String, String> env = durable();
        env.put("SPOOL_DIR", bad.prepare(dir));
        try (BridgeProcess bridge = BridgeProcess.start(dir, env)) {
            assertStopsNaming(bridge, "SPOOL_DIR");
        }
    }

    @Test
    void should_exit_1_naming_SPOOL_DIR_when_a_running_bridge_holds_it() throws IOException {
        Path dir = Files.createTempDirectory("config-errors");
        // the first one keeps running: MQTT is tried again for as long as it takes
        try (BridgeProcess holder = BridgeProcess.start(dir, durable())) {
            await("the first bridge up, holding the spool").atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(200)).until(() -> {
                        assertThat(holder.isAlive()).as("first bridge running; stderr: " + holder.stderr()).isTrue();
                        return Files.exists(dir.resolve("spool/lock"))
                               && Http.get(holder.healthPort(), "/healthz") != null;
                    });
            try (BridgeProcess second = BridgeProcess.start(dir, durable())) {
                assertStopsNaming(second, "SPOOL_DIR");
            }
            assertThat(holder.isAlive()).isTrue();
        }
    }

    @Test
    void should_exit_1_naming_SPOOL_OVERFLOW_drop_oldest_with_durable_delivery() throws IOException {
        Map<String, String> env = durable();
        env.put("SPOOL_OVERFLOW", "drop-oldest");
        try (BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory("config-errors"), env)) {
            assertStopsNaming(bridge, "SPOOL_OVERFLOW");
        }
    }
}

package dev.metamorphosis;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

import dev.metamorphosis.it.BridgeProcess;
import dev.metamorphosis.it.Certs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * A bad or missing setting is refused at start-up with one line naming it: the settings are read as the program reads
 * them ({@link Main#configure}: flags, the environment, .env, application.properties), without starting a process.
 * ConfigErrorsIT shows end to end that such a line is all the program prints, with exit code 1.
 */
class ConfigErrorsTest {

    @TempDir
    Path workDir;

    /** Everything a valid start needs, against brokers nobody listens on, the disk spool in the test's folder. */
    private Map<String, String> valid() {
        Map<String, String> env = BridgeProcess.environment(1, "127.0.0.1:1", "config-errors");
        env.put("SPOOL_DIR", workDir.resolve("spool").toString());
        return env;
    }

    /** The one line the program would print for these flags and this environment (fails if it would start). */
    private String refusal(Map<String, String> env, String... flags) {
        Settings.Invalid refused = catchThrowableOfType(Settings.Invalid.class,
                () -> Main.configure(Main.parseFlags(flags), env, workDir));
        assertThat(refused).as("refused").isNotNull();
        assertThat(refused.getMessage()).as("one line").doesNotContain("\n").doesNotContain("Exception");
        return refused.getMessage();
    }

    @Test
    void should_start_with_the_valid_settings_the_cases_below_break_one_by_one() throws IOException {
        assertThat(Main.configure(Map.of(), valid(), workDir).settings()).containsEntry("mqtt.port", "1")
                .containsEntry("delivery", "durable");
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
        "SPOOL_MAX_MESSAGES   | 0",
        "SPOOL_MAX_BYTES      | 1k",
        "SPOOL_OVERFLOW       | drop",
        "DELIVERY             | exactly-once",
    })
    void should_refuse_a_setting_that_is_missing_or_does_not_parse_naming_it(String setting, String value) {
        Map<String, String> env = valid();
        if (value == null) {
            env.remove(setting);
        } else {
            env.put(setting, value);
        }
        assertThat(refusal(env)).startsWith(value == null ? setting + " is required" : setting + "=\"" + value + "\"");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"drop-oldest", "drop-newest"})
    void should_refuse_dropping_messages_with_at_least_once_delivery(String overflow) {
        Map<String, String> env = valid();
        env.put("DELIVERY", "at-least-once");
        env.put("SPOOL_OVERFLOW", overflow);
        assertThat(refusal(env)).isEqualTo("SPOOL_OVERFLOW=" + overflow + " drops messages, which "
                + "DELIVERY=at-least-once never does: use SPOOL_OVERFLOW=block or DELIVERY=buffered");
    }

    @Test
    void should_refuse_dropping_the_oldest_with_durable_delivery_the_default() {
        Map<String, String> env = valid();
        env.put("SPOOL_OVERFLOW", "drop-oldest");
        assertThat(refusal(env)).startsWith("SPOOL_OVERFLOW=drop-oldest does not go with DELIVERY=durable");
    }

    @Test
    void should_refuse_a_spool_dir_durable_delivery_cannot_use() throws IOException {
        Map<String, String> env = valid();
        env.put("SPOOL_DIR", workDir.resolve("no-such-folder/spool").toString());
        assertThat(refusal(env)).startsWith("SPOOL_DIR=").contains("does not exist");
        env.put("SPOOL_DIR", Files.writeString(workDir.resolve("a-file"), "not a folder").toString());
        assertThat(refusal(env)).startsWith("SPOOL_DIR=").contains("is not a folder");
    }

    @Test
    void should_name_the_setting_and_file_of_a_bad_tls_file() {
        Certs certs = Certs.create("config-errors");
        Certs.Identity client = certs.issue("client", "RSA", Certs.KeyForm.TRADITIONAL);
        Certs.Identity other = certs.issue("other", "EC", Certs.KeyForm.TRADITIONAL);
        Path missing = certs.dir().resolve("missing.pem");
        Map<String, String> env = valid();
        env.remove("MQTT_TLS"); // the Go version's default: true
        env.put("ROOT_CA", missing.toString());
        assertThat(refusal(env)).isEqualTo("ROOT_CA=\"" + missing + "\" is not valid: the file does not exist");
        env.put("ROOT_CA", certs.ca().toString());
        env.put("MQTT_CLIENT_CERT", client.cert().toString());
        env.put("MQTT_CLIENT_KEY", other.key().toString());
        assertThat(refusal(env)).startsWith("MQTT_CLIENT_KEY=\"" + other.key() + "\" is not valid: it is not the key of "
                + "the certificate in MQTT_CLIENT_CERT=\"" + client.cert() + "\"");
        env.put("MQTT_CLIENT_KEY", client.key().toString());
        env.put("KAFKA_TLS", "true");
        env.put("KAFKA_ROOT_CA", client.key().toString());
        assertThat(refusal(env)).startsWith("KAFKA_ROOT_CA=\"" + client.key() + "\" is not valid: the file holds no "
                + "PEM certificate");
    }

    @Test
    void should_name_an_unknown_flag() {
        assertThat(refusal(valid(), "-no-such-flag", "x")).contains("-no-such-flag");
    }

    @Test
    void should_rank_flags_over_the_environment_over_the_dot_env_file() throws IOException {
        // the rejected value in the refusal tells which source won
        Files.writeString(workDir.resolve(".env"), "# a .env file\nexport KAFKA_BATCH_SIZE=\"from-dotenv\"\n"
                + "KAFKA_INTERVAL=from-dotenv # comment\n");
        Map<String, String> env = valid();
        env.remove("KAFKA_INTERVAL"); // from .env only
        env.put("KAFKA_BATCH_SIZE", "from-env");
        assertThat(refusal(env, "--kafka-batch-size=from-flag")).startsWith("KAFKA_BATCH_SIZE=\"from-flag\"");
        assertThat(refusal(env, "-kafka-batch-size", "7")).startsWith("KAFKA_INTERVAL=\"from-dotenv\"");
        assertThat(refusal(env)).startsWith("KAFKA_BATCH_SIZE=\"from-env\"");
        env.remove("KAFKA_BATCH_SIZE");
        assertThat(refusal(env)).startsWith("KAFKA_BATCH_SIZE=\"from-dotenv\"");
    }

    @Test
    void should_refuse_a_config_dir_that_is_not_a_folder_or_holds_no_routes() throws IOException {
        Map<String, String> env = valid();
        env.put("CONFIG_DIR", "no-such-folder");
        assertThat(refusal(env)).isEqualTo("CONFIG_DIR=\"no-such-folder\" is not a folder");
        env.put("CONFIG_DIR", Files.createDirectory(workDir.resolve("empty")).toString());
        assertThat(refusal(env)).startsWith("CONFIG_DIR=").contains("holds no route files");
    }

    static Stream<Arguments> badTopicMaps() {
        return Stream.of(
                Arguments.of("missing file", null, "", "does not exist"),
                Arguments.of("not YAML", """
                        - filter: "a/+"
                          topic: "x"
                        - filter: [unclosed
                        """, "", "YAML"),
                Arguments.of("unknown key", """
                        - filter: "a/+"
                          topic: "x"
                        - filter: "b/#"
                          topic: "y"
                          colour: red
                        """, "rule 2 (line 5): ", "colour"),
                Arguments.of("# not last", """
                        - filter: "a/#/b"
                          topic: "x"
                        """, "rule 1 (line 1): ", "a/#/b"),
                Arguments.of("{3} of two wildcards", """
                        - filter: "a/+"
                          topic: "x"
                        - filter: "a/+/b/+"
                          topic: "t-{3}"
                        """, "rule 2 (line 4): ", "{3}"),
                Arguments.of("unknown format", """
                        - filter: "a/+"
                          topic: "x"
                          format: xml
                        """, "rule 1 (line 3): ", "xml"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badTopicMaps")
    void should_refuse_a_bad_topic_map_naming_topic_map_the_file_and_the_rule(String name, String yaml, String rule,
                                                                              String says) throws IOException {
        String value;
        Path file;
        if (yaml == null) {
            value = "target/topic-maps/no-such-map.yaml"; // relative to CONFIG_DIR
            file = Path.of(value).toAbsolutePath();
        } else {
            file = Files.writeString(workDir.resolve("map.yaml"), yaml);
            value = file.toString();
        }
        Map<String, String> env = valid();
        env.put("TOPIC_MAP", value);
        assertThat(refusal(env)).startsWith("TOPIC_MAP=\"" + value + "\" (" + file + "): " + rule).contains(says);
    }
}

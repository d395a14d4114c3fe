package dev.metamorphosis;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Defaults, checks and derived values of the settings. */
class SettingsTest {

    @TempDir
    static Path spools;

    private static Map<String, String> required() {
        Map<String, String> values = new HashMap<>();
        values.put("spool.dir", spools.resolve("spool").toString());
        values.put("mqtt.broker", "mqtt.example.com");
        values.put("mqtt.tls", "false");
        values.put("mqtt.topic", "a/#");
        values.put("kafka.broker", "kafka");
        values.put("kafka.topic", "t");
        return values;
    }

    @Test
    void should_fill_in_the_go_versions_defaults() {
        Map<String, String> resolved = Settings.resolve(required()::get);
        assertThat(resolved).containsEntry("mqtt.port", "8883").containsEntry("kafka.port", "9092")
                .containsEntry("kafka.batch.size", "1000").containsEntry("kafka.max.batch.size", "8000")
                .containsEntry("kafka.interval", "5").containsEntry("kafka.retry.interval", "3")
                .containsEntry("health.port", "8080").containsEntry("log.level", "info")
                .containsEntry("mqtt.qos", "1").containsEntry("kafka.test.topic", "");
        assertThat(resolved.get("derived.mqtt.url")).isEqualTo("tcp://mqtt.example.com:8883");
        assertThat(resolved.get("derived.kafka.brokers")).isEqualTo("kafka:9092");
        assertThat(resolved.get("derived.mqtt.client-id")).isEqualTo(Settings.shortHostName());
    }

    @Test
    void should_spool_on_disk_by_default_in_a_folder_it_makes() {
        Map<String, String> values = required();
        values.put("spool.dir", spools.resolve("made").toString());
        assertThat(Settings.resolve(values::get)).containsEntry("delivery", "durable")
                .containsEntry("spool.max.bytes", "").containsEntry("spool.overflow", "block");
        assertThat(spools.resolve("made")).isDirectory();
    }

    @Test
    void should_refuse_a_spool_folder_it_cannot_use_naming_spool_dir() throws IOException {
        Map<String, String> values = required();
        values.put("spool.dir", spools.resolve("no/such/folder").toString());
        assertThatThrownBy(() -> Settings.resolve(values::get)).isInstanceOf(Settings.Invalid.class)
                .hasMessageStartingWith("SPOOL_DIR=").hasMessageContaining("does not exist");
        Path file = Files.writeString(spools.resolve("a-file"), "x");
        values.put("spool.dir", file.toString());
        assertThatThrownBy(() -> Settings.resolve(values::get)).hasMessageStartingWith("SPOOL_DIR=")
                .hasMessageContaining("is not a folder");
        // the other modes do not use it
        values.put("delivery", "buffered");
        assertThat(Settings.resolve(values::get)).containsEntry("delivery", "buffered");
    }

    @Test
    void should_refuse_dropping_the_oldest_with_the_disk_spool() {
        Map<String, String> values = required();
        values.put("spool.overflow", "drop-oldest");
        assertThatThrownBy(() -> Settings.resolve(values::get)).hasMessageStartingWith(
                "SPOOL_OVERFLOW=drop-oldest does not go with DELIVERY=durable");
        values.put("spool.overflow", "drop-newest");
        assertThat(Settings.resolve(values::get)).containsEntry("spool.overflow", "drop-newest");
        values.put("spool.max.bytes", "8589934592");
        assertThat(Settings.resolve(values::get)).containsEntry("spool.max.bytes", "8589934592");
    }

    @Test
    void should_take_a_list_of_kafka_brokers_with_and_without_ports() {
        Map<String, String> values = required();
        values.put("kafka.broker", "a, b:9999 ,[::1],[::1]:9093");
        values.put("kafka.port", "9094");
        assertThat(Settings.resolve(values::get).get("derived.kafka.brokers"))
                .isEqualTo("a:9094,b:9999,[::1]:9094,[::1]:9093");
    }

    @Test
    void should_replace_percent_h_in_the_client_id_by_the_short_host_name() {
        Map<String, String> values = required();
        values.put("mqtt.client.id", "bridge-%h");
        String host = Settings.shortHostName();
        assertThat(host).doesNotContain(".");
        assertThat(Settings.resolve(values::get).get("derived.mqtt.client-id")).isEqualTo("bridge-" + host);
    }

    @Test
    void should_read_booleans_and_levels_in_any_case() {
        Map<String, String> values = required();
        values.put("mqtt.tls", "FALSE");
        values.put("log.level", "DEBUG");
        Map<String, String> resolved = Settings.resolve(values::get);
        assertThat(resolved).containsEntry("mqtt.tls", "false").containsEntry("log.level", "debug");
    }

    @Test
    void should_normalise_the_list_of_topic_filters() {
        Map<String, String> values = required();
        values.put("mqtt.topic", " sensors/# , alarms/+/high,,");
        assertThat(Settings.resolve(values::get).get("mqtt.topic")).isEqualTo("sensors/#,alarms/+/high");
    }

    @Test
    void should_name_the_setting_and_the_value_it_rejects() {
        Map<String, String> values = required();
        values.put("kafka.interval", "soon");
        assertThatThrownBy(() -> Settings.resolve(values::get)).isInstanceOf(Settings.Invalid.class)
                .hasMessage("KAFKA_INTERVAL=\"soon\" is not valid: expected a whole number");
        values.put("kafka.interval", "5");
        values.remove("kafka.topic");
        assertThatThrownBy(() -> Settings.resolve(values::get)).hasMessageStartingWith("KAFKA_TOPIC is required");
    }

    @Test
    void should_derive_key_and_flag_from_the_environment_variable() {
        Settings.Setting s = Settings.ALL.stream().filter(x -> x.env().equals("KAFKA_MAX_BATCH_SIZE")).findFirst()
                .orElseThrow();
        assertThat(s.key()).isEqualTo("kafka.max.batch.size");
        assertThat(s.flag()).isEqualTo("-kafka-max-batch-size");
    }

    @Test
    void should_connect_with_ssl_by_default_trusting_the_jvm_trust_store() {
        Map<String, String> values = required();
        values.remove("mqtt.tls");
        Map<String, String> resolved = Settings.resolve(values::get);
        assertThat(resolved).containsEntry("mqtt.tls", "true").containsEntry("mqtt.tls.verify.hostname", "true")
                .containsEntry("derived.mqtt.url", "ssl://mqtt.example.com:8883");
    }

    @Test
    void should_check_the_tls_files_at_start_up_naming_setting_and_file() {
        Map<String, String> values = required();
        values.put("mqtt.tls", "true");
        values.put("root.ca", "/no/such/ca.pem");
        assertThatThrownBy(() -> Settings.resolve(values::get)).isInstanceOf(Settings.Invalid.class)
                .hasMessage("ROOT_CA=\"/no/such/ca.pem\" is not valid: the file does not exist");
        values.put("mqtt.tls", "false"); // as the Go version: the files do not matter without TLS
        Settings.resolve(values::get);
        values.put("kafka.tls", "true");
        values.put("kafka.client.key", "/no/such/key.pem");
        assertThatThrownBy(() -> Settings.resolve(values::get))
                .hasMessage("KAFKA_CLIENT_KEY is set but KAFKA_CLIENT_CERT is not: a client certificate needs its "
                        + "key, and a key its certificate");
        values.put("kafka.tls", "false");
        assertThatThrownBy(() -> Settings.resolve(values::get))
                .hasMessage("KAFKA_CLIENT_KEY is set but KAFKA_TLS is not true; set KAFKA_TLS=true to use it");
    }

    @Test
    void should_derive_the_kafka_security_protocol_from_tls_and_sasl() {
        Map<String, String> values = required();
        assertThat(Settings.resolve(values::get)).containsEntry("derived.kafka.security-protocol", "PLAINTEXT");
        assertThat(Settings.jaasConfig(Settings.resolve(values::get))).isEmpty();
        values.put("kafka.tls", "TRUE");
        assertThat(Settings.resolve(values::get)).containsEntry("derived.kafka.security-protocol", "SSL");
        values.put("kafka.sasl.mechanism", "plain");
        values.put("kafka.username", "bridge");
        values.put("kafka.password", "s3cret");
        assertThat(Settings.resolve(values::get)).containsEntry("kafka.sasl.mechanism", "PLAIN")
                .containsEntry("derived.kafka.security-protocol", "SASL_SSL");
        assertThat(Settings.jaasConfig(Settings.resolve(values::get))).isEqualTo(
                "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"bridge\" "
                        + "password=\"s3cret\";");
        values.put("kafka.tls", "false");
        values.put("kafka.sasl.mechanism", "Scram-Sha-512");
        assertThat(Settings.resolve(values::get)).containsEntry("kafka.sasl.mechanism", "SCRAM-SHA-512")
                .containsEntry("derived.kafka.security-protocol", "SASL_PLAINTEXT");
        assertThat(Settings.jaasConfig(Settings.resolve(values::get))).isEqualTo(
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"bridge\" "
                        + "password=\"s3cret\";");
    }

    @Test
    void should_quote_credentials_for_the_jaas_login_so_any_character_passes() {
        assertThat(Settings.jaasQuote("a\"b\\c d;e\nf")).isEqualTo("\"a\\\"b\\\\c d;e\\nf\"");
    }

    @Test
    void should_want_credentials_in_pairs_without_showing_the_password() {
        Map<String, String> values = required();
        values.put("kafka.sasl.mechanism", "SCRAM-SHA-256");
        values.put("kafka.password", "pw-not-shown");
        assertThatThrownBy(() -> Settings.resolve(values::get))
                .hasMessage("KAFKA_USERNAME is required when KAFKA_SASL_MECHANISM is set");
        values.put("kafka.sasl.mechanism", "");
        values.put("kafka.username", "bridge");
        assertThatThrownBy(() -> Settings.resolve(values::get))
                .hasMessage("KAFKA_USERNAME is set but KAFKA_SASL_MECHANISM is not; set it to PLAIN, SCRAM-SHA-256 "
                        + "or SCRAM-SHA-512");
        values.put("kafka.sasl.mechanism", "GSSAPI");
        assertThatThrownBy(() -> Settings.resolve(values::get))
                .hasMessage("KAFKA_SASL_MECHANISM=\"GSSAPI\" is not valid: expected one of PLAIN, SCRAM-SHA-256, "
                        + "SCRAM-SHA-512");
        Map<String, String> mqtt = required();
        mqtt.put("mqtt.password", "pw-not-shown");
        assertThatThrownBy(() -> Settings.resolve(mqtt::get))
                .hasMessage("MQTT_PASSWORD is set but MQTT_USERNAME is not");
    }

    @Test
    void should_subscribe_every_filter_in_the_shared_group() {
        Map<String, String> values = required();
        values.put("mqtt.topic", "sensors/#,alarms/+/high");
        assertThat(Settings.resolve(values::get)).containsEntry("derived.mqtt.filters", "sensors/#,alarms/+/high");
        values.put("mqtt.shared.group", " bridges ");
        assertThat(Settings.resolve(values::get)).containsEntry("mqtt.shared.group", "bridges")
                .containsEntry("derived.mqtt.filters", "$share/bridges/sensors/#,$share/bridges/alarms/+/high");
        values.put("mqtt.shared.group", "a/b");
        assertThatThrownBy(() -> Settings.resolve(values::get))
                .hasMessage("MQTT_SHARED_GROUP=\"a/b\" is not valid: a share name has no '/', '+' or '#'");
        values.put("mqtt.shared.group", "bridges");
        values.put("mqtt.topic", "$share/other/sensors/#");
        assertThatThrownBy(() -> Settings.resolve(values::get))
                .hasMessage("MQTT_TOPIC filter $share/other/sensors/# is a shared subscription already and "
                        + "MQTT_SHARED_GROUP=bridges would share it again: drop one of them");
    }

    @Test
    void should_size_the_mqtt_receive_window_to_the_batch_or_to_the_most_for_the_disk_spool_unless_set() {
        Map<String, String> values = required();
        // durable: the largest window, to ride out a slow sync of the disk
        assertThat(Settings.resolve(values::get)).containsEntry("derived.mqtt.receive-maximum", "65535");
        values.put("delivery", "at-least-once");
        assertThat(Settings.resolve(values::get)).containsEntry("derived.mqtt.receive-maximum", "8000");
        values.put("kafka.batch.size", "5000");
        assertThat(Settings.resolve(values::get)).containsEntry("derived.mqtt.receive-maximum", "10000");
        values.put("kafka.batch.size", "50000");
        assertThat(Settings.resolve(values::get)).containsEntry("derived.mqtt.receive-maximum", "65535");
        values.put("mqtt.receive.maximum", "100");
        assertThat(Settings.resolve(values::get)).containsEntry("derived.mqtt.receive-maximum", "100");
        values.put("mqtt.receive.maximum", "70000");
        assertThatThrownBy(() -> Settings.resolve(values::get))
                .hasMessage("MQTT_RECEIVE_MAXIMUM=\"70000\" is not valid: expected a whole number from 1 to 65535");
    }

    @Test
    void should_take_a_record_key_and_a_compression_kafka_knows() {
        Map<String, String> values = required();
        assertThat(Settings.resolve(values::get)).containsEntry("kafka.key", "none")
                .containsEntry("kafka.compression", "none");
        values.put("kafka.key", "Topic");
        values.put("kafka.compression", "ZSTD");
        assertThat(Settings.resolve(values::get)).containsEntry("kafka.key", "topic")
                .containsEntry("kafka.compression", "zstd");
        values.put("kafka.compression", "brotli");
        assertThatThrownBy(() -> Settings.resolve(values::get))
                .hasMessage("KAFKA_COMPRESSION=\"brotli\" is not valid: expected one of none, gzip, snappy, lz4, zstd");
    }
}

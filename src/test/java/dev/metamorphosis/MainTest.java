package dev.metamorphosis;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The Go version's flags and .env file. */
class MainTest {

    @Test
    void should_read_go_flags_with_one_or_two_dashes_and_a_space_or_equals_sign() {
        assertThat(Main.parseFlags(new String[] {"-mqtt-broker", "a", "--kafka-broker=b", "-kafka-port=1",
            "--mqtt-topic", "x/#"}))
                .containsEntry("MQTT_BROKER", "a").containsEntry("KAFKA_BROKER", "b")
                .containsEntry("KAFKA_PORT", "1").containsEntry("MQTT_TOPIC", "x/#");
    }

    @Test
    void should_take_the_go_versions_kakfa_port_typo_as_kafka_port_without_listing_it() {
        assertThat(Main.parseFlags(new String[] {"-kakfa-port", "1"})).containsEntry("KAFKA_PORT", "1");
        assertThat(Main.parseFlags(new String[] {"--kakfa-port", "2"})).containsEntry("KAFKA_PORT", "2");
        assertThat(Main.parseFlags(new String[] {"-kakfa-port=3"})).containsEntry("KAFKA_PORT", "3");
        assertThatThrownBy(() -> Main.parseFlags(new String[] {"-kakfa-port"}))
                .hasMessage("flag -kakfa-port needs a value (KAFKA_PORT)");
        assertThat(Main.usage()).contains("-kafka-port").doesNotContain("kakfa");
    }

    @Test
    void should_read_a_bare_boolean_flag_as_true() {
        assertThat(Main.parseFlags(new String[] {"-mqtt-tls", "-mqtt-broker", "a"}))
                .containsEntry("MQTT_TLS", "true").containsEntry("MQTT_BROKER", "a");
        assertThat(Main.parseFlags(new String[] {"-mqtt-tls", "false"})).containsEntry("MQTT_TLS", "false");
    }

    @Test
    void should_reject_unknown_flags_and_flags_without_value() {
        assertThatThrownBy(() -> Main.parseFlags(new String[] {"-nope", "1"})).hasMessageContaining("-nope");
        assertThatThrownBy(() -> Main.parseFlags(new String[] {"-kafka-port"}))
                .hasMessageContaining("KAFKA_PORT");
    }

    @Test
    void should_ask_for_help_with_h_and_list_every_flag() {
        assertThat(Main.parseFlags(new String[] {"-h"})).isNull();
        assertThat(Main.usage()).contains("-mqtt-broker", "MQTT_BROKER", "-kafka-test-topic", "(default: 8883)");
    }

    @Test
    void should_read_a_dot_env_file_as_godotenv_does(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve(".env"), """
                # comment
                MQTT_BROKER=broker.local
                export KAFKA_TOPIC=events
                MQTT_TOPIC="a/#,b/+" 
                MQTT_CLIENT_ID='id-%h'
                KAFKA_BROKER=k1 # trailing comment

                not a line
                """);
        assertThat(Main.readDotEnv(dir.resolve(".env"))).containsEntry("MQTT_BROKER", "broker.local")
                .containsEntry("KAFKA_TOPIC", "events").containsEntry("MQTT_TOPIC", "a/#,b/+")
                .containsEntry("MQTT_CLIENT_ID", "id-%h").containsEntry("KAFKA_BROKER", "k1").hasSize(5);
        assertThat(Main.readDotEnv(dir.resolve("missing"))).isEmpty();
    }
}

package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.awaitility.Awaitility;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

/**
 * The worked examples of docs/changing-routes.md: the files of examples/, put beside the routes in a configuration folder (as in a
 * ConfigMap), change what the built jar does, with no rebuild.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ExamplesIT {

    private static final String TOPIC = "examples-it";
    /** The Kafka topic of examples/topic-map.yaml's first rule. */
    private static final String SECOND_TOPIC = "mqtt-alarms";

    private BridgeProcess bridge;

    @BeforeAll
    void bridgeWithTheExamples() throws IOException {
        Path config = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "examples-it-");
        copy(BridgeProcess.repo().resolve("routes"), config);
        copy(BridgeProcess.repo().resolve("examples"), config);
        Files.copy(BridgeProcess.repo().resolve("application.properties"), config.resolve("application.properties"));
        // asks Camel to reload changed route files, which the jar must never do (see the last test)
        Files.writeString(config.resolve("application.properties"), "camel.main.routesReloadEnabled = true\n"
                + "camel.main.routesReloadDirectory = " + config + "\n", StandardOpenOption.APPEND);
        bridge = BridgeProcess.start(config, Map.of(
                "MQTT_BROKER", "127.0.0.1",
                "MQTT_PORT", Integer.toString(Brokers.mqtt().port()),
                "MQTT_TLS", "false",
                "MQTT_TOPIC", "examples/#,alarms/#",
                "MQTT_CLIENT_ID", "examples-it",
                "KAFKA_BROKER", Brokers.kafka().bootstrap(),
                "KAFKA_TOPIC", TOPIC,
                "KAFKA_INTERVAL", "1",
                "TOPIC_MAP", "topic-map.yaml"));
        bridge.awaitSubscribed("alarms/#", Duration.ofSeconds(120));
    }

    @AfterAll
    void stop() {
        bridge.close();
    }

    @Test
    void should_drop_the_messages_whose_topic_matches_the_pattern() {
        try (Publisher publisher = new Publisher(Brokers.mqtt().url())) {
            publisher.publish("examples/drop/kitchen/debug", new byte[] {1}, 1);
            publisher.publish("examples/drop/debug/trace", new byte[] {2}, 1);
            publisher.publish("examples/drop/kitchen/debugger", new byte[] {3}, 1);
            publisher.publish("examples/drop/kitchen/temperature", new byte[] {4}, 1);
        }
        // one subscription keeps their order: once the last is in Kafka, a dropped one would be there before it
        assertThat(awaitEnvelopes("examples/drop/", "examples/drop/kitchen/temperature")).containsExactly(
                "{\"topic\":\"examples/drop/kitchen/debugger\",\"content\":\"Aw==\"}",
                "{\"topic\":\"examples/drop/kitchen/temperature\",\"content\":\"BA==\"}");
    }

    @Test
    void should_write_the_envelopes_of_one_filter_to_the_second_kafka_topic() {
        try (Publisher publisher = new Publisher(Brokers.mqtt().url())) {
            publisher.publish("alarms/door", new byte[] {5}, 1);
            publisher.publish("examples/second/door", new byte[] {6}, 1);
        }
        assertThat(Records.await(Brokers.kafka().bootstrap(), SECOND_TOPIC, 1, Duration.ofSeconds(60)))
                .extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
                .containsExactly("{\"topic\":\"alarms/door\",\"content\":\"BQ==\"}");
        assertThat(awaitEnvelopes("examples/second/", "examples/second/door"))
                .containsExactly("{\"topic\":\"examples/second/door\",\"content\":\"Bg==\"}");
        assertThat(envelopes(TOPIC, "alarms/")).isEmpty();
    }

    @Test
    void should_write_raw_readings_to_a_kafka_topic_per_factory_keyed_by_line_with_their_mqtt_metadata() {
        try (Publisher publisher = new Publisher(Brokers.mqtt().url())) {
            publisher.publish("examples/factory/f9/line/4/temperature", new byte[] {0, (byte) 0xff}, 1,
                    List.of(new UserProperty("unit", "C")));
        }
        ConsumerRecord<byte[], byte[]> record = Records.await(Brokers.kafka().bootstrap(), "temperature-f9", 1,
                Duration.ofSeconds(60)).get(0);
        assertThat(record.value()).containsExactly(0, 0xff);
        assertThat(new String(record.key(), StandardCharsets.UTF_8)).isEqualTo("f9/4");
        assertThat(record.headers().toArray()).extracting(Header::key, h -> new String(h.value(),
                StandardCharsets.UTF_8)).containsExactly(tuple("mqtt.qos", "1"), tuple("mqtt.retain", "false"),
                tuple("mqtt.topic", "examples/factory/f9/line/4/temperature"), tuple("unit", "C"));
    }

    @Test
    void should_add_a_kafka_header_from_the_mqtt_5_user_property() {
        try (Publisher publisher = new Publisher(Brokers.mqtt().url())) {
            publisher.publish("examples/tenant/a", new byte[] {7}, 1,
                    List.of(new UserProperty("site", "oslo"), new UserProperty("tenant", "acme")));
            publisher.publish("examples/tenant/b", new byte[] {8}, 1);
        }
        awaitEnvelopes("examples/tenant/", "examples/tenant/b");
        List<ConsumerRecord<byte[], byte[]>> records = records(TOPIC, "examples/tenant/");
        assertThat(records).hasSize(2);
        assertThat(records.get(0).headers().toArray()).extracting(Header::key, h -> new String(h.value(),
                StandardCharsets.UTF_8)).containsExactly(tuple("tenant", "acme"));
        assertThat(records.get(1).headers().toArray()).isEmpty();
    }

    @Test
    void should_never_reload_routes_even_when_the_configuration_asks() {
        // Camel logs this when it watches the folder; the bridge has subscribed, so Camel has started
        assertThat(bridge.stdout()).doesNotContain("Live route reloading enabled");
    }

    /** Waits until the envelope of {@code last} is on KAFKA_TOPIC, then returns those of the topics under prefix. */
    private static List<String> awaitEnvelopes(String prefix, String last) {
        Awaitility.await(last + " on " + TOPIC).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> envelopes(TOPIC, prefix).stream().anyMatch(e -> e.contains("\"" + last + "\"")));
        return envelopes(TOPIC, prefix);
    }

    private static List<String> envelopes(String topic, String prefix) {
        return Records.values(records(topic, prefix));
    }

    private static List<ConsumerRecord<byte[], byte[]>> records(String topic, String prefix) {
        if (Records.count(Brokers.kafka().bootstrap(), topic) == 0) {
            return List.of();
        }
        return Records.read(Brokers.kafka().bootstrap(), topic).stream()
                .filter(r -> new String(r.value(), StandardCharsets.UTF_8).startsWith("{\"topic\":\"" + prefix))
                .toList();
    }

    private static void copy(Path folder, Path to) throws IOException {
        // the route files, and the topic map beside them
        try (DirectoryStream<Path> files = Files.newDirectoryStream(folder, "*.yaml")) {
            for (Path file : files) {
                Files.copy(file, to.resolve(file.getFileName()));
            }
        }
    }
}

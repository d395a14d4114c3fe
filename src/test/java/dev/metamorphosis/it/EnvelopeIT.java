package dev.metamorphosis.it;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import dev.metamorphosis.Settings;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static org.assertj.core.api.Assertions.assertThat;

/** Record values are byte for byte the Go version's envelope, whatever the payload and the topic. */
@CamelMainTest(configurationClasses = Settings.class, propertyPlaceholderLocations = "file:application.properties",
        properties = {
            "camel.main.routesIncludePattern=file:routes/*.camel.yaml",
            "mqtt.topic=envelope/#",
            "kafka.topic=envelope-it",
            "kafka.interval=1"
        })
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EnvelopeIT {

    static {
        Brokers.useShared();
    }

    /** One MQTT message and the record value expected for it, written out by hand. */
    record Case(String topic, byte[] payload, String expected) {
    }

    /** The Go envelope of a payload, the topic given as the Go version escapes it in JSON. */
    static String envelope(String escapedTopic, byte[] payload) {
        return "{\"topic\":\"" + escapedTopic + "\",\"content\":\"" + Base64.getEncoder().encodeToString(payload)
                + "\"}";
    }

    @Test
    void should_write_each_payload_and_topic_as_the_exact_envelope_bytes() {
        byte[] allBytes = new byte[256];
        for (int i = 0; i < 256; i++) {
            allBytes[i] = (byte) i;
        }
        byte[] random = new byte[512 * 1024];
        new Random(42).nextBytes(random);
        byte[] text = "Grüße, 世界 🌍 \"quoted\" \\ <tag> & done\n".getBytes(StandardCharsets.UTF_8);
        List<Case> cases = List.of(
                new Case("envelope/empty", new byte[0], "{\"topic\":\"envelope/empty\",\"content\":\"\"}"),
                new Case("envelope/all-bytes", allBytes, envelope("envelope/all-bytes", allBytes)),
                new Case("envelope/random", random, envelope("envelope/random", random)),
                new Case("envelope/utf8", text, envelope("envelope/utf8", text)),
                new Case("envelope/quote\"d", new byte[] {'q'}, "{\"topic\":\"envelope/quote\\\"d\",\"content\":\"cQ==\"}"),
                new Case("envelope/back\\slash", new byte[] {'b', 's'},
                        "{\"topic\":\"envelope/back\\\\slash\",\"content\":\"YnM=\"}"),
                new Case("envelope/Ærøskøbing/ünï", new byte[] {1, 2, 3},
                        "{\"topic\":\"envelope/Ærøskøbing/ünï\",\"content\":\"AQID\"}"),
                // the two samples the Go version was seen to write
                new Case("envelope/test/env/<x>&ü", new byte[] {'z'},
                        "{\"topic\":\"envelope/test/env/\\u003cx\\u003e\\u0026ü\",\"content\":\"eg==\"}"),
                new Case("envelope/go-bytes", HexFormat.of().parseHex("0001fffe223c3e260a"),
                        "{\"topic\":\"envelope/go-bytes\",\"content\":\"AAH//iI8PiYK\"}"));

        try (Publisher publisher = new Publisher(Brokers.mqtt().url())) {
            for (Case c : cases) {
                publisher.publish(c.topic(), c.payload(), 1);
            }
        }

        List<ConsumerRecord<byte[], byte[]>> records = Records.await(Brokers.kafka().bootstrap(), "envelope-it",
                cases.size(), Duration.ofSeconds(60));
        List<String> values = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            values.add(HexFormat.of().formatHex(r.value()));
            assertThat(r.key()).isNull();
            assertThat(r.headers().toArray()).isEmpty();
        }
        assertThat(values).containsExactlyInAnyOrderElementsOf(cases.stream()
                .map(c -> HexFormat.of().formatHex(c.expected().getBytes(StandardCharsets.UTF_8))).toList());
    }
}

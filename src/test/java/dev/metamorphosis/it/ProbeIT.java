package dev.metamorphosis.it;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import dev.metamorphosis.Settings;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The probe record is written before any subscription: with the probe topic the same as the bridge's topic, it is
 * the first record, and a retained MQTT message (delivered the moment the bridge subscribes) comes after it.
 */
@CamelMainTest(configurationClasses = Settings.class, propertyPlaceholderLocations = "file:application.properties",
        properties = {
            "camel.main.routesIncludePattern=file:routes/*.camel.yaml",
            "mqtt.client.id=probe-it-%h",
            "mqtt.topic=probe-it/#",
            "kafka.topic=probe-it",
            "kafka.test.topic=probe-it",
            "kafka.interval=1"
        })
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProbeIT {

    @BeforeAll
    static void retainedMessageBeforeTheBridgeStarts() {
        Brokers.useShared();
        try (Publisher publisher = new Publisher(Brokers.mqtt().url())) {
            publisher.publish("probe-it/retained", "kept".getBytes(StandardCharsets.UTF_8), 1, true);
        }
    }

    @Test
    void should_write_the_exact_probe_record_first_then_bridge() {
        List<ConsumerRecord<byte[], byte[]>> records = Records.await(Brokers.kafka().bootstrap(), "probe-it", 2,
                Duration.ofSeconds(60));
        assertThat(records).hasSize(2);
        assertThat(new String(records.get(0).value(), StandardCharsets.UTF_8)).isEqualTo(
                "{\"topic\":\"test\",\"content\":\"SW50ZXJuYWwgdGVzdCB0byBzZWUgaWYga2Fma2EgaXMgYWxpdmUgYXQgc3RhcnR1cA==\"}");
        assertThat(records.get(0).key()).isNull();
        assertThat(records.get(0).headers().toArray()).isEmpty();
        assertThat(new String(records.get(1).value(), StandardCharsets.UTF_8))
                .isEqualTo("{\"topic\":\"probe-it/retained\",\"content\":\"a2VwdA==\"}");
    }
}

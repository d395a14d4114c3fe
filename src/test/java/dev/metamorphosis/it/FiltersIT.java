package dev.metamorphosis.it;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import dev.metamorphosis.Settings;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static org.assertj.core.api.Assertions.assertThat;

/** MQTT_TOPIC takes several filters with wildcards; topics none of them matches are not bridged. */
@CamelMainTest(configurationClasses = Settings.class, propertyPlaceholderLocations = "file:application.properties",
        properties = {
            "camel.main.routesIncludePattern=file:routes/*.camel.yaml",
            "mqtt.client.id=filters-it-%h",
            "mqtt.topic=filters/sensors/#, filters/alarms/+/high",
            "kafka.topic=filters-it",
            "kafka.interval=1"
        })
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FiltersIT {

    @BeforeAll
    static void brokers() {
        Brokers.useShared();
    }

    @Test
    void should_bridge_exactly_the_topics_the_filters_match() {
        String[] unmatched = {"filters/alarms/a/low", "filters/alarms/a/b/high", "filters/other", "filters/sensorsX"};
        String[] matched = {"filters/sensors", "filters/sensors/a/b/c", "filters/alarms/a/high", "filters/alarms/b/high"};
        try (Publisher publisher = new Publisher(Brokers.mqtt().url())) {
            for (String topic : unmatched) {
                publisher.publish(topic, topic.getBytes(StandardCharsets.UTF_8), 1);
            }
            for (String topic : matched) {
                publisher.publish(topic, topic.getBytes(StandardCharsets.UTF_8), 1);
            }
            // one more per subscription: when these are in, anything published before them would be too
            publisher.publish("filters/sensors/last", new byte[0], 1);
            publisher.publish("filters/alarms/last/high", new byte[0], 1);
        }
        var records = Records.await(Brokers.kafka().bootstrap(), "filters-it", matched.length + 2,
                Duration.ofSeconds(60));
        assertThat(records.stream().map(r -> GoEnvelope.parse(r.value()).topic())).containsExactlyInAnyOrder(
                "filters/sensors", "filters/sensors/a/b/c", "filters/alarms/a/high", "filters/alarms/b/high",
                "filters/sensors/last", "filters/alarms/last/high");
    }
}

package dev.metamorphosis.it;

import java.time.Duration;

import dev.metamorphosis.Settings;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static org.assertj.core.api.Assertions.assertThat;

/** With a batch size no test reaches, a batch goes to Kafka every KAFKA_INTERVAL seconds. */
@CamelMainTest(configurationClasses = Settings.class, propertyPlaceholderLocations = "file:application.properties",
        properties = {
            "camel.main.routesIncludePattern=file:routes/*.camel.yaml",
            "mqtt.client.id=flush-time-it-%h",
            "mqtt.topic=flush-time/#",
            "kafka.topic=flush-time-it",
            "kafka.batch.size=1000000",
            "delivery=buffered",
            "kafka.interval=1"
        })
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FlushByTimeIT {

    @BeforeAll
    static void brokers() {
        Brokers.useShared();
    }

    @Test
    void should_write_a_partial_batch_when_the_interval_has_passed() {
        String kafka = Brokers.kafka().bootstrap();
        try (Publisher publisher = new Publisher(Brokers.mqtt().url())) {
            for (int i = 0; i < 3; i++) {
                publisher.publish("flush-time/a", new byte[] {(byte) i}, 1);
            }
        }
        assertThat(Records.await(kafka, "flush-time-it", 3, Duration.ofSeconds(30))).hasSize(3);
        try (Publisher publisher = new Publisher(Brokers.mqtt().url())) {
            publisher.publish("flush-time/a", new byte[] {3}, 1);
        }
        assertThat(Records.await(kafka, "flush-time-it", 4, Duration.ofSeconds(30))).hasSize(4);
    }
}

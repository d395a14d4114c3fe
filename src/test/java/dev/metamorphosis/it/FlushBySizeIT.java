package dev.metamorphosis.it;

import java.time.Duration;

import dev.metamorphosis.Batch;
import dev.metamorphosis.Settings;
import dev.metamorphosis.Spool;
import org.apache.camel.BeanInject;
import org.apache.camel.CamelContext;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static org.assertj.core.api.Assertions.assertThat;

/** With an interval of an hour, a batch goes to Kafka exactly when KAFKA_BATCH_SIZE envelopes wait. */
@CamelMainTest(configurationClasses = Settings.class, propertyPlaceholderLocations = "file:application.properties",
        properties = {
            "camel.main.routesIncludePattern=file:routes/*.camel.yaml",
            "mqtt.client.id=flush-size-it-%h",
            "mqtt.topic=flush-size/#",
            "kafka.topic=flush-size-it",
            "kafka.batch.size=25",
            // a backlog must not grow the batch beyond KAFKA_BATCH_SIZE here, however slow the machine
            "kafka.max.batch.size=25",
            "delivery=buffered",
            "kafka.interval=3600"
        })
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FlushBySizeIT {

    @BeanInject
    CamelContext context;

    @BeforeAll
    static void brokers() {
        Brokers.useShared();
    }

    @Test
    void should_write_a_batch_when_batch_size_envelopes_wait() {
        String kafka = Brokers.kafka().bootstrap();
        try (Publisher publisher = new Publisher(Brokers.mqtt().url())) {
            Batch batch = context.getRegistry().lookupByNameAndType("batch", Batch.class);
            for (int i = 0; i < 24; i++) {
                publisher.publish("flush-size/a", new byte[] {(byte) i}, 1);
            }
            Awaitility.await("24 envelopes joined the batch").atMost(Duration.ofSeconds(60))
                    .until(() -> batch.size() == 24);
            assertThat(Records.count(kafka, "flush-size-it")).as("records before the batch is full").isZero();
            Spool spool = context.getRegistry().lookupByNameAndType("spool", Spool.class);
            int envelope = "{\"topic\":\"flush-size/a\",\"content\":\"AA==\"}".length();
            assertThat(spool.messages()).as("spooled messages").isEqualTo(24);
            assertThat(spool.bytes()).as("spooled bytes").isEqualTo(24L * envelope);
            assertThat(spool.oldestAgeMillis()).as("age of the oldest").isPositive();

            publisher.publish("flush-size/a", new byte[] {24}, 1);
            assertThat(Records.await(kafka, "flush-size-it", 25, Duration.ofSeconds(60))).hasSize(25);
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> spool.messages() == 0);
            assertThat(spool.bytes()).isZero();
            assertThat(spool.oldestAgeMillis()).isZero();

            for (int i = 25; i < 99; i++) {
                publisher.publish("flush-size/a", new byte[] {(byte) i}, 1);
            }
            assertThat(Records.await(kafka, "flush-size-it", 75, Duration.ofSeconds(60))).hasSize(75);
            Awaitility.await("the next 24 envelopes joined the batch").atMost(Duration.ofSeconds(60))
                    .until(() -> batch.size() == 24);
            assertThat(Records.count(kafka, "flush-size-it")).as("the 24 of the next batch wait").isEqualTo(75);
        }
    }
}

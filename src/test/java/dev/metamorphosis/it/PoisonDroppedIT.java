package dev.metamorphosis.it;

import java.time.Duration;
import java.util.Base64;
import java.util.List;

import dev.metamorphosis.DeadLetter;
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

/**
 * A message the broker refuses for good (2 MiB: the producer here takes up to 4 MiB, the broker 1 MiB) is counted
 * and dropped when DEAD_LETTER_TOPIC is not set; the stream goes on, nothing else lost, order kept, and only the
 * records the producer sent behind it in its batch may be written twice.
 */
@CamelMainTest(configurationClasses = Settings.class, propertyPlaceholderLocations = "file:application.properties",
        properties = {
            "camel.main.routesIncludePattern=file:routes/*.camel.yaml",
            "mqtt.client.id=poison-dropped-it-%h",
            "mqtt.topic=poison-dropped-it/#",
            "kafka.topic=poison-dropped-it",
            "delivery=buffered",
            "kafka.interval=1",
            "kafka.retry.interval=1",
            "camel.component.kafka.maxRequestSize=4194304"
        })
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PoisonDroppedIT {

    @BeanInject
    CamelContext context;

    @BeforeAll
    static void brokers() {
        Brokers.useShared();
    }

    @Test
    void should_drop_and_count_a_message_the_broker_refuses_when_no_dead_letter_topic_is_set() {
        PoisonIT.publishAroundPoison("poison-dropped-it/a", 2 * 1024 * 1024);
        String kafka = Brokers.kafka().bootstrap();
        DeadLetter deadLetter = context.getRegistry().lookupByNameAndType("deadLetter", DeadLetter.class);
        Awaitility.await("set aside").atMost(Duration.ofSeconds(60)).until(() -> deadLetter.count() == 1);
        Awaitility.await("spool empty").atMost(Duration.ofSeconds(60))
                .until(() -> context.getRegistry().lookupByNameAndType("spool", Spool.class).messages() == 0);
        List<String> written = Records.values(Records.read(kafka, "poison-dropped-it"));
        List<String> expected = PoisonIT.goodEnvelopes("poison-dropped-it/a");
        assertThat(new java.util.ArrayList<>(new java.util.LinkedHashSet<>(written)))
                .as("every good message, in order of first appearance").isEqualTo(expected);
        // the broker refuses the record only after the producer sent those behind it in its batch (all 20 fit in one
        // of KAFKA_BATCH_SIZE): those may go twice; those before it Kafka had acknowledged, and go once
        for (String before : expected.subList(0, 10)) {
            assertThat(java.util.Collections.frequency(written, before)).as("times written: " + before).isOne();
        }
        for (String behind : expected.subList(10, 20)) {
            assertThat(java.util.Collections.frequency(written, behind)).as("times written: " + behind)
                    .isBetween(1, 2);
        }
        Traffic.report("RESULT | poison-message-broker-refuses | buffered | published 21 | delivered "
                           + written.size() + " | lost 0 | set aside 1 | duplicated " + (written.size() - 20));
    }
}

package dev.metamorphosis.it;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

import dev.metamorphosis.DeadLetter;
import dev.metamorphosis.Settings;
import dev.metamorphosis.Spool;
import org.apache.camel.BeanInject;
import org.apache.camel.CamelContext;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static org.assertj.core.api.Assertions.assertThat;

/** A message too large for Kafka (3 MB, above the producer's limit) goes to the dead-letter topic; the rest goes on. */
@CamelMainTest(configurationClasses = Settings.class, propertyPlaceholderLocations = "file:application.properties",
        properties = {
            "camel.main.routesIncludePattern=file:routes/*.camel.yaml",
            "mqtt.client.id=poison-it-%h",
            "mqtt.topic=poison-it/#",
            "kafka.topic=poison-it",
            "dead.letter.topic=poison-it-dead",
            "kafka.interval=1",
            "kafka.retry.interval=1"
        })
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PoisonIT {

    @BeanInject
    CamelContext context;

    @BeforeAll
    static void brokers() {
        Brokers.useShared();
    }

    @Test
    void should_set_a_message_kafka_refuses_aside_to_the_dead_letter_topic_and_go_on() {
        byte[] poison = publishAroundPoison("poison-it/a", 3 * 1024 * 1024);
        String kafka = Brokers.kafka().bootstrap();
        List<ConsumerRecord<byte[], byte[]>> good = Records.await(kafka, "poison-it", 20, Duration.ofSeconds(90));
        assertThat(Records.values(good))
                .as("the good messages, each once, in order")
                .isEqualTo(goodEnvelopes("poison-it/a"));

        Traffic.report("RESULT | poison-message-too-large | at-least-once | published 21 | delivered " + good.size()
                       + " | lost 0 | dead-lettered 1 | duplicated 0");
        List<ConsumerRecord<byte[], byte[]>> dead = Records.await(kafka, "poison-it-dead", 1, Duration.ofSeconds(60));
        assertThat(dead).hasSize(1);
        assertThat(new String(dead.get(0).value(), StandardCharsets.UTF_8)).isEqualTo(
                "{\"topic\":\"poison-it/a\",\"content\":\"" + Base64.getEncoder().encodeToString(poison) + "\"}");
        assertThat(new String(dead.get(0).headers().lastHeader("metamorphosis-mqtt-topic").value(),
                StandardCharsets.UTF_8)).isEqualTo("poison-it/a");
        assertThat(new String(dead.get(0).headers().lastHeader("metamorphosis-error").value(),
                StandardCharsets.UTF_8)).contains("RecordTooLargeException");

        assertThat(context.getRegistry().lookupByNameAndType("deadLetter", DeadLetter.class).count()).isEqualTo(1);
        Awaitility.await().atMost(Duration.ofSeconds(30))
                .until(() -> context.getRegistry().lookupByNameAndType("spool", Spool.class).messages() == 0);
    }

    /** Publishes "good 0" to "good 9", a poison message of the given size, "good 10" to "good 19"; returns the poison. */
    static byte[] publishAroundPoison(String topic, int size) {
        byte[] poison = new byte[size];
        java.util.Arrays.fill(poison, (byte) 'p');
        try (Publisher publisher = new Publisher(Brokers.mqtt().url())) {
            for (int i = 0; i < 20; i++) {
                if (i == 10) {
                    publisher.publish(topic, poison, 1);
                }
                publisher.publish(topic, ("good " + i).getBytes(StandardCharsets.UTF_8), 1);
            }
        }
        return poison;
    }

    /** The envelopes of the 20 good messages, in order, written out independently of the bridge. */
    static List<String> goodEnvelopes(String topic) {
        return java.util.stream.IntStream.range(0, 20).mapToObj(i -> "{\"topic\":\"" + topic + "\",\"content\":\""
                + Base64.getEncoder().encodeToString(("good " + i).getBytes(StandardCharsets.UTF_8)) + "\"}").toList();
    }
}

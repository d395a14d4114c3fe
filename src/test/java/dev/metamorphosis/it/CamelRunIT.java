package dev.metamorphosis.it;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.parallel.Isolated;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code camel run routes/*.camel.yaml application.properties}, typed as docs/changing-routes.md says, runs the bridge.
 * It runs by itself ({@link Isolated}: after the other tests): beside them {@code camel run} once took 24 s to boot and
 * failed the bridge's 10 s Kafka probe.
 */
@Isolated
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CamelRunIT {

    private static final String TOPIC = "camel-run-it";
    private static final String PROBE_TOPIC = "camel-run-it-probe";

    private BridgeProcess camel;

    @BeforeAll
    void camelRun() {
        Map<String, String> env = new HashMap<>();
        env.put("HOME", System.getProperty("user.home"));
        env.put("MQTT_BROKER", "127.0.0.1");
        env.put("MQTT_PORT", Integer.toString(Brokers.mqtt().port()));
        env.put("MQTT_TLS", "false");
        env.put("MQTT_TOPIC", "camel-run/#");
        env.put("MQTT_CLIENT_ID", "camel-run-it");
        env.put("KAFKA_BROKER", Brokers.kafka().bootstrap());
        env.put("KAFKA_TOPIC", TOPIC);
        env.put("KAFKA_TEST_TOPIC", PROBE_TOPIC);
        env.put("DELIVERY", "buffered");
        env.put("KAFKA_BATCH_SIZE", "4");
        env.put("KAFKA_INTERVAL", "3600");
        // the shell expands the wildcard, as for a user; the first run of ./camel also resolves Camel JBang
        camel = BridgeProcess.run(BridgeProcess.repo(), env,
                List.of("sh", "-c", "exec ./camel run routes/*.camel.yaml application.properties"));
        camel.awaitSubscribed("camel-run/#", Duration.ofMinutes(5));
    }

    @AfterAll
    void stop() {
        camel.close();
    }

    @Test
    void should_read_payloads_make_pahos_loggers_and_take_messages_through_the_bridges_own_classes() {
        assertThat(camel.stdout()).contains(PayloadReadIT.BULK + "file:" + BridgeProcess.jar());
        assertThat(camel.stdout() + camel.stderr()).doesNotContain(PayloadReadIT.BYTE_PER_CALL)
                .doesNotContain(PayloadReadIT.PAHO_LOGGERS).doesNotContain(PayloadReadIT.PAHO_QUEUE);
    }

    @Test
    void should_write_the_probe_before_subscribing() {
        List<ConsumerRecord<byte[], byte[]>> probe = Records.await(Brokers.kafka().bootstrap(), PROBE_TOPIC, 1,
                Duration.ofSeconds(60));
        assertThat(probe).singleElement().extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
                .isEqualTo("{\"topic\":\"test\",\"content\":"
                        + "\"SW50ZXJuYWwgdGVzdCB0byBzZWUgaWYga2Fma2EgaXMgYWxpdmUgYXQgc3RhcnR1cA==\"}");
    }

    @Test
    void should_write_each_full_batch_of_envelopes_byte_for_byte() {
        String kafka = Brokers.kafka().bootstrap();
        try (Publisher publisher = new Publisher(Brokers.mqtt().url())) {
            publisher.publish("camel-run/<a>&", new byte[] {0, 1, (byte) 0xff, (byte) 0xfe}, 1);
            publisher.publish("camel-run/b", "hello".getBytes(StandardCharsets.UTF_8), 1);
            publisher.publish("camel-run/c", new byte[0], 1);
            publisher.publish("camel-run/d", new byte[] {'"'}, 1);
            publisher.publish("camel-run/e", new byte[] {'e'}, 1);
        }
        List<ConsumerRecord<byte[], byte[]>> records = Records.await(kafka, TOPIC, 4, Duration.ofSeconds(60));
        assertThat(records).extracting(r -> new String(r.value(), StandardCharsets.UTF_8)).containsExactly(
                "{\"topic\":\"camel-run/\\u003ca\\u003e\\u0026\",\"content\":\"AAH//g==\"}",
                "{\"topic\":\"camel-run/b\",\"content\":\"aGVsbG8=\"}",
                "{\"topic\":\"camel-run/c\",\"content\":\"\"}",
                "{\"topic\":\"camel-run/d\",\"content\":\"Ig==\"}");
        assertThat(records).allSatisfy(r -> {
            assertThat(r.key()).isNull();
            assertThat(r.headers().toArray()).isEmpty();
        });
        // DELIVERY, KAFKA_BATCH_SIZE and KAFKA_INTERVAL reached camel run: the fifth envelope waits for three more
        assertThat(Records.count(kafka, TOPIC)).isEqualTo(4);
    }
}

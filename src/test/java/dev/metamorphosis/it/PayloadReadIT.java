package dev.metamorphosis.it;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The bridge's own {@code CountingInputStream}, which reads payloads in bulk, is the one Paho loads when the jar is
 * run as the README and the container run it; the start-up log says which one was loaded, and from where. So is the
 * bridge's own {@code LoggerFactory}: the start-up log warns when Paho's was loaded.
 */
// bridge processes on the shared brokers, topics of their own: runs beside the concurrent scenarios
@Execution(ExecutionMode.CONCURRENT)
class PayloadReadIT {

    static final String BULK = "MQTT payloads read in bulk by "
            + "org.eclipse.paho.mqttv5.common.packet.util.CountingInputStream from ";
    static final String BYTE_PER_CALL = "MQTT payloads read a byte per call by "
            + "org.eclipse.paho.mqttv5.common.packet.util.CountingInputStream from ";
    /** The warning that Paho's own LoggerFactory was loaded instead of the bridge's (see LoggerFactoryTest). */
    static final String PAHO_LOGGERS = "Paho's loggers made by Paho's own "
            + "org.eclipse.paho.mqttv5.client.logging.LoggerFactory from ";

    /** The warning that MQTT messages go through Paho's queue after all (see MqttComponent.OnReceiver). */
    static final String PAHO_QUEUE = "MQTT messages go through Paho's queue and callback thread";

    @Test
    void should_read_payloads_through_the_bridges_own_class_under_java_jar() {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        assertBulkReadsOf10KiB("payload-jar", List.of(java, "-Xmx384m", "-jar", BridgeProcess.jar().toString()));
    }

    @Test
    void should_read_payloads_through_the_bridges_own_class_under_the_container_entrypoint() {
        assertBulkReadsOf10KiB("payload-entrypoint", List.of("sh", BridgeProcess.entrypoint().toString()));
    }

    @Test
    void should_warn_when_the_paho_jar_comes_first_on_the_class_path(@TempDir Path dir) {
        Map<String, String> env = environment("payload-paho-first");
        env.put("METAMORPHOSIS_JAR", BridgeProcess.pahoFirstJar(dir).toString());
        try (BridgeProcess bridge = BridgeProcess.start(BridgeProcess.repo(), env)) {
            bridge.awaitSubscribed(Duration.ofMinutes(2));
            String pahoJar = Pattern.quote("file:" + BridgeProcess.jar().resolveSibling("lib")
                    .resolve("org.eclipse.paho.mqttv5.client-")) + "[0-9.]+\\.jar";
            assertThat(bridge.stderr()).containsPattern(Pattern.quote(BYTE_PER_CALL) + pahoJar);
            assertThat(bridge.stderr()).containsPattern(Pattern.quote(PAHO_LOGGERS) + pahoJar);
            assertThat(bridge.stdout()).doesNotContain(BULK);
        }
    }

    /** Starts the bridge with {@code command}, checks the start-up line, and sends 10 KiB messages through it. */
    private static void assertBulkReadsOf10KiB(String prefix, List<String> command) {
        try (BridgeProcess bridge = BridgeProcess.run(BridgeProcess.repo(), environment(prefix), command)) {
            bridge.awaitSubscribed(Duration.ofMinutes(2));
            assertThat(bridge.stdout()).contains(BULK + "file:" + BridgeProcess.jar());
            assertThat(bridge.stderr()).doesNotContain(BYTE_PER_CALL).doesNotContain(PAHO_LOGGERS)
                    .doesNotContain(PAHO_QUEUE);

            List<String> expected = new ArrayList<>();
            try (Publisher publisher = new Publisher(Brokers.mqtt().url())) {
                for (int i = 0; i < 20; i++) {
                    byte[] payload = payload(10_240, i);
                    publisher.publish(prefix + "/" + i, payload, 1);
                    expected.add(EnvelopeIT.envelope(prefix + "/" + i, payload));
                }
            }
            List<ConsumerRecord<byte[], byte[]>> records = Records.await(Brokers.kafka().bootstrap(), prefix, 20,
                    Duration.ofSeconds(60));
            assertThat(records).extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
                    .containsExactlyElementsOf(expected);
        }
    }

    private static Map<String, String> environment(String prefix) {
        return BridgeProcess.environment(Brokers.mqtt().port(), Brokers.kafka().bootstrap(), prefix, "at-least-once");
    }

    private static byte[] payload(int size, int seed) {
        byte[] payload = new byte[size];
        for (int i = 0; i < size; i++) {
            payload[i] = (byte) (i * 7 + seed * 13 + i / 251);
        }
        return payload;
    }
}

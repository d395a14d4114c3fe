package dev.metamorphosis.it;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import dev.metamorphosis.it.Certs.KeyForm;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each TLS and authentication mode passes messages end to end through the real program: one MQTT mode and one Kafka
 * mode a run, against the brokers of {@link SecureBrokers}.
 */
// bridge processes on the secure brokers, a topic of their own each: runs beside the concurrent scenarios
@Execution(ExecutionMode.CONCURRENT)
@Order(2) // early, after the durable outages: 1.5 to 2 minutes, longer than most (junit-platform.properties)
class SecureBridgeIT {

    private static final int MESSAGES = 5;

    static Stream<Arguments> modes() {
        Certs ca = SecureBrokers.certs();
        Certs.Identity rsa = ca.issue("client-rsa", "RSA", KeyForm.TRADITIONAL);
        Certs.Identity ec = ca.issue("client-ec", "EC", KeyForm.TRADITIONAL);
        Certs.Identity pkcs8 = ca.issue("client-pkcs8", "RSA", KeyForm.PKCS8);
        String root = ca.ca().toString();
        return Stream.of(
                Arguments.of("mutual TLS, Go variables only, PKCS#1 RSA key", Map.of(
                        "MQTT_PORT", port("mtls"), "ROOT_CA", root,
                        "MQTT_CLIENT_CERT", rsa.cert().toString(), "MQTT_CLIENT_KEY", rsa.key().toString()),
                        "mutual TLS, SEC1 EC key", Map.of(
                        "KAFKA_BROKER", SecureBrokers.kafka("MTLS"), "KAFKA_TLS", "true", "KAFKA_ROOT_CA", root,
                        "KAFKA_CLIENT_CERT", ec.cert().toString(), "KAFKA_CLIENT_KEY", ec.key().toString())),
                Arguments.of("mutual TLS, SEC1 EC key", Map.of(
                        "MQTT_TLS", "true", "MQTT_PORT", port("mtls"), "ROOT_CA", root,
                        "MQTT_CLIENT_CERT", ec.cert().toString(), "MQTT_CLIENT_KEY", ec.key().toString()),
                        "mutual TLS, PKCS#8 key", Map.of(
                        "KAFKA_BROKER", SecureBrokers.kafka("MTLS"), "KAFKA_TLS", "true", "KAFKA_ROOT_CA", root,
                        "KAFKA_CLIENT_CERT", pkcs8.cert().toString(), "KAFKA_CLIENT_KEY", pkcs8.key().toString())),
                Arguments.of("server TLS, user name and password", Map.of(
                        "MQTT_PORT", port("tls"), "ROOT_CA", root,
                        "MQTT_USERNAME", SecureBrokers.USER, "MQTT_PASSWORD", SecureBrokers.MQTT_PASSWORD),
                        "TLS and SCRAM-SHA-256", sasl("SASL_SSL", "SCRAM-SHA-256", root)),
                Arguments.of("server TLS, the JVM's trust store", Map.of(
                        "MQTT_PORT", port("tls"), "JAVA_TOOL_OPTIONS", jvmTrustStore()),
                        "server TLS, the JVM's trust store", Map.of(
                        "KAFKA_BROKER", SecureBrokers.kafka("TLS"), "KAFKA_TLS", "true")),
                Arguments.of("host name check off, certificate for another host", Map.of(
                        "MQTT_PORT", port("wrong-host"), "ROOT_CA", root, "MQTT_TLS_VERIFY_HOSTNAME", "false"),
                        "TLS and PLAIN", sasl("SASL_SSL", "PLAIN", root)),
                Arguments.of("plain TCP", Map.of(
                        "MQTT_TLS", "false", "MQTT_PORT", Integer.toString(SecureBrokers.mqtt().port())),
                        "SASL_PLAINTEXT and SCRAM-SHA-512", sasl("SASL_PLAINTEXT", "SCRAM-SHA-512", "")));
    }

    private static String port(String listener) {
        return Integer.toString(SecureBrokers.mqttPort(listener));
    }

    private static Map<String, String> sasl(String listener, String mechanism, String root) {
        Map<String, String> env = new HashMap<>(Map.of("KAFKA_BROKER", SecureBrokers.kafka(listener),
                "KAFKA_SASL_MECHANISM", mechanism,
                "KAFKA_USERNAME", SecureBrokers.USER, "KAFKA_PASSWORD", SecureBrokers.KAFKA_PASSWORD));
        if (!root.isEmpty()) {
            env.put("KAFKA_TLS", "true");
            env.put("KAFKA_ROOT_CA", root);
        }
        return env;
    }

    /** The test CA in the JVM's trust store, as a user adds a CA with -Djavax.net.ssl.trustStore. */
    private static String jvmTrustStore() {
        return "-Djavax.net.ssl.trustStore=" + SecureBrokers.certs().trustStore()
                + " -Djavax.net.ssl.trustStorePassword=" + Certs.STORE_PASSWORD
                + " -Djavax.net.ssl.trustStoreType=PKCS12";
    }

    @ParameterizedTest(name = "MQTT {0}; Kafka {2}")
    @MethodSource("modes")
    void should_bridge_messages_end_to_end(String mqttMode, Map<String, String> mqtt, String kafkaMode,
            Map<String, String> kafka) throws Exception {
        String name = "secure-" + Integer.toHexString((mqttMode + kafkaMode).hashCode());
        Map<String, String> env = base(name);
        env.putAll(mqtt);
        env.putAll(kafka);
        try (BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory(name), env)) {
            assertBridges(bridge, name);
            if (mqtt.containsKey("MQTT_TLS_VERIFY_HOSTNAME")) {
                assertThat(bridge.stderr()).contains("WARN", "MQTT_TLS_VERIFY_HOSTNAME=false");
            }
        }
    }

    /** Everything a run needs but the MQTT port and the Kafka broker: topics and client id named after the run. */
    static Map<String, String> base(String name) {
        Map<String, String> env = new HashMap<>();
        env.put("MQTT_BROKER", "127.0.0.1");
        env.put("MQTT_TOPIC", name + "/#");
        env.put("MQTT_CLIENT_ID", name);
        env.put("KAFKA_TOPIC", name);
        env.put("KAFKA_TEST_TOPIC", name + "-probe");
        env.put("KAFKA_INTERVAL", "1");
        env.put("CONFIG_DIR", BridgeProcess.repo().toString());
        return env;
    }

    /**
     * Waits for the bridge to subscribe, publishes a few messages on the secure MQTT broker's plain listener and
     * checks that exactly their envelopes reach the secure Kafka broker's topic, in order.
     */
    static void assertBridges(BridgeProcess bridge, String name) {
        assertBridges(bridge, name, SecureBrokers.mqtt().url());
    }

    static void assertBridges(BridgeProcess bridge, String name, String publishTo) {
        bridge.awaitSubscribed(name + "/#", Duration.ofSeconds(90));
        try (Publisher publisher = new Publisher(publishTo)) {
            for (int i = 0; i < MESSAGES; i++) {
                publisher.publish(name + "/m", ("message " + i).getBytes(StandardCharsets.UTF_8), 1);
            }
        }
        List<ConsumerRecord<byte[], byte[]>> records = Records.await(SecureBrokers.kafka().bootstrap(), name,
                MESSAGES, Duration.ofSeconds(60));
        assertThat(records).extracting(r -> new String(r.value(), StandardCharsets.UTF_8)).containsExactly(
                Stream.iterate(0, i -> i + 1).limit(MESSAGES).map(i -> "{\"topic\":\"" + name + "/m\",\"content\":\""
                        + Base64.getEncoder().encodeToString(("message " + i).getBytes(StandardCharsets.UTF_8))
                        + "\"}").toArray(String[]::new));
        assertThat(Records.count(SecureBrokers.kafka().bootstrap(), name + "-probe")).as("probe records").isOne();
    }
}

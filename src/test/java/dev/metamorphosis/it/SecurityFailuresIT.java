package dev.metamorphosis.it;

import java.nio.file.Files;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A certificate the CA did not sign, an expired one, one for another host, a wrong password, a client certificate the
 * broker does not take: on the Kafka side the probe fails and the program exits 1 with one line naming the cause; on
 * the MQTT side the program stays up, logging a line naming MQTT and the cause at each attempt.
 */
// bridge processes on the secure brokers, each failing on its own: runs beside the concurrent scenarios
@Execution(ExecutionMode.CONCURRENT)
class SecurityFailuresIT {

    static Stream<Arguments> kafka() {
        String root = SecureBrokers.certs().ca().toString();
        String otherCa = Certs.create("other-ca").ca().toString();
        return Stream.of(
                Arguments.of("a CA that did not sign the broker's certificate", Map.of("KAFKA_BROKER",
                        SecureBrokers.kafka("TLS"), "KAFKA_ROOT_CA", otherCa),
                        "unable to find valid certification path"),
                Arguments.of("an expired broker certificate", Map.of("KAFKA_BROKER",
                        SecureBrokers.kafka("EXPIRED"), "KAFKA_ROOT_CA", root), "CertificateExpiredException"),
                Arguments.of("a broker certificate for another host", Map.of("KAFKA_BROKER",
                        SecureBrokers.kafka("WRONG_HOST"), "KAFKA_ROOT_CA", root),
                        "No subject alternative names matching IP address 127.0.0.1"),
                Arguments.of("a wrong password", Map.of("KAFKA_BROKER", SecureBrokers.kafka("SASL_SSL"),
                        "KAFKA_ROOT_CA", root, "KAFKA_SASL_MECHANISM", "SCRAM-SHA-256",
                        "KAFKA_USERNAME", SecureBrokers.USER, "KAFKA_PASSWORD", "not-the-password"),
                        "invalid credentials with SASL mechanism SCRAM-SHA-256"),
                Arguments.of("no client certificate where the broker wants one", Map.of("KAFKA_BROKER",
                        SecureBrokers.kafka("MTLS"), "KAFKA_ROOT_CA", root), "Received fatal alert: bad_certificate"));
    }

    @ParameterizedTest(name = "Kafka: {0}")
    @MethodSource("kafka")
    void should_exit_1_naming_kafka_and_the_cause(String problem, Map<String, String> kafka, String cause)
            throws Exception {
        String name = "kafka-fails-" + Integer.toHexString(problem.hashCode());
        Map<String, String> env = SecureBridgeIT.base(name);
        env.put("MQTT_TLS", "false");
        env.put("MQTT_PORT", Integer.toString(SecureBrokers.mqtt().port()));
        env.put("KAFKA_TLS", "true");
        env.putAll(kafka);
        try (BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory(name), env)) {
            assertThat(bridge.exitCode(Duration.ofSeconds(90))).as(bridge.stderr()).isEqualTo(1);
            // Kafka's client adds a line of its own (failed authentication), no stack trace
            assertThat(bridge.stderr()).doesNotContain("\tat ");
            assertThat(bridge.stderr().lines().filter(l -> l.contains("FATAL")).toList()).singleElement().asString()
                    .contains("Kafka probe failed", name + "-probe", cause);
            assertThat(bridge.stdout()).doesNotContain("Subscribed");
        }
    }

    static Stream<Arguments> mqtt() {
        Certs ca = SecureBrokers.certs();
        Certs other = Certs.create("other-mqtt-ca");
        Certs.Identity stranger = other.issue("stranger", "EC", Certs.KeyForm.PKCS8);
        String root = ca.ca().toString();
        return Stream.of(
                Arguments.of("a CA that did not sign the broker's certificate", Map.of("MQTT_PORT", port("tls"),
                        "ROOT_CA", other.ca().toString()), "unable to find valid certification path"),
                Arguments.of("an expired broker certificate", Map.of("MQTT_PORT", port("expired"), "ROOT_CA", root),
                        "CertificateExpiredException"),
                Arguments.of("a broker certificate for another host", Map.of("MQTT_PORT", port("wrong-host"),
                        "ROOT_CA", root), "No subject alternative names matching IP address 127.0.0.1"),
                Arguments.of("a wrong password", Map.of("MQTT_PORT", port("tls"), "ROOT_CA", root,
                        "MQTT_USERNAME", SecureBrokers.USER, "MQTT_PASSWORD", "not-the-password"),
                        "MqttException: Bad User Name or Password"),
                Arguments.of("a client certificate of another CA", Map.of("MQTT_PORT", port("mtls"),
                        "ROOT_CA", root, "MQTT_CLIENT_CERT", stranger.cert().toString(),
                        "MQTT_CLIENT_KEY", stranger.key().toString()), "Received fatal alert: bad_certificate"));
    }

    private static String port(String listener) {
        return Integer.toString(SecureBrokers.mqttPort(listener));
    }

    private static List<String> failures(BridgeProcess bridge) {
        return bridge.stderr().lines().filter(l -> l.contains("Could not subscribe to MQTT")).toList();
    }

    @ParameterizedTest(name = "MQTT: {0}")
    @MethodSource("mqtt")
    void should_stay_up_logging_mqtt_and_the_cause(String problem, Map<String, String> mqtt, String cause)
            throws Exception {
        String name = "mqtt-fails-" + Integer.toHexString(problem.hashCode());
        Map<String, String> env = new HashMap<>(SecureBridgeIT.base(name));
        env.put("KAFKA_BROKER", SecureBrokers.kafka().bootstrap());
        env.putAll(mqtt);
        try (BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory(name), env)) {
            // tried again with back-off, each attempt logged with its cause; under TLS 1.3 a client certificate the
            // broker refuses can also show as the connection closing before the broker's alert is read
            await("two failed MQTT attempts, one naming the cause").atMost(Duration.ofSeconds(90))
                    .pollInterval(Duration.ofMillis(250)).until(() -> !bridge.isAlive() || failures(bridge).size() >= 2
                            && failures(bridge).stream().anyMatch(line -> line.contains(cause)));
            assertThat(bridge.isAlive()).as("still running; stderr: " + bridge.stderr()).isTrue();
            assertThat(failures(bridge)).allSatisfy(line -> assertThat(line)
                    .contains("WARN", "MQTT topic filter " + name + "/#", "trying again"));
            assertThat(failures(bridge)).anySatisfy(line -> assertThat(line).contains(cause));
            assertThat(bridge.stderr()).doesNotContain("\tat ");
            assertThat(bridge.stdout()).doesNotContain("Subscribed");
        }
    }
}

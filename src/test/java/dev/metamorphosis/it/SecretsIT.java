package dev.metamorphosis.it;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** With LOG_LEVEL=trace and every secret in use on both sides, no password and no key material reaches the output. */
class SecretsIT {

    @Test
    void should_log_no_password_and_no_key_material_at_trace_level() throws Exception {
        Certs ca = SecureBrokers.certs();
        Certs.Identity mqttClient = ca.issue("secrets-mqtt", "RSA", Certs.KeyForm.TRADITIONAL);
        Certs.Identity kafkaClient = ca.issue("secrets-kafka", "EC", Certs.KeyForm.PKCS8);
        String name = "secrets-it";
        Map<String, String> env = SecureBridgeIT.base(name);
        env.putAll(Map.of("LOG_LEVEL", "trace",
                "MQTT_PORT", Integer.toString(SecureBrokers.mqttPort("mtls")), "ROOT_CA", ca.ca().toString(),
                "MQTT_CLIENT_CERT", mqttClient.cert().toString(), "MQTT_CLIENT_KEY", mqttClient.key().toString(),
                "MQTT_USERNAME", SecureBrokers.USER, "MQTT_PASSWORD", SecureBrokers.MQTT_PASSWORD));
        env.putAll(Map.of("KAFKA_BROKER", SecureBrokers.kafka("SASL_SSL"), "KAFKA_TLS", "true",
                "KAFKA_ROOT_CA", ca.ca().toString(), "KAFKA_CLIENT_CERT", kafkaClient.cert().toString(),
                "KAFKA_CLIENT_KEY", kafkaClient.key().toString(), "KAFKA_SASL_MECHANISM", "SCRAM-SHA-512",
                "KAFKA_USERNAME", SecureBrokers.USER, "KAFKA_PASSWORD", SecureBrokers.KAFKA_PASSWORD));
        String output;
        try (BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory(name), env)) {
            SecureBridgeIT.assertBridges(bridge, name);
            bridge.terminate();
            bridge.exitCode(Duration.ofSeconds(60));
            output = bridge.stdout() + bridge.stderr();
        }
        assertThat(output).as("trace output").contains("TRACE").contains("Subscribed to MQTT topic filter");
        assertThat(output.lines().count()).as("lines of output").isGreaterThan(500);

        List<String> secrets = new ArrayList<>();
        secrets.add(SecureBrokers.MQTT_SECRET); // in whatever quoting or escaping
        secrets.add(SecureBrokers.KAFKA_SECRET);
        for (String password : List.of(SecureBrokers.MQTT_PASSWORD, SecureBrokers.KAFKA_PASSWORD)) {
            secrets.add(password);
            secrets.add(Arrays.toString(password.getBytes(StandardCharsets.UTF_8))); // as Paho prints a CONNECT
            secrets.add(Base64.getEncoder().encodeToString(password.getBytes(StandardCharsets.UTF_8)));
        }
        for (Certs.Identity client : List.of(mqttClient, kafkaClient)) {
            Files.readAllLines(client.key()).stream().filter(l -> !l.startsWith("-----")).forEach(secrets::add);
            PrivateKey key = client.keys().getPrivate();
            BigInteger secret = key instanceof RSAPrivateKey rsa ? rsa.getPrivateExponent()
                    : ((ECPrivateKey) key).getS();
            secrets.add(secret.toString());
            secrets.add(secret.toString(16));
            secrets.add(secret.toString(16).toUpperCase());
            String encoded = Base64.getEncoder().encodeToString(key.getEncoded());
            for (int i = 0; i + 32 <= encoded.length(); i += 32) {
                secrets.add(encoded.substring(i, i + 32));
            }
        }
        assertThat(secrets).allSatisfy(secret -> assertThat(output).doesNotContain(secret));
    }
}

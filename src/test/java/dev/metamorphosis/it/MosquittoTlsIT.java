package dev.metamorphosis.it;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import static org.awaitility.Awaitility.await;

/**
 * Mutual TLS against a real Mosquitto, configured as a Go version user has it, with nothing but the Go version's
 * variables (and {@code SPOOL_DIR}, so the disk spool stays in the test's folder, and a receive maximum below the
 * messages it publishes, so that they need the bridge's acknowledgements). Needs {@code mosquitto}
 * ({@code apt-get install mosquitto}): skipped without it, failed without it under {@code CI=true}
 * ({@link Tools#required}).
 */
class MosquittoTlsIT {

    @Test
    void should_bridge_over_mutual_tls_to_mosquitto_with_the_go_versions_variables() throws Exception {
        Path executable = Mosquitto.required();
        Certs ca = SecureBrokers.certs();
        Certs.Identity server = ca.issue("mosquitto", "RSA", Certs.KeyForm.PKCS8, "127.0.0.1", "localhost");
        Certs.Identity client = ca.issue("mosquitto-client", "EC", Certs.KeyForm.TRADITIONAL);
        int plain = Ports.free();
        int tls = Ports.free();
        Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "mosquitto-");
        Path conf = Files.writeString(dir.resolve("mosquitto.conf"), String.join("\n",
                "per_listener_settings false",
                "allow_anonymous true",
                "user root", // when started as root: stay root, so the test's files stay readable
                "listener " + plain + " 127.0.0.1",
                "listener " + tls + " 127.0.0.1",
                "cafile " + ca.ca(),
                "certfile " + server.cert(),
                "keyfile " + server.key(),
                "require_certificate true", ""));
        Process mosquitto = new ProcessBuilder(executable.toString(), "-c", conf.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("mosquitto.log").toFile()).start();
        try {
            await("mosquitto").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .until(() -> listening(plain) && listening(tls));
            String name = "mosquitto-tls";
            Map<String, String> goVariables = Map.ofEntries(
                    Map.entry("MQTT_BROKER", "127.0.0.1"), Map.entry("MQTT_PORT", Integer.toString(tls)),
                    Map.entry("ROOT_CA", ca.ca().toString()), Map.entry("MQTT_CLIENT_CERT", client.cert().toString()),
                    Map.entry("MQTT_CLIENT_KEY", client.key().toString()), Map.entry("MQTT_TOPIC", name + "/#"),
                    Map.entry("MQTT_CLIENT_ID", name), Map.entry("KAFKA_BROKER", "127.0.0.1"),
                    Map.entry("KAFKA_PORT", Integer.toString(SecureBrokers.kafka().port())),
                    Map.entry("KAFKA_TOPIC", name), Map.entry("KAFKA_TEST_TOPIC", name + "-probe"),
                    Map.entry("KAFKA_INTERVAL", "1"));
            // started in the repository, so routes/ and application.properties are found without CONFIG_DIR; its
            // disk spool in this test's folder, not the repository's spool/, where a later run would replay it
            Map<String, String> env = new java.util.HashMap<>(goVariables);
            env.put("SPOOL_DIR", dir.resolve("spool").toString());
            // fewer unacknowledged messages than the test publishes: the rest come only once the bridge's own
            // acknowledgements, written past Paho over TLS (NoDelaySslSocketFactory), have reached Mosquitto
            env.put("MQTT_RECEIVE_MAXIMUM", "2");
            try (BridgeProcess bridge = BridgeProcess.start(BridgeProcess.repo(), env)) {
                SecureBridgeIT.assertBridges(bridge, name, "tcp://127.0.0.1:" + plain);
            }
        } finally {
            mosquitto.destroy();
            mosquitto.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static boolean listening(int port) {
        try (Socket ignored = new Socket("127.0.0.1", port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}

package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * MQTT_SESSION_EXPIRY as documented: while the bridge is away for less than it, the broker keeps the bridge's session,
 * its subscription and the messages for it, and delivers them when the bridge is back; away longer, the session is
 * gone with the messages it held, and what was published meanwhile is never delivered. Behind a Mosquitto that logs
 * every packet: its CONNACK says whether it still had the session.
 */
// its own Mosquitto, bridge processes and topics: runs beside the other concurrent scenarios
@Execution(ExecutionMode.CONCURRENT)
class SessionExpiryIT {

    private static final int MESSAGES = 20;

    @Test
    void should_deliver_what_was_published_while_away_for_less_than_the_session_expiry() throws Exception {
        Path dir = Files.createTempDirectory("session-kept");
        String topic = "session-kept";
        try (Mosquitto mosquitto = Mosquitto.startLoggingPackets(Mosquitto.required(), dir.resolve("mosquitto"))) {
            Map<String, String> env = environment(mosquitto, topic, 600);
            runAndStop(dir.resolve("bridge"), env, mosquitto, topic);
            publish(mosquitto, topic, "away");
            try (BridgeProcess bridge = BridgeProcess.start(dir.resolve("bridge"), env)) {
                bridge.awaitSubscribed(Duration.ofSeconds(90));
                assertThat(connacks(mosquitto, topic)).as("session present at the second connect")
                        .containsExactly("(0, 0)", "(1, 0)");
                awaitWritten(bridge, topic, 2 * MESSAGES);
                assertThat(written(topic)).as("before, then what was published while away, each once")
                        .isEqualTo(concat(envelopes(topic, "before"), envelopes(topic, "away")));
            }
        }
    }

    @Test
    void should_lose_the_session_and_what_it_held_when_away_for_longer_than_the_session_expiry() throws Exception {
        Path dir = Files.createTempDirectory("session-expired");
        String topic = "session-expired";
        try (Mosquitto mosquitto = Mosquitto.startLoggingPackets(Mosquitto.required(), dir.resolve("mosquitto"))) {
            Map<String, String> env = environment(mosquitto, topic, 3);
            runAndStop(dir.resolve("bridge"), env, mosquitto, topic);
            publish(mosquitto, topic, "away");
            await("the broker lets the session expire").atMost(Duration.ofSeconds(60))
                    .until(() -> expiredSessions(mosquitto) == 1);
            publish(mosquitto, topic, "expired");
            try (BridgeProcess bridge = BridgeProcess.start(dir.resolve("bridge"), env)) {
                bridge.awaitSubscribed(Duration.ofSeconds(90));
                assertThat(connacks(mosquitto, topic)).as("no session at the second connect")
                        .containsExactly("(0, 0)", "(0, 0)");
                publish(mosquitto, topic, "back");
                awaitWritten(bridge, topic, 2 * MESSAGES);
                assertThat(written(topic)).as("before and back, each once; nothing published while it was away")
                        .isEqualTo(concat(envelopes(topic, "before"), envelopes(topic, "back")));
                assertThat(bridge.metric("mqtt_received")).as("received after the restart").isEqualTo(MESSAGES);
            }
        }
    }

    private static Map<String, String> environment(Mosquitto mosquitto, String topic, int expirySeconds) {
        Map<String, String> env = BridgeProcess.environment(mosquitto.port(), Brokers.kafka().bootstrap(), topic,
                "durable");
        env.put("MQTT_SESSION_EXPIRY", Integer.toString(expirySeconds));
        return env;
    }

    /**
     * Runs the bridge in that folder until "before" 0 to 19 are in Kafka, then stops it with SIGTERM, on which it
     * exits 0 once it has written what it held.
     */
    private static void runAndStop(Path workDir, Map<String, String> env, Mosquitto mosquitto, String topic)
            throws IOException {
        try (BridgeProcess bridge = BridgeProcess.start(Files.createDirectories(workDir), env)) {
            bridge.awaitSubscribed(Duration.ofSeconds(90));
            publish(mosquitto, topic, "before");
            Records.await(Brokers.kafka().bootstrap(), topic, MESSAGES, Duration.ofSeconds(60));
            bridge.terminate();
            assertThat(bridge.exitCode(Duration.ofSeconds(60))).as("exit code on SIGTERM").isZero();
        }
    }

    /** What Mosquitto's CONNACKs to the client said, in order: (session present, reason code). */
    private static List<String> connacks(Mosquitto mosquitto, String clientId) {
        String start = "Sending CONNACK to " + clientId + " ";
        return mosquitto.packets(clientId).stream().filter(p -> p.startsWith(start))
                .map(p -> p.substring(start.length())).toList();
    }

    private static void publish(Mosquitto mosquitto, String topic, String label) {
        try (Publisher publisher = new Publisher(mosquitto.url())) {
            for (int i = 0; i < MESSAGES; i++) {
                publisher.publish(topic + "/t", (label + " " + i).getBytes(StandardCharsets.UTF_8), 1);
            }
        }
    }

    /** Waits until Kafka has this many records of the topic and the bridge's spool is empty. */
    private static void awaitWritten(BridgeProcess bridge, String topic, int records) {
        await(records + " records on " + topic + ", the spool empty").atMost(Duration.ofSeconds(90))
                .until(() -> Records.count(Brokers.kafka().bootstrap(), topic) >= records
                             && bridge.metric("metamorphosis_spool_messages") == 0);
    }

    private static List<String> written(String topic) {
        return Records.values(Records.read(Brokers.kafka().bootstrap(), topic));
    }

    private static List<String> envelopes(String topic, String label) {
        List<String> envelopes = new ArrayList<>();
        for (int i = 0; i < MESSAGES; i++) {
            envelopes.add(EnvelopeIT.envelope(topic + "/t", (label + " " + i).getBytes(StandardCharsets.UTF_8)));
        }
        return envelopes;
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    /** The sessions Mosquitto has let expire so far: its retained {@code $SYS/broker/clients/expired}. */
    private static int expiredSessions(Mosquitto mosquitto) throws IOException {
        try (Wire wire = new Wire("127.0.0.1", mosquitto.port(), "sys-" + UUID.randomUUID(), 0)) {
            wire.socket.setSoTimeout(10_000);
            wire.subscribe("$SYS/broker/clients/expired", 0);
            Wire.Packet publish;
            do {
                publish = wire.read();
            } while (publish.type() != Wire.PUBLISH);
            byte[] body = publish.body();
            int at = 2 + Wire.packetId(body, 0); // after the topic (QoS 0: no packet id)
            int properties = 0;
            for (int shift = 0; ; shift += 7) {
                int b = body[at++] & 0xff;
                properties |= (b & 0x7f) << shift;
                if ((b & 0x80) == 0) {
                    break;
                }
            }
            at += properties;
            return Integer.parseInt(new String(body, at, body.length - at, StandardCharsets.US_ASCII).strip());
        }
    }
}

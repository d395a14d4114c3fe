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
import java.util.concurrent.atomic.AtomicInteger;

import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * MQTT_SESSION_EXPIRY as documented: while the bridge is away for less than it, the broker keeps the bridge's session,
 * its subscription and the messages for it, and delivers them when the bridge is back; away longer, the session is
 * gone with the messages it held, and what was published meanwhile is never delivered. Behind a Mosquitto that logs
 * every packet: its CONNACK says whether it still had the session.
 */
class SessionExpiryIT {

    private static final int MESSAGES = 20;

    @Test
    void should_deliver_what_was_published_while_away_for_less_than_the_session_expiry() throws Exception {
        Path dir = Files.createTempDirectory("session-kept");
        String topic = "session-kept";
        try (Mosquitto mosquitto = Mosquitto.startLoggingPackets(Mosquitto.required(), dir.resolve("mosquitto"))) {
            Map<String, String> env = environment(mosquitto, topic, 600);
            try (BridgeProcess bridge = BridgeProcess.start(Files.createDirectories(dir.resolve("bridge")), env)) {
                bridge.awaitSubscribed(Duration.ofSeconds(90));
                publish(mosquitto, topic, "before");
                Records.await(Brokers.kafka().bootstrap(), topic, MESSAGES, Duration.ofSeconds(60));
                stop(bridge);
            }
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
        try (Mosquitto mosquitto = Mosquitto.startLoggingPackets(Mosquitto.required(), dir.resolve("mosquitto"));
             ExpiredSessions expired = new ExpiredSessions(mosquitto)) {
            Map<String, String> env = environment(mosquitto, topic, 3);
            try (BridgeProcess bridge = BridgeProcess.start(Files.createDirectories(dir.resolve("bridge")), env)) {
                bridge.awaitSubscribed(Duration.ofSeconds(90));
                publish(mosquitto, topic, "before");
                Records.await(Brokers.kafka().bootstrap(), topic, MESSAGES, Duration.ofSeconds(60));
                stop(bridge);
            }
            publish(mosquitto, topic, "away");
            await("the broker lets the session expire").atMost(Duration.ofSeconds(60)).until(() -> expired.count() == 1);
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

    /** SIGTERM, and the bridge exits 0 once it has written what it held. */
    private static void stop(BridgeProcess bridge) {
        bridge.terminate();
        assertThat(bridge.exitCode(Duration.ofSeconds(60))).as("exit code on SIGTERM").isZero();
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
        return Records.read(Brokers.kafka().bootstrap(), topic).stream()
                .map(r -> new String(r.value(), StandardCharsets.UTF_8)).toList();
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

    /** The sessions Mosquitto has let expire, from its {@code $SYS/broker/clients/expired}, updated every second. */
    private static final class ExpiredSessions implements AutoCloseable {
        private final MqttClient client;
        private final AtomicInteger count = new AtomicInteger(-1);

        ExpiredSessions(Mosquitto mosquitto) throws MqttException {
            client = new MqttClient(mosquitto.url(), "sys-" + UUID.randomUUID(), new MemoryPersistence());
            client.setCallback(new MqttCallback() {
                @Override
                public void messageArrived(String topic, MqttMessage message) {
                    count.set(Integer.parseInt(new String(message.getPayload(), StandardCharsets.US_ASCII).strip()));
                }

                @Override
                public void disconnected(MqttDisconnectResponse response) {
                }

                @Override
                public void mqttErrorOccurred(MqttException exception) {
                }

                @Override
                public void deliveryComplete(IMqttToken token) {
                }

                @Override
                public void connectComplete(boolean reconnect, String serverURI) {
                }

                @Override
                public void authPacketArrived(int reasonCode, MqttProperties properties) {
                }
            });
            client.connect();
            client.subscribe("$SYS/broker/clients/expired", 0);
            await("$SYS/broker/clients/expired").atMost(Duration.ofSeconds(30)).until(() -> count.get() == 0);
        }

        int count() {
            return count.get();
        }

        @Override
        public void close() throws MqttException {
            client.disconnect();
            client.close();
        }
    }
}

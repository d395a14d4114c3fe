package dev.metamorphosis;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;

import dev.metamorphosis.it.MqttBroker;
import dev.metamorphosis.it.PahoMessages;
import dev.metamorphosis.it.Wire;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.awaitility.Awaitility.await;

/** The Paho internals the bridge's consumer relies on are there in the Paho it ships with. */
class MqttComponentTest {

    @Test
    void should_end_a_qos2_message_in_pahos_store_without_a_pubcomp_of_its_own() throws Exception {
        assertThat(MqttComponent.Qos2.available()).as("ClientComms.deliveryComplete(int) reachable").isTrue();
        MqttAsyncClient client = new MqttAsyncClient("tcp://127.0.0.1:1", "qos2-test", new MemoryPersistence());
        try {
            assertThatCode(() -> MqttComponent.Qos2.release(client, 7)).doesNotThrowAnyException();
        } finally {
            client.close(true);
        }
    }

    @Test
    void each_qos_level_arrives_in_publishing_order_qos_0_and_1_on_pahos_receiving_thread_and_qos_2_on_its_callback_thread()
            throws Exception {
        assertThat(MqttComponent.OnReceiver.available()).as("Paho's callback fields reachable").isTrue();
        List<String> arrived = new CopyOnWriteArrayList<>();
        try (MqttBroker broker = MqttBroker.start("on-receiver", false)) {
            String url = "tcp://127.0.0.1:" + broker.port();
            MqttAsyncClient subscriber = new MqttAsyncClient(url, "on-receiver", new MemoryPersistence());
            MqttAsyncClient publisher = new MqttAsyncClient(url, "on-receiver-publisher", new MemoryPersistence());
            try {
                subscriber.setManualAcks(true);
                assertThat(MqttComponent.OnReceiver.install(subscriber)).isTrue();
                subscriber.setCallback(new Recording(arrived, subscriber));
                subscriber.connect(new MqttConnectionOptions()).waitForCompletion(30_000);
                subscriber.subscribe(new MqttSubscription[] {new MqttSubscription("on-receiver/#", 2)}, null, null,
                        new MqttProperties()).waitForCompletion(30_000);
                publisher.connect(new MqttConnectionOptions()).waitForCompletion(30_000);
                for (int i = 0; i < 30; i++) {
                    publisher.publish("on-receiver/" + i, ("m" + i).getBytes(StandardCharsets.UTF_8), i % 3, false)
                            .waitForCompletion(30_000);
                }
                await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(arrived).hasSize(30));
                // each QoS level on its thread in publishing order. Nothing more is promised: MQTT orders a topic's
                // messages per QoS level only (the broker may pass a QoS 1 message ahead of an earlier QoS 0 one), and
                // a QoS 2 message waits in Paho's queue for its callback thread while the receiving thread goes on.
                // The bridge subscribes at one QoS, so it sees one of these sequences.
                for (int qos = 0; qos < 3; qos++) {
                    String thread = qos == 2 ? "MQTT Call: on-receiver" : "MQTT Rec: on-receiver";
                    int level = qos;
                    List<String> expected = IntStream.range(0, 30).filter(i -> i % 3 == level)
                            .mapToObj(i -> "on-receiver/" + i + " m" + i + " qos " + level + " on " + thread)
                            .toList();
                    assertThat(arrived.stream().filter(a -> a.contains(" qos " + level + " on ")).toList())
                            .as("QoS " + qos).containsExactlyElementsOf(expected);
                }
                assertThat(arrived).hasSize(30);
            } finally {
                for (MqttAsyncClient c : List.of(subscriber, publisher)) {
                    if (c.isConnected()) {
                        c.disconnect().waitForCompletion(30_000);
                    }
                    c.close(true);
                }
            }
        }
    }

    @Test
    void qos_1_acknowledgements_held_through_a_read_go_out_when_the_receiving_thread_reads_the_socket_again()
            throws Exception {
        List<Integer> acknowledged = new CopyOnWriteArrayList<>();
        List<String> routed = new CopyOnWriteArrayList<>();
        MqttComponent component = new MqttComponent();
        component.ackHoldMillis(0); // no bound: only the hook before the next read of the socket sends them
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             CamelContext context = new DefaultCamelContext()) {
            Thread broker = new Thread(() -> playBroker(server, acknowledged), "scripted-broker");
            broker.setDaemon(true);
            broker.start();
            context.getRegistry().bind("sockets", new NoDelaySocketFactory());
            context.addComponent("paho-mqtt5", component);
            context.addRoutes(new RouteBuilder() {
                @Override
                public void configure() {
                    from("paho-mqtt5:held/#?brokerUrl=tcp://127.0.0.1:" + server.getLocalPort() + "&clientId=held"
                            + "&qos=1&manualAcksEnabled=true&cleanStart=false&socketFactory=#sockets")
                            .process(e -> routed.add(e.getIn().getBody(String.class)));
                }
            });
            context.start();
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(routed).hasSize(4));
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(acknowledged).hasSize(3));
            assertThat(routed).containsExactly("m1", "m2", "m3", "m0");
            assertThat(acknowledged).containsExactly(1, 2, 3);
        }
    }

    /**
     * Accepts one MQTT client, takes its CONNECT and SUBSCRIBE, then writes three QoS 1 messages and a QoS 0 one in one
     * write (so the QoS 1 ones are taken while more waits in the client's buffer, and no QoS 1 message is the last of
     * the read), and records the ids of the PUBACKs that come back until the client disconnects.
     */
    private static void playBroker(ServerSocket server, List<Integer> acknowledged) {
        try (Wire client = new Wire(server.accept())) {
            assertThat(client.read().type()).as("CONNECT").isEqualTo(1);
            client.write(0x20, 0, 0, 0); // CONNACK: no session present, success, no properties
            client.out.flush();
            Wire.Packet subscribe = client.read();
            client.write(0x90, subscribe.body()[0], subscribe.body()[1], 0, 1); // SUBACK: its id, QoS 1 granted
            client.out.flush();
            byte[] topic = "held/a".getBytes(StandardCharsets.UTF_8);
            for (int id = 1; id <= 3; id++) {
                client.publish(topic, 1, id, ("m" + id).getBytes(StandardCharsets.UTF_8));
            }
            client.publish(topic, 0, 0, "m0".getBytes(StandardCharsets.UTF_8));
            client.out.flush();
            for (Wire.Packet p = client.read(); p.type() != Wire.DISCONNECT; p = client.read()) {
                if (p.type() == Wire.PUBACK) {
                    acknowledged.add(Wire.packetId(p.body(), 0));
                }
            }
        } catch (IOException e) {
            // the client went: what it acknowledged is recorded
        }
    }

    /** Records each message as "topic payload qos N on THREAD", and acknowledges it. */
    private record Recording(List<String> arrived, MqttAsyncClient client) implements PahoMessages {
        @Override
        public void messageArrived(String topic, MqttMessage message) throws MqttException {
            arrived.add(topic + " " + new String(message.getPayload(), StandardCharsets.UTF_8) + " qos "
                    + message.getQos() + " on " + Thread.currentThread().getName());
            if (message.getQos() == 1) {
                client.messageArrivedComplete(message.getId(), 1);
            } else if (message.getQos() == 2) {
                MqttComponent.Qos2.release(client, message.getId()); // as the bridge does (see there)
            }
        }
    }
}

package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * MQTT_QOS 0 and 2 end to end, one bridge per delivery mode, behind a Mosquitto that logs every packet: messages
 * published at QoS 2 reach the bridge at the subscription's QoS, each sent once (QoS 2: each with its PUBREC, PUBREL
 * and PUBCOMP; QoS 0: never acknowledged), and each is in Kafka once, in order, byte for byte (when a write to Kafka
 * failed, as on a loaded machine: at least once, in order, repeated no more often than writes failed).
 */
// its own Mosquitto, bridge processes and topics: runs beside the other concurrent scenarios
@Execution(ExecutionMode.CONCURRENT)
class MqttQosIT {

    private static final int MESSAGES = 300;

    @ParameterizedTest(name = "MQTT_QOS={0}")
    @ValueSource(ints = {0, 2})
    void should_receive_each_message_once_at_the_subscription_qos_and_write_it_once(int qos) throws IOException {
        Path dir = Files.createTempDirectory("mqtt-qos");
        String kafka = Brokers.kafka().bootstrap();
        Map<String, BridgeProcess> bridges = new LinkedHashMap<>();
        try (Mosquitto mosquitto = Mosquitto.startLoggingPackets(Mosquitto.required(), dir.resolve("mosquitto"))) {
            for (String delivery : BridgeProcess.DELIVERIES) {
                String prefix = "qos" + qos + "-" + delivery;
                Map<String, String> env = BridgeProcess.environment(mosquitto.port(), kafka, prefix, delivery);
                env.put("MQTT_QOS", Integer.toString(qos));
                bridges.put(delivery, BridgeProcess.start(Files.createDirectories(dir.resolve(delivery)), env));
            }
            for (BridgeProcess bridge : bridges.values()) {
                bridge.awaitSubscribed(Duration.ofSeconds(90));
            }
            try (Publisher publisher = new Publisher(mosquitto.url())) {
                for (int i = 0; i < MESSAGES; i++) {
                    for (String delivery : BridgeProcess.DELIVERIES) {
                        publisher.publish("qos" + qos + "-" + delivery + "/t", payload(i), 2);
                    }
                }
            }
            for (String delivery : BridgeProcess.DELIVERIES) {
                String topic = "qos" + qos + "-" + delivery;
                BridgeProcess bridge = bridges.get(delivery);
                await(delivery + ": all in Kafka, the spool empty").atMost(Duration.ofSeconds(120))
                        .until(() -> Records.count(kafka, topic) >= MESSAGES
                                     && bridge.metric("metamorphosis_spool_messages") == 0);
                List<String> packets = mosquitto.packets(topic);
                assertThat(count(packets, "Sending PUBLISH to " + topic + " (d0, q" + qos + ","))
                        .as(delivery + ": sent once each, at QoS " + qos).isEqualTo(MESSAGES);
                assertThat(count(packets, "Sending PUBLISH to " + topic + " (")).as(delivery + ": sent in all")
                        .isEqualTo(MESSAGES);
                if (qos == 2) {
                    assertThat(count(packets, "Received PUBREC from " + topic + " ")).as(delivery + ": PUBREC")
                            .isEqualTo(MESSAGES);
                    assertThat(count(packets, "Sending PUBREL to " + topic + " ")).as(delivery + ": PUBREL")
                            .isEqualTo(MESSAGES);
                    // every message's flow completed with one PUBCOMP, Paho's answer to PUBREL: the bridge sends
                    // none of its own, which could reach Mosquitto before the PUBREC (a protocol error to it)
                    assertThat(ids(packets, "Received PUBCOMP from " + topic + " (Mid: ", ","))
                            .as(delivery + ": PUBCOMP for every message sent")
                            .isEqualTo(ids(packets, "Sending PUBLISH to " + topic + " (d0, q2, r0, m", ","));
                    assertThat(count(packets, "Received PUBCOMP from " + topic + " ")).as(delivery + ": PUBCOMP once")
                            .isEqualTo(MESSAGES);
                } else {
                    assertThat(packets).as(delivery + ": nothing acknowledged at QoS 0")
                            .noneMatch(p -> p.startsWith("Received PUBACK") || p.startsWith("Received PUBREC"));
                }
                List<String> written = Records.values(Records.read(kafka, topic));
                List<String> expected = envelopes(topic);
                double kafkaErrors = bridge.metric("kafka_errors");
                String why = delivery + ": " + difference(written, expected) + "; kafka_errors " + kafkaErrors
                             + "; the bridge's warnings: " + warnings(bridge);
                if (kafkaErrors == 0) {
                    assertThat(written).withFailMessage("not each once, in order, byte for byte: " + why)
                            .isEqualTo(expected);
                } else {
                    // a write Kafka failed (a request timed out on a loaded machine) is written again: each record
                    // still in order, repeated at most once for each failed write
                    System.out.println("MqttQosIT " + why);
                    assertThat(written.stream().distinct().toList())
                            .withFailMessage("not each at least once, in order, byte for byte: " + why)
                            .isEqualTo(expected);
                    assertThat(written).withFailMessage("a record repeated more often than Kafka failed: " + why)
                            .allSatisfy(r -> assertThat(java.util.Collections.frequency(written, r))
                                    .isLessThanOrEqualTo(1 + (int) kafkaErrors));
                }
                assertThat(bridge.metric("mqtt_received")).as(delivery + ": received").isEqualTo(MESSAGES);
            }
        } finally {
            bridges.values().forEach(BridgeProcess::close);
        }
    }

    /** Message i: its number, then 200 bytes of every value, the same for a given i. */
    private static byte[] payload(int i) {
        byte[] number = ("m" + i + " ").getBytes(StandardCharsets.US_ASCII);
        byte[] payload = new byte[number.length + 200];
        System.arraycopy(number, 0, payload, 0, number.length);
        byte[] random = new byte[200];
        new Random(i).nextBytes(random);
        System.arraycopy(random, 0, payload, number.length, random.length);
        return payload;
    }

    private static List<String> envelopes(String prefix) {
        List<String> envelopes = new ArrayList<>();
        for (int i = 0; i < MESSAGES; i++) {
            envelopes.add(EnvelopeIT.envelope(prefix + "/t", payload(i)));
        }
        return envelopes;
    }

    /** What sets the records written apart from those expected: how many, which are missing or repeated, where. */
    private static String difference(List<String> written, List<String> expected) {
        List<Integer> numbers = written.stream().map(expected::indexOf).toList();
        List<Integer> missing = java.util.stream.IntStream.range(0, expected.size())
                .filter(i -> !numbers.contains(i)).boxed().toList();
        List<Integer> repeated = numbers.stream().filter(i -> java.util.Collections.frequency(numbers, i) > 1)
                .distinct().toList();
        return written.size() + " records for " + expected.size() + " messages; missing " + missing + "; repeated "
               + repeated + "; the message numbers as written (-1: no such message) " + runs(numbers);
    }

    /** Numbers in runs: {@code 0-3, 5, -1, 6-299}. */
    private static String runs(List<Integer> numbers) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < numbers.size(); i++) {
            int j = i;
            while (j + 1 < numbers.size() && numbers.get(j + 1) == numbers.get(j) + 1 && numbers.get(j) >= 0) {
                j++;
            }
            text.append(text.isEmpty() ? "" : ", ").append(numbers.get(i)).append(j > i ? "-" + numbers.get(j) : "");
            i = j;
        }
        return text.toString();
    }

    /** The WARN and ERROR lines of the bridge's log. */
    private static List<String> warnings(BridgeProcess bridge) {
        return bridge.stdout().lines().filter(l -> l.contains(" WARN ") || l.contains(" ERROR ")).toList();
    }

    /** The distinct packet ids of the lines that start so, the id following the start up to {@code end}. */
    private static java.util.Set<Integer> ids(List<String> lines, String start, String end) {
        return lines.stream().filter(l -> l.startsWith(start))
                .map(l -> Integer.parseInt(l.substring(start.length(), l.indexOf(end, start.length()))))
                .collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new));
    }

    private static long count(List<String> lines, String start) {
        return lines.stream().filter(l -> l.startsWith(start)).count();
    }
}

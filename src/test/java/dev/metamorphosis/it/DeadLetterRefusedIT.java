package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * DEAD_LETTER_TOPIC set while the broker refuses a record, one bridge per delivery mode: the topic takes records of
 * up to 64 KiB ({@code max.message.bytes}), the producer up to 1 MiB, so a 512 KiB message (an envelope of 683 KiB)
 * passes the bridge and Kafka refuses it for good. It lands on the dead-letter topic, byte for byte with its MQTT
 * topic and the error, is counted once, and the messages around it are all written once, in order.
 * <p>
 * The producer's batch ({@code producerBatchSize}) is lowered to the topic's limit, without which the bridge does not
 * start (TopicBatchLimitIT), so the envelope is larger than the batch and goes to Kafka alone: kafka-clients 3.9 splits
 * a refused batch into batches of that size, so a refused record smaller than it, sent with others, would be split and
 * sent again until the delivery timeout (KAFKA-8350), and never found to be too large.
 */
// bridge processes on the shared brokers, topics of their own: runs beside the concurrent scenarios
@Execution(ExecutionMode.CONCURRENT)
class DeadLetterRefusedIT {

    private static final int POISON = 512 * 1024;

    @Test
    void should_write_a_record_the_broker_refuses_to_the_dead_letter_topic_and_go_on() throws IOException {
        String kafka = Brokers.kafka().bootstrap();
        Map<String, BridgeProcess> bridges = new LinkedHashMap<>();
        try {
            for (String delivery : BridgeProcess.DELIVERIES) {
                String prefix = "refused-" + delivery;
                Topics.create(kafka, prefix, Map.of("max.message.bytes", "65536"));
                Map<String, String> env = BridgeProcess.environment(Brokers.mqtt().port(), kafka, prefix, delivery);
                env.put("DEAD_LETTER_TOPIC", prefix + "-dead");
                env.put("CAMEL_COMPONENT_KAFKA_PRODUCERBATCHSIZE", "65536");
                bridges.put(delivery, BridgeProcess.start(Files.createTempDirectory("refused"), env));
            }
            Map<String, byte[]> poison = new LinkedHashMap<>();
            for (String delivery : BridgeProcess.DELIVERIES) {
                bridges.get(delivery).awaitSubscribed(Duration.ofSeconds(90));
                poison.put(delivery, PoisonIT.publishAroundPoison("refused-" + delivery + "/a", POISON));
            }
            for (String delivery : BridgeProcess.DELIVERIES) {
                BridgeProcess bridge = bridges.get(delivery);
                String topic = "refused-" + delivery;
                List<ConsumerRecord<byte[], byte[]>> dead = Records.await(kafka, topic + "-dead", 1,
                        Duration.ofSeconds(90));
                assertThat(dead).as(delivery + ": dead-lettered").hasSize(1);
                assertThat(new String(dead.get(0).value(), StandardCharsets.UTF_8)).as(delivery + ": its envelope")
                        .isEqualTo(EnvelopeIT.envelope(topic + "/a", poison.get(delivery)));
                assertThat(new String(dead.get(0).headers().lastHeader("metamorphosis-mqtt-topic").value(),
                        StandardCharsets.UTF_8)).isEqualTo(topic + "/a");
                assertThat(new String(dead.get(0).headers().lastHeader("metamorphosis-error").value(),
                        StandardCharsets.UTF_8)).as(delivery + ": the error").contains("RecordTooLargeException");

                await(delivery + ": the spool empty").atMost(Duration.ofSeconds(60))
                        .until(() -> bridge.metric("metamorphosis_spool_messages") == 0);
                List<String> written = Records.values(Records.read(kafka, topic));
                assertThat(new ArrayList<>(new LinkedHashSet<>(written)))
                        .as(delivery + ": every other message, in order of first appearance")
                        .isEqualTo(PoisonIT.goodEnvelopes(topic + "/a"));
                // the records Kafka took behind the refused one are not written again (up to 10 were, before the
                // retry learnt of them from KafkaClients)
                assertThat(written.size() - 20).as(delivery + ": duplicated").isZero();
                assertThat(bridge.metric("metamorphosis_messages_dead_lettered_total")).as(delivery + ": counted")
                        .isEqualTo(1);
                assertThat(bridge.stderr()).as(delivery + ": logged")
                        .contains("it went to dead-letter topic " + topic + "-dead: MQTT topic " + topic + "/a");
                Traffic.report("RESULT | poison-message-broker-refuses-dead-letter | " + delivery + " | published 21"
                               + " | delivered " + written.size() + " | lost 0 | dead-lettered 1 | duplicated "
                               + (written.size() - 20));
            }
        } finally {
            bridges.values().forEach(BridgeProcess::close);
        }
    }
}

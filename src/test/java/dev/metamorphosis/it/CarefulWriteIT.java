package dev.metamorphosis.it;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import dev.metamorphosis.KafkaClients;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The bridge's Kafka producer ({@link KafkaClients}) against a real broker whose ACL refuses writes to a topic: after
 * a write that failed, the next write sends its first record alone, and the others only once Kafka has taken it. So a
 * topic whose writes are allowed again between two produce requests cannot take a later record of the batch before
 * an earlier one (StalledPipelineIT once saw message 0 written after messages 1 to 49, the retry of a refused
 * request behind one that went through).
 */
// its own Kafka broker and topic: runs beside the other concurrent scenarios
@Execution(ExecutionMode.CONCURRENT)
class CarefulWriteIT {

    private static final int RECORDS = 20;
    private static final String TOPIC = "careful-write";

    @Test
    void should_send_nothing_behind_the_first_record_of_a_write_after_a_failure_until_kafka_takes_it()
            throws Exception {
        try (KafkaBroker broker = KafkaBroker.start("careful-write", Topics.AUTHORIZER)) {
            String kafka = broker.bootstrap();
            Topics.create(kafka, TOPIC, Map.of());
            Topics.denyWrites(kafka, TOPIC);
            try (Producer<Object, Object> producer = new KafkaClients().getProducer(settings(kafka))) {
                // a write the ACL refuses: every record is sent, and refused
                await("a write refused").atMost(Duration.ofSeconds(60)).until(() -> failures(write(producer, "a"))
                        .get(0).contains("TopicAuthorizationException"));

                List<String> refusedAgain = failures(write(producer, "b"));
                assertThat(refusedAgain.get(0)).as("the first record, sent alone")
                        .contains("TopicAuthorizationException");
                assertThat(refusedAgain.subList(1, RECORDS)).as("the records behind it, not sent")
                        .allMatch(f -> f.contains("not sent: the record before it in this write failed"));

                Topics.allowWrites(kafka, TOPIC);
                await("a write taken").atMost(Duration.ofSeconds(60)).until(() -> failures(write(producer, "c"))
                        .stream().allMatch(String::isEmpty));
            }
            List<String> written = Records.values(Records.read(kafka, TOPIC));
            assertThat(written).as("nothing of the write refused again").noneMatch(v -> v.startsWith("b"));
            assertThat(written.stream().filter(v -> v.startsWith("c")).toList())
                    .as("the write taken: each record once, in order").isEqualTo(values("c"));
        }
    }

    private static Properties settings(String kafka) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "15000");
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        return p;
    }

    private static List<String> values(String write) {
        return IntStream.range(0, RECORDS).mapToObj(i -> write + i).toList();
    }

    /** One write as camel-kafka makes it: every record sent without a callback, then the results read in order. */
    private static List<Future<RecordMetadata>> write(Producer<Object, Object> producer, String write) {
        List<Future<RecordMetadata>> results = new ArrayList<>();
        for (String value : values(write)) {
            results.add(producer.send(new ProducerRecord<>(TOPIC, value.getBytes(StandardCharsets.UTF_8))));
        }
        return results;
    }

    /** Each result's failure as text, empty for a record Kafka took. */
    private static List<String> failures(List<Future<RecordMetadata>> results) {
        List<String> failures = new ArrayList<>();
        for (Future<RecordMetadata> result : results) {
            try {
                result.get(30, TimeUnit.SECONDS);
                failures.add("");
            } catch (ExecutionException e) {
                failures.add(String.valueOf(e.getCause()));
            } catch (Exception e) {
                failures.add(e.toString());
            }
        }
        return failures;
    }
}

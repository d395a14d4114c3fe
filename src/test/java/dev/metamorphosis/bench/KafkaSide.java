package dev.metamorphosis.bench;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import dev.metamorphosis.it.Records;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The benchmark's Kafka side: topics that stamp every record with the broker's append time, a plain producer for the
 * raw limit, and a reader that tallies what the bridge wrote.
 */
final class KafkaSide implements AutoCloseable {

    private static final byte[] CONTENT = "\",\"content\":\"".getBytes(StandardCharsets.US_ASCII);

    private final String bootstrap;
    private final Admin admin;

    KafkaSide(String bootstrap) {
        this.bootstrap = bootstrap;
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        admin = Admin.create(p);
    }

    /** Creates a topic whose records carry the time the broker appended them (LogAppendTime). */
    void createTopic(String topic, int partitions) {
        try {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1)
                    .configs(Map.of("message.timestamp.type", "LogAppendTime")))).all().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("topic " + topic + " not created", e);
        }
    }

    /** Records in the topics now. */
    long count(List<String> topics) {
        return topics.stream().mapToLong(this::count).sum();
    }

    /** Records in the topic now (sum of its end offsets). */
    long count(String topic) {
        try {
            var partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions();
            Map<TopicPartition, OffsetSpec> latest = partitions.stream().collect(Collectors.toMap(
                    info -> new TopicPartition(topic, info.partition()), info -> OffsetSpec.latest()));
            return admin.listOffsets(latest).all().get().values().stream().mapToLong(i -> i.offset()).sum();
        } catch (Exception e) {
            throw new IllegalStateException("cannot count the records of " + topic, e);
        }
    }

    /**
     * Waits until the topics hold {@code expected} records, or until no record has been added for {@code stall};
     * returns the count then.
     */
    long await(List<String> topics, long expected, Duration stall) throws InterruptedException {
        long count = count(topics);
        long lastChange = System.nanoTime();
        while (count < expected && System.nanoTime() - lastChange < stall.toNanos()) {
            Thread.sleep(100);
            long now = count(topics);
            if (now != count) {
                count = now;
                lastChange = System.nanoTime();
            }
        }
        return count;
    }

    /**
     * Reads every record of the topics and tallies those whose MQTT topic contains {@code marker} by the stamp in
     * their envelope (or, for a raw record, in its value, with the MQTT topic in header {@code mqtt.topic}), with
     * their append time.
     */
    Tally tally(List<String> topics, String marker) {
        Tally tally = new Tally();
        for (String topic : topics) {
            Records.each(bootstrap, topic, r -> {
                if (r.timestampType() != TimestampType.LOG_APPEND_TIME) {
                    throw new IllegalStateException(topic + " does not stamp records with their append time");
                }
                byte[] v = r.value();
                var header = r.headers().lastHeader("mqtt.topic");
                if (header != null) {
                    String mqttTopic = new String(header.value(), StandardCharsets.UTF_8);
                    if (mqttTopic.contains(marker)) {
                        tally.add(mqttTopic, Stamp.read(v, 0), r.timestamp());
                    }
                    return;
                }
                int quote = indexOf(v, CONTENT, 10);
                String mqttTopic = new String(v, 10, quote - 10, StandardCharsets.UTF_8);
                if (mqttTopic.contains(marker)) {
                    tally.add(mqttTopic, Stamp.ofEnvelope(v, quote + CONTENT.length), r.timestamp());
                }
            });
        }
        return tally;
    }

    /**
     * The plain producer's rate into a one-partition topic: {@code count} records of {@code size} bytes, acks=all and
     * idempotent as the bridge writes, batched as a bulk producer would (linger 5 ms, 256 KiB batches), after as many
     * unmeasured, as the bridge is warmed up: measured cold, when a 10 KiB case ran first, it wrote 13,500 records a
     * second against 25,000 after the 200 B cases.
     */
    double producerRate(String topic, int count, int size) {
        byte[] value = Stamp.payload(size);
        try (var producer = producer(topic, Map.of(ProducerConfig.LINGER_MS_CONFIG, "5",
                ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(256 * 1024)))) {
            producer.partitionsFor(topic); // metadata before the clock starts
            sendAll(producer, topic, value, count);
            long start = System.nanoTime();
            sendAll(producer, topic, value, count);
            return count * 1e9 / (System.nanoTime() - start);
        }
    }

    /**
     * A new one-partition topic and a producer configured as the bridge's (application.properties: acks=all,
     * idempotent, 512 KiB batches, no linger), for the plain forwarder ({@link PahoSubscriber}).
     */
    KafkaProducer<byte[], byte[]> producerAsTheBridge(String topic) {
        return producer(topic, Map.of(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(512 * 1024),
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(1024 * 1024)));
    }

    /** A new one-partition topic and an idempotent producer (acks=all) of byte arrays into it, with these settings. */
    private KafkaProducer<byte[], byte[]> producer(String topic, Map<String, String> settings) {
        createTopic(topic, 1);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.putAll(settings);
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** Sends {@code count} records of {@code value} and waits until Kafka has them all. */
    private static void sendAll(KafkaProducer<byte[], byte[]> producer, String topic, byte[] value, int count) {
        for (int i = 0; i < count; i++) {
            producer.send(new ProducerRecord<>(topic, value));
        }
        producer.flush();
    }

    private static int indexOf(byte[] bytes, byte[] what, int from) {
        outer:
        for (int i = from; i <= bytes.length - what.length; i++) {
            for (int j = 0; j < what.length; j++) {
                if (bytes[i + j] != what[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new IllegalStateException("not an envelope: " + new String(bytes, 0, Math.min(bytes.length, 80),
                StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        admin.close();
    }
}

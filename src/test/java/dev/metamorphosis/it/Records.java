package dev.metamorphosis.it;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import org.awaitility.Awaitility;

/** Reads what the bridge wrote, straight from the Kafka broker. */
public final class Records {
    /** Seconds an answer from the broker may take. */
    private static final long ASK = 30;
    /** The admin client {@link #count} asks each broker with, by bootstrap address. */
    private static final Map<String, Admin> ADMINS = new ConcurrentHashMap<>();

    private Records() {
    }

    /** Each record's value as UTF-8 text, in order. */
    public static List<String> values(List<ConsumerRecord<byte[], byte[]>> records) {
        return records.stream().map(r -> new String(r.value(), StandardCharsets.UTF_8)).toList();
    }

    /** Waits until the topic holds at least {@code count} records, then returns all of them, in order. */
    public static List<ConsumerRecord<byte[], byte[]>> await(String bootstrap, String topic, int count, Duration atMost) {
        // a broker that cannot answer yet (just restarted) is asked again; one that never does fails the wait
        Awaitility.await(count + " records on " + topic).atMost(atMost).pollInterval(Duration.ofMillis(250))
                .ignoreExceptionsInstanceOf(IllegalStateException.class).until(() -> count(bootstrap, topic) >= count);
        return read(bootstrap, topic);
    }

    /**
     * The number of records in the topic (end offsets), 0 if it does not exist. Any other failure to ask (the broker
     * down or erroring) throws: a count of 0 is an answer from the broker, never a failure to get one. The waits ask
     * every 250 ms to 1 s, so the admin client of each broker is kept ({@link #forget}): a question took 15 ms of CPU
     * in this JVM and 5 in the broker with a new client, 2 and 1.5 with a kept one. One that failed is dropped; the
     * next question makes another.
     */
    public static long count(String bootstrap, String topic) {
        Admin admin = ADMINS.computeIfAbsent(bootstrap, Records::admin);
        try {
            var partitions = admin.describeTopics(List.of(topic)).allTopicNames().get(ASK, TimeUnit.SECONDS)
                    .get(topic).partitions();
            Map<TopicPartition, OffsetSpec> latest = partitions.stream().collect(Collectors.toMap(
                    info -> new TopicPartition(topic, info.partition()), info -> OffsetSpec.latest()));
            return admin.listOffsets(latest).all().get(ASK, TimeUnit.SECONDS).values().stream()
                    .mapToLong(i -> i.offset()).sum();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                return 0;
            }
            forget(bootstrap, admin);
            throw new IllegalStateException("could not count the records of " + topic + " on " + bootstrap, e);
        } catch (TimeoutException e) {
            forget(bootstrap, admin);
            throw new IllegalStateException("no count of the records of " + topic + " from " + bootstrap + " in "
                                            + ASK + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static Admin admin(String bootstrap) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return Admin.create(p);
    }

    /** Closes the admin client kept for the broker, if any: the broker is gone ({@link KafkaBroker#close}). */
    static void forget(String bootstrap) {
        Admin admin = ADMINS.remove(bootstrap);
        if (admin != null) {
            admin.close(Duration.ZERO);
        }
    }

    private static void forget(String bootstrap, Admin admin) {
        if (ADMINS.remove(bootstrap, admin)) {
            admin.close(Duration.ZERO);
        }
    }

    /** Every record of the topic, partition by partition, in offset order. */
    public static List<ConsumerRecord<byte[], byte[]>> read(String bootstrap, String topic) {
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        each(bootstrap, topic, records::add);
        records.sort((a, b) -> a.partition() != b.partition() ? Integer.compare(a.partition(), b.partition())
                : Long.compare(a.offset(), b.offset()));
        return records;
    }

    /** Hands every record the topic holds now to {@code action}, in offset order within each partition. */
    public static void each(String bootstrap, String topic, Consumer<ConsumerRecord<byte[], byte[]>> action) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10000");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(16 * 1024 * 1024));
        try (var consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                consumer.poll(Duration.ofMillis(500)).forEach(action);
            }
        }
    }
}

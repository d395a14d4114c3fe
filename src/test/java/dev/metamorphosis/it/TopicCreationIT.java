package dev.metamorphosis.it;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import dev.metamorphosis.Batch;
import dev.metamorphosis.KafkaTopics;
import dev.metamorphosis.Settings;
import org.apache.camel.BeanInject;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.support.DefaultExchange;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static org.assertj.core.api.Assertions.assertThat;

/** On a broker that does not create topics itself, the bridge creates its topic and probe topic. */
@CamelMainTest(configurationClasses = Settings.class, propertyPlaceholderLocations = "file:application.properties",
        properties = {
            "camel.main.routesIncludePattern=file:routes/*.camel.yaml",
            "mqtt.client.id=topic-creation-it-%h",
            "mqtt.topic=topic-creation/#",
            "kafka.topic=created-by-bridge",
            "kafka.test.topic=probe-created-by-bridge",
            "kafka.topic.partitions=3",
            "kafka.interval=1"
        })
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TopicCreationIT {

    private static final int BURSTS = 30;
    private static final int BURST = 300;

    static KafkaBroker strict;

    @BeanInject
    CamelContext context;

    @BeforeAll
    static void brokerWithoutAutoCreate() {
        Brokers.useShared();
        strict = KafkaBroker.start("no-auto-create", Map.of("auto.create.topics.enable", "false"));
        System.setProperty("kafka.broker", strict.bootstrap());
    }

    @AfterAll
    static void stop() {
        strict.close();
        Brokers.useShared();
    }

    /**
     * A produce request that reaches a partition before its leader serves it is refused, and the idempotent producer
     * may have the requests after it appended first: the refused one is then out of order until it expires
     * (KAFKA-15591), and the bridge writes its batch again after later records. Two bridges of one shared group meet a
     * new TOPIC_MAP topic at once: one creates it, the other finds it created (listed, or refused as existing) a moment
     * before it is served. Without the wait for the leaders, 3 to 6 bursts of 20 to 30 failed so on this machine; with
     * the wait only for the topics a bridge created itself, 4 of 30 topics. Small producer batches make each burst many
     * requests at once.
     */
    @Test
    void should_have_each_new_topic_served_before_either_of_two_bridges_writes_a_burst_to_it() throws Exception {
        KafkaTopics bridge = context.getRegistry().lookupByNameAndType("kafkaTopics", KafkaTopics.class);
        KafkaTopics otherBridge = new KafkaTopics();
        otherBridge.onContextStarting(context);
        List<String> failed = new ArrayList<>();
        ExecutorService both = Executors.newFixedThreadPool(2);
        try (KafkaProducer<byte[], byte[]> first = burstProducer();
             KafkaProducer<byte[], byte[]> second = burstProducer()) {
            for (int t = 0; t < BURSTS; t++) {
                String topic = "created-then-burst-" + t;
                CyclicBarrier together = new CyclicBarrier(2);
                List<Callable<List<String>>> bridges = List.of(
                        () -> ensureThenBurst(bridge, first, topic, together),
                        () -> ensureThenBurst(otherBridge, second, topic, together));
                for (Future<List<String>> burst : both.invokeAll(bridges)) {
                    failed.addAll(burst.get());
                }
            }
        } finally {
            both.shutdownNow();
        }
        assertThat(failed).as("bursts refused or out of order").isEmpty();
        Properties a = new Properties();
        a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, strict.bootstrap());
        try (Admin admin = Admin.create(a)) {
            Map<TopicPartition, OffsetSpec> ends = new HashMap<>();
            IntStream.range(0, BURSTS).forEach(t -> ends.put(new TopicPartition("created-then-burst-" + t, 0),
                    OffsetSpec.latest()));
            // each record once: both bursts whole, and nothing after them
            admin.listOffsets(ends).all().get(30, TimeUnit.SECONDS).forEach((partition, end) ->
                    assertThat(end.offset()).as("records on " + partition.topic()).isEqualTo(2 * BURST));
        }
    }

    /** A plain idempotent producer of 1 KiB batches, sent at once, that gives up on a record after 10 s. */
    private static KafkaProducer<byte[], byte[]> burstProducer() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, strict.bootstrap());
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, 1024);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 10_000);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /**
     * Has the bridge's {@code kafkaTopics} ensure the topic as for a batch holding a record for it, then at once writes
     * BURST records to its partition 0; what went wrong: a record refused, or written before one sent ahead of it.
     */
    private List<String> ensureThenBurst(KafkaTopics topics, KafkaProducer<byte[], byte[]> producer, String topic,
                                         CyclicBarrier together) throws Exception {
        Exchange record = new DefaultExchange(context);
        record.setProperty(Batch.TOPIC, topic);
        Exchange batch = new DefaultExchange(context);
        batch.getMessage().setBody(new ArrayList<>(List.of(record)));
        together.await(30, TimeUnit.SECONDS);
        topics.ensure(batch);
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        for (int i = 0; i < BURST; i++) {
            sent.add(producer.send(new ProducerRecord<>(topic, 0, null, new byte[400])));
        }
        producer.flush();
        long last = -1;
        for (int i = 0; i < BURST; i++) {
            try {
                long offset = sent.get(i).get().offset();
                if (offset <= last) {
                    return List.of(topic + ": record " + i + " at offset " + offset + ", after " + last);
                }
                last = offset;
            } catch (ExecutionException e) {
                return List.of(topic + ": " + e.getCause());
            }
        }
        return List.of();
    }

    @Test
    void should_create_the_missing_topics_and_write_to_them() throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, strict.bootstrap());
        try (Admin admin = Admin.create(p)) {
            var topics = admin.describeTopics(List.of("created-by-bridge", "probe-created-by-bridge"))
                    .allTopicNames().get();
            assertThat(topics.get("created-by-bridge").partitions()).hasSize(3);
            assertThat(topics.get("probe-created-by-bridge").partitions()).hasSize(3);
        }
        assertThat(Records.await(strict.bootstrap(), "probe-created-by-bridge", 1, Duration.ofSeconds(30)))
                .hasSize(1);
        try (Publisher publisher = new Publisher(Brokers.mqtt().url())) {
            publisher.publish("topic-creation/x", "hello".getBytes(StandardCharsets.UTF_8), 1);
        }
        var records = Records.await(strict.bootstrap(), "created-by-bridge", 1, Duration.ofSeconds(30));
        assertThat(new String(records.get(0).value(), StandardCharsets.UTF_8))
                .isEqualTo("{\"topic\":\"topic-creation/x\",\"content\":\"aGVsbG8=\"}");
    }
}

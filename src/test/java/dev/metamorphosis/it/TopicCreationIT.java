package dev.metamorphosis.it;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
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
     * (KAFKA-15591), and the bridge writes its batch again after later records. Without the wait for the leaders, 3 to
     * 6 bursts of 20 to 30 failed so on this machine. Small producer batches make each burst many requests at once.
     */
    @Test
    void should_have_each_topic_it_creates_served_so_a_burst_written_at_once_is_written_whole_and_in_order()
            throws Exception {
        KafkaTopics topics = context.getRegistry().lookupByNameAndType("kafkaTopics", KafkaTopics.class);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, strict.bootstrap());
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, 1024);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 10_000);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        List<String> failed = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            for (int t = 0; t < BURSTS; t++) {
                String topic = "created-then-burst-" + t;
                Exchange record = new DefaultExchange(context);
                record.setProperty(Batch.TOPIC, topic);
                Exchange batch = new DefaultExchange(context);
                batch.getMessage().setBody(new ArrayList<>(List.of(record)));
                topics.ensure(batch);
                List<Future<RecordMetadata>> sent = new ArrayList<>();
                for (int i = 0; i < BURST; i++) {
                    sent.add(producer.send(new ProducerRecord<>(topic, 0, null, new byte[400])));
                }
                producer.flush();
                for (int i = 0; i < BURST; i++) {
                    try {
                        long offset = sent.get(i).get().offset();
                        if (offset != i) {
                            failed.add(topic + ": record " + i + " at offset " + offset);
                            break;
                        }
                    } catch (ExecutionException e) {
                        failed.add(topic + ": " + e.getCause());
                        break;
                    }
                }
            }
        }
        assertThat(failed).as("bursts refused or out of order").isEmpty();
        Properties a = new Properties();
        a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, strict.bootstrap());
        try (Admin admin = Admin.create(a)) {
            Map<TopicPartition, OffsetSpec> ends = new HashMap<>();
            IntStream.range(0, BURSTS).forEach(t -> ends.put(new TopicPartition("created-then-burst-" + t, 0),
                    OffsetSpec.latest()));
            // each record once: offsets 0 to BURST - 1 in the order sent, and nothing after them
            admin.listOffsets(ends).all().get(30, TimeUnit.SECONDS).forEach((partition, end) ->
                    assertThat(end.offset()).as("records on " + partition.topic()).isEqualTo(BURST));
        }
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

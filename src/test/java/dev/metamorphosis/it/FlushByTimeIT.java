package dev.metamorphosis.it;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import dev.metamorphosis.Settings;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * With a batch size no test reaches, a batch goes to Kafka every KAFKA_INTERVAL seconds: measured with the time Kafka
 * appended each record (the topic keeps LogAppendTime), against the time it was published and the flush before it.
 */
@CamelMainTest(configurationClasses = Settings.class, propertyPlaceholderLocations = "file:application.properties",
        properties = {
            "camel.main.routesIncludePattern=file:routes/*.camel.yaml",
            "mqtt.client.id=flush-time-it-%h",
            "mqtt.topic=flush-time/#",
            "kafka.topic=flush-time-it",
            "kafka.batch.size=1000000",
            "delivery=buffered",
            "kafka.interval=" + FlushByTimeIT.INTERVAL_SECONDS
        })
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FlushByTimeIT {

    static final int INTERVAL_SECONDS = 4;
    private static final long INTERVAL = INTERVAL_SECONDS * 1000L;
    /**
     * Milliseconds a write may come after its flush is due, or before or after the time the timer's phase says: the
     * timer's jitter and the difference between two batches' writes to Kafka on a busy 2-core machine.
     */
    private static final long SLACK = 1000;
    private static final String TOPIC = "flush-time-it";

    @BeforeAll
    static void brokers() {
        Brokers.useShared();
    }

    @Test
    void should_write_a_partial_batch_when_the_interval_has_passed() throws Exception {
        String kafka = Brokers.kafka().bootstrap();
        appendTimeTopic(kafka);
        publish(0, 1, 2);
        assertThat(Records.await(kafka, TOPIC, 3, Duration.ofSeconds(30))).hasSize(3);
        // a lone message, written by the flush after the one that wrote it: that flush's time is the timer's phase
        long published = publish(3);
        ConsumerRecord<byte[], byte[]> previous = last(Records.await(kafka, TOPIC, 4, Duration.ofSeconds(30)), 4);
        long lone = publish(4);
        ConsumerRecord<byte[], byte[]> written = last(Records.await(kafka, TOPIC, 5, Duration.ofSeconds(30)), 5);

        assertThat(previous.timestamp() - published).as("ms from publishing message 3 to its append")
                .isBetween(0L, INTERVAL + SLACK);
        long delay = written.timestamp() - lone;
        // the flush that wrote it: a whole number of intervals after the one before, and after it was published
        long since = written.timestamp() - previous.timestamp();
        long flushes = Math.round((double) since / INTERVAL);
        System.out.printf("RESULT | flush-by-time | buffered | KAFKA_INTERVAL %d s | lone message appended %d ms after "
                          + "it was published, %d ms after the flush before it%n", INTERVAL_SECONDS, delay, since);
        assertThat(delay).as("ms from publishing the lone message to its append").isBetween(0L, INTERVAL + SLACK);
        assertThat(flushes).as("intervals from the flush before (" + since + " ms)").isPositive();
        assertThat(since).as("ms from the flush before, against %d intervals", flushes)
                .isBetween(flushes * INTERVAL - SLACK, flushes * INTERVAL + SLACK);
    }

    /** Publishes one-byte messages of these values; returns the time just before the first (once connected). */
    private static long publish(int... values) {
        try (Publisher publisher = new Publisher(Brokers.mqtt().url())) {
            long before = System.currentTimeMillis();
            for (int v : values) {
                publisher.publish("flush-time/a", new byte[] {(byte) v}, 1);
            }
            return before;
        }
    }

    /** The record of message {@code n} (1-based), once all before it are there: Kafka's time of appending it. */
    private static ConsumerRecord<byte[], byte[]> last(List<ConsumerRecord<byte[], byte[]>> records, int n) {
        assertThat(records).hasSize(n);
        ConsumerRecord<byte[], byte[]> r = records.get(n - 1);
        assertThat(r.timestampType()).as("timestamp type").isEqualTo(TimestampType.LOG_APPEND_TIME);
        return r;
    }

    /**
     * The topic (the bridge made it at start-up) made to stamp each record with the broker's time of appending it, not
     * the bridge's time of the message's arrival.
     */
    private static void appendTimeTopic(String bootstrap) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(p)) {
            ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, TOPIC);
            // the broker may not know the topic yet when its controller has just made it (seen once in a fresh
            // clone's verify: UnknownTopicOrPartitionException 2 s after the start): asked again until it does
            await("the topic made to keep LogAppendTime").atMost(Duration.ofSeconds(60)).until(() -> {
                try {
                    admin.incrementalAlterConfigs(Map.of(topic, List.of(new AlterConfigOp(
                            new ConfigEntry("message.timestamp.type", "LogAppendTime"), AlterConfigOp.OpType.SET))))
                            .all().get(30, TimeUnit.SECONDS);
                    return true;
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                        return false;
                    }
                    throw e;
                }
            });
        }
    }
}

package dev.metamorphosis;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.component.micrometer.MicrometerConstants;
import org.apache.camel.spi.OnCamelContextStarting;

/**
 * The bridge's metrics, for {@code GET /metrics} (routes/metrics.camel.yaml).
 * <p>
 * The Go version's five come first, exactly as its Prometheus client wrote them: counters {@code mqtt_received},
 * {@code mqtt_errors}, {@code kafka_sent} (batches written) and {@code kafka_errors} (failed writes) without the
 * {@code _total} suffix that Micrometer's Prometheus registry adds to every counter, and gauge {@code kafka_state} (0:
 * the last write succeeded, 1: it failed), so dashboards and alerts written for it keep working. Then the registry of
 * camel-micrometer: the {@code metamorphosis_*} meters registered here, Camel's route metrics and the JVM's.
 * <p>
 * The routes report the events: {@link #written} (a batch Kafka acknowledged), {@link #process} (a failed write, as the
 * error handler's on-exception-occurred processor) and {@link #probed}; the MQTT consumer counts what it receives.
 */
public final class Metrics implements OnCamelContextStarting, Processor {

    private static final Duration[] LATENCY_BUCKETS = seconds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
            30, 60, 120, 300, 600);
    private static final Duration[] SYNC_BUCKETS = seconds(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
            0.25, 0.5, 1);
    /** Kafka topics that get a label of their own on the records-written counter. */
    static final int TOPIC_LABELS = 100;
    private static final double[] BATCH_BUCKETS = {1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 8000, 10000};

    private final LongAdder batches = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private volatile int kafkaState;
    private volatile int probe;
    private PrometheusMeterRegistry registry;
    private Health health;
    private Spool spool;
    private Mapping mapping;
    private DeadLetter deadLetter;
    private KafkaHealthCheck kafkaHealth;
    private MqttComponent mqtt;
    private DistributionSummary batchSize;
    private Timer latency;
    private final Map<String, Counter> records = new ConcurrentHashMap<>();
    private String defaultTopic;

    @Override
    public void onContextStarting(CamelContext context) {
        registry = context.getRegistry().lookupByNameAndType(MicrometerConstants.METRICS_REGISTRY_NAME,
                PrometheusMeterRegistry.class);
        defaultTopic = context.resolvePropertyPlaceholders("{{kafka.topic}}");
        records(defaultTopic);
        FunctionCounter.builder("metamorphosis.topic.map.unmatched", mapping, Mapping::unmatched)
                .description("Messages no rule of TOPIC_MAP matched (written to KAFKA_TOPIC)").register(registry);
        FunctionCounter.builder("metamorphosis.kafka.batches.written", batches, LongAdder::sum)
                .description("Batches Kafka acknowledged (the Go version's kafka_sent)").register(registry);
        batchSize = DistributionSummary.builder("metamorphosis.kafka.batch.size").baseUnit("records")
                .description("Envelopes per batch written").serviceLevelObjectives(BATCH_BUCKETS).register(registry);
        latency = Timer.builder("metamorphosis.end.to.end.latency")
                .description("From the arrival of an MQTT message to Kafka's acknowledgement of its record")
                .serviceLevelObjectives(LATENCY_BUCKETS).register(registry);
        Gauge.builder("metamorphosis.spool.messages", spool, Spool::messages)
                .description("Envelopes received and not yet acknowledged by Kafka").register(registry);
        Gauge.builder("metamorphosis.spool.bytes", spool, Spool::bytes)
                .description("Bytes of the envelopes received and not yet acknowledged by Kafka").register(registry);
        Gauge.builder("metamorphosis.spool.oldest.age.seconds", spool, s -> s.oldestAgeMillis() / 1000.0)
                .description("Age of the oldest envelope not yet acknowledged by Kafka; 0 when there is none")
                .register(registry);
        long maxMessages = setting(context, "spool.max.messages");
        Gauge.builder("metamorphosis.spool.capacity.messages", () -> maxMessages)
                .description("Most envelopes the spool holds (SPOOL_MAX_MESSAGES)").register(registry);
        Gauge.builder("metamorphosis.spool.capacity.bytes", spool, Spool::maxBytes)
                .description("Most bytes the spool holds (SPOOL_MAX_BYTES: on disk with DELIVERY=durable, of "
                        + "envelopes in memory otherwise)").register(registry);
        Gauge.builder("metamorphosis.spool.disk.bytes", spool, Spool::diskBytes)
                .description("Bytes the spool's files take in SPOOL_DIR (DELIVERY=durable; 0 otherwise)")
                .register(registry);
        FunctionCounter.builder("metamorphosis.spool.replayed.records", spool, Spool::replayed)
                .description("Records the disk spool held at start-up, written to Kafka before anything new")
                .register(registry);
        FunctionCounter.builder("metamorphosis.spool.corrupt.records", spool, Spool::corrupt)
                .description("Torn or corrupt records of the disk spool skipped at start-up: one torn by a crash "
                        + "before its sync was never acknowledged (the broker delivers it again), one damaged after "
                        + "it is lost")
                .register(registry);
        FunctionCounter.builder("metamorphosis.spool.write.errors", spool, Spool::writeErrors)
                .description("Writes or syncs of the disk spool that failed (each is tried again)")
                .register(registry);
        Timer sync = Timer.builder("metamorphosis.spool.sync")
                .description("Time to write and sync the disk spool; one sync covers every message that arrived "
                        + "meanwhile").serviceLevelObjectives(SYNC_BUCKETS).register(registry);
        spool.onSync(nanos -> sync.record(nanos, TimeUnit.NANOSECONDS));
        FunctionCounter.builder("metamorphosis.messages.dropped", spool, Spool::dropped)
                .description("Messages dropped because the spool was full (SPOOL_OVERFLOW drop-oldest or drop-newest)")
                .register(registry);
        FunctionCounter.builder("metamorphosis.messages.dead.lettered", deadLetter, DeadLetter::count)
                .description("Messages Kafka refused for good, set aside to DEAD_LETTER_TOPIC (dropped when it is "
                        + "not set)").register(registry);
        Gauge.builder("metamorphosis.probe.success", this, m -> m.probe)
                .description("1 once Kafka acknowledged the start-up probe record; 0 when there is no probe "
                        + "(KAFKA_TEST_TOPIC empty)").register(registry);
        Gauge.builder("metamorphosis.mqtt.connected", health, Health::mqttConnected)
                .description("1 while every MQTT subscription is in place and its client connected").register(registry);
        mqtt = context.getComponent("paho-mqtt5", MqttComponent.class);
        Gauge.builder("metamorphosis.mqtt.unacknowledged.messages", mqtt, MqttComponent::unacknowledged)
                .description("Messages received from MQTT and not yet acknowledged to the broker; in at-least-once "
                        + "delivery, stuck at the broker's in-flight limit while Kafka is down").register(registry);
        FunctionCounter.builder("metamorphosis.mqtt.reconnects", mqtt, MqttComponent::reconnects)
                .description("MQTT connections lost and regained").register(registry);
        Gauge.builder("metamorphosis.kafka.connected", kafkaHealth, KafkaHealthCheck::connected)
                .description("1 while Kafka answers and every partition of KAFKA_TOPIC has a leader").register(registry);
    }

    /** Kafka acknowledged a batch: counts it and its records, and each record's time from MQTT to Kafka. */
    public void written(List<Exchange> batch) {
        recordsWritten(batch);
        batchSize.record(batch.size());
        batches.increment();
        kafkaState = 0;
    }

    /** Kafka acknowledged these records of a batch that failed later on (they are not written again). */
    public void recordsWritten(List<Exchange> records) {
        long now = System.currentTimeMillis();
        String topic = null;
        Counter counter = null;
        for (Exchange record : records) {
            latency.record(Math.max(0, now - Spool.arrived(record)), TimeUnit.MILLISECONDS);
            String t = record.getProperty(Batch.TOPIC, defaultTopic, String.class);
            if (!t.equals(topic)) {
                topic = t;
                counter = records(t);
            }
            counter.increment();
        }
    }

    /**
     * The counter of records written to a Kafka topic. A map with a {@code #} capture can name many topics: the first
     * {@value #TOPIC_LABELS} get a label each, the records of any further ones count under {@code _other}.
     */
    private Counter records(String topic) {
        Counter counter = records.get(topic);
        if (counter == null) {
            String label = records.size() < TOPIC_LABELS ? topic : "_other";
            counter = records.computeIfAbsent(label, l -> Counter.builder("metamorphosis.kafka.records.written")
                    .description("Records Kafka acknowledged, by Kafka topic").tag("topic", l).register(registry));
        }
        return counter;
    }

    /** A write to Kafka failed (it is retried). */
    @Override
    public void process(Exchange exchange) {
        failures.increment();
        kafkaState = 1;
    }

    /** Kafka acknowledged the start-up probe record. */
    public void probed() {
        probe = 1;
    }

    /** The Prometheus text of {@code GET /metrics}: the Go version's metrics, then the registry's. */
    public String scrape() {
        StringBuilder out = new StringBuilder(8192);
        go(out, "kafka_errors", "counter", "No of errors encountered with Kafka", failures.sum());
        go(out, "kafka_sent", "counter", "Number of batches sent to kafka", batches.sum());
        go(out, "kafka_state", "gauge", "Kafka status (0 is OK)", kafkaState);
        go(out, "mqtt_errors", "counter", "Number of erroneous MQTT messages", mqtt.errors());
        go(out, "mqtt_received", "counter", "Number of received MQTT messages", mqtt.received());
        return out.append(registry.scrape()).toString();
    }

    private static void go(StringBuilder out, String name, String type, String help, long value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(' ').append(type).append('\n')
                .append(name).append(' ').append(value).append('\n');
    }

    private static long setting(CamelContext context, String key) {
        return Long.parseLong(context.resolvePropertyPlaceholders("{{" + key + "}}"));
    }

    public void setHealth(Health health) {
        this.health = health;
    }

    public void setSpool(Spool spool) {
        this.spool = spool;
    }

    public void setMapping(Mapping mapping) {
        this.mapping = mapping;
    }

    public void setDeadLetter(DeadLetter deadLetter) {
        this.deadLetter = deadLetter;
    }

    public void setKafkaHealth(KafkaHealthCheck kafkaHealth) {
        this.kafkaHealth = kafkaHealth;
    }

    private static Duration[] seconds(double... values) {
        Duration[] out = new Duration[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Duration.ofNanos(Math.round(values[i] * 1e9));
        }
        return out;
    }
}

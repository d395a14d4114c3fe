package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A small spool, Kafka out of reach (connections refused by a proxy) and 600 messages at once: the spool's depth,
 * sampled from /metrics every 100 ms through the overflow, reaches its bound and never passes it; {@code block} holds
 * MQTT back and loses nothing, {@code drop-oldest} keeps the newest, {@code drop-newest} the oldest, drops are logged.
 * By messages ({@code SPOOL_MAX_MESSAGES}) and by bytes ({@code SPOOL_MAX_BYTES}), in each delivery mode that takes
 * the policy. In memory the bound is the queue's: the batch Kafka does not take holds up to
 * {@code KAFKA_MAX_BATCH_SIZE} more (docs/settings.md). On disk it holds every record not yet in Kafka. (In
 * at-least-once delivery the broker's in-flight window, messages it sent and was not acknowledged, binds first: the
 * embedded broker stops sending before the spool fills, so it shows nothing of the spool's bound.)
 */
@Execution(ExecutionMode.CONCURRENT)
@Order(2) // early, after the durable outages: 1.5 to 2 minutes, longer than most (junit-platform.properties)
@Timeout(value = 8, unit = TimeUnit.MINUTES) // MEASURE
class SpoolOverflowIT {

    private static final int BURST = 600;
    private static final int BATCH = 50;
    /** Envelopes the queue in memory holds, by SPOOL_MAX_MESSAGES or by SPOOL_MAX_BYTES. */
    private static final int QUEUE = 100;
    /** SPOOL_MAX_BYTES of the disk spool: fewer bytes than 100 records take. */
    private static final long DISK_BYTES = 30_000;
    /** Bytes of Traffic's envelope on topic {@code <prefix>/t0}, but the prefix: its 200-byte payload in base64. */
    private static final int ENVELOPE_OVERHEAD = "{\"topic\":\"/t0\",\"content\":\"\"}".length() + 268;

    /** One bridge of a scenario. */
    private record Case(String scenario, String delivery, String overflow) {
        String prefix() {
            return "overflow-" + scenario + "-" + delivery + "-" + overflow;
        }

        boolean block() {
            return overflow.equals("block");
        }

        boolean onDisk() {
            return delivery.equals("durable");
        }

        /** What a spooled message counts for in the depth this scenario bounds: 1, or its envelope's bytes. */
        long unit() {
            return scenario.equals("messages") ? 1 : ENVELOPE_OVERHEAD + prefix().length();
        }

        /** The setting this case bounds the spool with. */
        Map<String, String> bound() {
            return scenario.equals("messages") ? Map.of("SPOOL_MAX_MESSAGES", Integer.toString(QUEUE))
                    : Map.of("SPOOL_MAX_BYTES", Long.toString(onDisk() ? DISK_BYTES : QUEUE * unit() + unit() / 2));
        }

        /** The most the depth may reach: the queue and a batch in memory, the bound on disk. */
        long ceiling() {
            return onDisk() ? DISK_BYTES : (QUEUE + BATCH) * unit();
        }

        /**
         * The least the depth must reach to show the bound reached: a full queue and a full batch where batches close
         * by size alone (block, KAFKA_INTERVAL an hour), a full queue and at least one in the batch otherwise (the
         * flush every second may have closed a smaller batch); on disk, within two records of the bound (a record
         * takes its envelope and at most 200 bytes more).
         */
        long floor() {
            if (onDisk()) {
                return DISK_BYTES - 2 * (unit() + 200);
            }
            return block() ? ceiling() : (QUEUE + 1) * unit();
        }

        String depthMetric() {
            return scenario.equals("messages") ? "metamorphosis_spool_messages" : "metamorphosis_spool_bytes";
        }
    }

    /** What a bridge showed: the depth through the overflow, then what reached Kafka. */
    private record Outcome(MetricPeak depth, Traffic.Tally tally, List<Integer> seqs, String stderr) {
    }

    @Test
    @Execution(ExecutionMode.SAME_THREAD) // one scenario after the other: each runs 3 to 5 bridges and a Kafka
    void should_hold_the_spool_at_spool_max_messages_blocking_or_dropping_as_spool_overflow_says() throws IOException {
        assertBoundsAndLosses(overflow(List.of(new Case("messages", "buffered", "block"),
                new Case("messages", "buffered", "drop-oldest"), new Case("messages", "buffered", "drop-newest"))));
    }

    @Test
    @Execution(ExecutionMode.SAME_THREAD) // one scenario after the other: each runs 3 to 5 bridges and a Kafka
    void should_hold_the_spool_at_spool_max_bytes_blocking_or_dropping_as_spool_overflow_says() throws IOException {
        assertBoundsAndLosses(overflow(List.of(new Case("bytes", "buffered", "block"),
                new Case("bytes", "buffered", "drop-oldest"), new Case("bytes", "buffered", "drop-newest"),
                new Case("bytes", "durable", "block"),
                new Case("bytes", "durable", "drop-newest"))));
    }

    private static void assertBoundsAndLosses(Map<Case, Outcome> outcomes) {
        outcomes.forEach((c, o) -> {
            assertThat(o.depth().max()).as(c + " deepest spool, " + o.depth())
                    .isBetween((double) c.floor(), (double) c.ceiling());
            // every 100 ms for some 6 s; on a busy machine a scrape takes longer, 8 samples seen
            assertThat(o.depth().samples()).as(c + " samples").isGreaterThanOrEqualTo(3);
            assertThat(o.tally().reordered()).as(c + " out of order").isZero();
            switch (c.overflow()) {
                case "block" -> {
                    assertThat(o.depth().last()).as(c + " held at its deepest, " + o.depth())
                            .isEqualTo(o.depth().max());
                    assertThat(o.tally().lost()).as(c + " lost").isZero();
                    assertThat(o.stderr()).as(c.toString()).doesNotContain("dropped");
                }
                case "drop-oldest" -> {
                    assertThat(o.tally().lost()).as(c + " lost").isPositive();
                    assertThat(o.seqs()).as(c + ": the newest of the burst kept").contains(BURST - 1);
                }
                default -> {
                    assertThat(o.tally().lost()).as(c + " lost").isPositive();
                    assertThat(o.seqs()).as(c + ": the oldest of the burst kept, the newest dropped")
                            .contains(0, 1, 2).doesNotContain(BURST - 1);
                }
            }
        });
    }

    /**
     * Starts a bridge for each case with batches of 50 and its bound, refuses Kafka, sends each 600 messages at once,
     * samples the spool's depth until each has reached its floor (and logged a drop, if it drops) and 5 s more, lets
     * Kafka in again and reads what arrived.
     */
    private static Map<Case, Outcome> overflow(List<Case> cases) throws IOException {
        String scenario = cases.get(0).scenario();
        Map<Case, Traffic> traffic = new LinkedHashMap<>();
        Map<Case, MetricPeak> depths = new LinkedHashMap<>();
        Map<Case, Outcome> outcomes = new LinkedHashMap<>();
        try (TcpProxy toKafka = new TcpProxy();
             KafkaBroker kafka = KafkaBroker.startBehind("overflow-" + scenario, toKafka);
             Bridges bridges = new Bridges()) {
            for (Case c : cases) {
                Map<String, String> env = BridgeProcess.environment(Brokers.mqtt().port(), kafka.proxied(),
                        c.prefix(), c.delivery());
                env.put("KAFKA_BATCH_SIZE", Integer.toString(BATCH));
                env.put("KAFKA_MAX_BATCH_SIZE", Integer.toString(BATCH));
                // block: batches close by size alone (600 is 12 of them); a dropping spool's last few need the flush
                env.put("KAFKA_INTERVAL", c.block() ? "3600" : "1");
                env.put("SPOOL_OVERFLOW", c.overflow());
                env.putAll(c.bound());
                bridges.put(c.prefix(), BridgeProcess.start(Files.createTempDirectory("overflow"), env));
                traffic.put(c, new Traffic(c.prefix(), 1));
            }
            for (BridgeProcess bridge : bridges.values()) {
                bridge.awaitSubscribed(Duration.ofSeconds(90));
            }
            toKafka.refuse(true);
            try {
                cases.forEach(c -> depths.put(c, new MetricPeak(bridges.get(c.prefix()), c.depthMetric())));
                traffic.values().forEach(t -> t.burst(Brokers.mqtt().url(), BURST));
                for (Case c : cases) {
                    BridgeProcess bridge = bridges.get(c.prefix());
                    String drop = c.block() ? "" : "dropped the " + c.overflow().substring("drop-".length());
                    Awaitility.await(c + " full").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                            .until(() -> depths.get(c).max() >= c.floor() && bridge.stderr().contains(drop));
                }
                Faults.last(Duration.ofSeconds(5)); // the spools stay full a while: the bounds hold, not only reach
            } finally {
                depths.values().forEach(MetricPeak::close);
            }
            toKafka.refuse(false);

            for (Case c : cases) {
                Traffic.Tally tally = c.block()
                        ? traffic.get(c).awaitAll(kafka.bootstrap(), c.prefix(), Duration.ofSeconds(120))
                        : traffic.get(c).awaitTail(Brokers.mqtt().url(), kafka.bootstrap(), c.prefix(),
                                Duration.ofSeconds(120));
                Traffic.report(tally.line("spool-overflow-" + scenario + "-" + c.overflow(), c.delivery()));
                System.out.println(c + ": " + depths.get(c));
                outcomes.put(c, new Outcome(depths.get(c), tally, numbers(kafka, c.prefix()),
                        bridges.get(c.prefix()).stderr()));
            }
        } finally {
            traffic.values().forEach(Traffic::close);
        }
        return outcomes;
    }

    private static List<Integer> numbers(KafkaBroker kafka, String topic) {
        return Records.read(kafka.bootstrap(), topic).stream().map(r -> Traffic.Numbered.of(r).seq()).toList();
    }
}

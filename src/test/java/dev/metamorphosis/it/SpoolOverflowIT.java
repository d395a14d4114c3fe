package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A spool of 100 messages (and a batch of 50) and Kafka out of reach (connections refused by a proxy) while 600
 * messages arrive, in buffered delivery: {@code block} holds MQTT back and loses nothing; {@code drop-oldest} keeps the newest;
 * {@code drop-newest} keeps the oldest; drops are logged.
 */
@Execution(ExecutionMode.CONCURRENT)
class SpoolOverflowIT {

    @Test
    void should_block_or_drop_as_spool_overflow_says_when_the_spool_is_full() throws IOException {
        try (TcpProxy toKafka = new TcpProxy();
             KafkaBroker kafka = KafkaBroker.startBehind("overflow", toKafka)) {
            Map<String, BridgeProcess> bridges = new java.util.LinkedHashMap<>();
            Map<String, Traffic> traffic = new java.util.LinkedHashMap<>();
            for (String policy : new String[] {"block", "drop-oldest", "drop-newest"}) {
                Map<String, String> env = BridgeProcess.environment(Brokers.mqtt().port(), kafka.proxied(),
                        "overflow-" + policy, "buffered");
                env.put("SPOOL_MAX_MESSAGES", "100");
                env.put("KAFKA_BATCH_SIZE", "50");
                env.put("KAFKA_MAX_BATCH_SIZE", "50");
                env.put("SPOOL_OVERFLOW", policy);
                bridges.put(policy, BridgeProcess.start(Files.createTempDirectory("overflow"), env));
                traffic.put(policy, new Traffic("overflow-" + policy, 1));
            }
            try {
                for (BridgeProcess bridge : bridges.values()) {
                    bridge.awaitSubscribed(Duration.ofSeconds(90));
                }
                toKafka.refuse(true);
                traffic.values().forEach(t -> t.burst(Brokers.mqtt().url(), 600));
                org.awaitility.Awaitility.await("drops logged").atMost(Duration.ofSeconds(60)).until(() ->
                        bridges.get("drop-oldest").stderr().contains("dropped the oldest")
                        && bridges.get("drop-newest").stderr().contains("dropped the newest"));
                Faults.last(Duration.ofSeconds(5));
                toKafka.refuse(false);

                Traffic.Tally block = traffic.get("block").awaitAll(kafka.bootstrap(), "overflow-block",
                        Duration.ofSeconds(120));
                Traffic.Tally oldest = traffic.get("drop-oldest").awaitTail(Brokers.mqtt().url(), kafka.bootstrap(),
                        "overflow-drop-oldest", Duration.ofSeconds(120));
                Traffic.Tally newest = traffic.get("drop-newest").awaitTail(Brokers.mqtt().url(), kafka.bootstrap(),
                        "overflow-drop-newest", Duration.ofSeconds(120));
                Traffic.report(block.line("spool-overflow-block", "buffered"));
                Traffic.report(oldest.line("spool-overflow-drop-oldest", "buffered"));
                Traffic.report(newest.line("spool-overflow-drop-newest", "buffered"));

                assertThat(block.lost()).as("block loses nothing").isZero();
                assertThat(block.reordered()).isZero();
                assertThat(bridges.get("block").stderr()).doesNotContain("dropped");

                var oldestSeqs = numbers(kafka, "overflow-drop-oldest");
                assertThat(oldest.lost()).as("drop-oldest drops").isPositive();
                assertThat(oldestSeqs).as("the newest of the burst is kept").contains(599);
                assertThat(oldest.reordered()).isZero();

                var newestSeqs = numbers(kafka, "overflow-drop-newest");
                assertThat(newest.lost()).as("drop-newest drops").isPositive();
                assertThat(newestSeqs).as("the oldest of the burst are kept, the newest dropped")
                        .contains(0, 1, 2).doesNotContain(599);
                assertThat(newest.reordered()).isZero();
            } finally {
                bridges.values().forEach(BridgeProcess::close);
                traffic.values().forEach(Traffic::close);
            }
        }
    }

    private static java.util.List<Integer> numbers(KafkaBroker kafka, String topic) {
        return Records.read(kafka.bootstrap(), topic).stream().map(r -> Traffic.Numbered.of(r).seq()).toList();
    }
}

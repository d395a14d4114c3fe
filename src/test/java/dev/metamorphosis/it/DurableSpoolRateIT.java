package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code DELIVERY=durable} under load, behind a Mosquitto with its stock limits ({@link Mosquitto#startStock}). The
 * bridge needs about a core at this rate, the publisher, Mosquitto and Kafka most of the other on a 2-core machine, so
 * it runs by itself ({@link Isolated}: after the other tests). Beside them it measured the machine, not the bridge:
 * in {@code ./mvnw verify} (before the warm-up below) Kafka got 52,608 of the 150,000, Mosquitto dropped the rest;
 * alone, all of them.
 */
@Isolated
class DurableSpoolRateIT {

    /**
     * 150,000 messages at 15,000 a second over 4 connections, no fault. A stock Mosquitto keeps at most 1,000 messages
     * for the bridge beyond what it has written to the bridge's connection, whatever receive maximum the bridge asks
     * for: a bridge that reads more slowly than messages come, for longer than that and the socket buffers cover, loses
     * messages at the broker. First 60,000 at 6,000 a second, not counted: a bridge just started runs its first
     * seconds interpreted, and the guarantee is about one that has been running (without the warm-up, a bridge in any
     * delivery mode received only 105,000 to 140,000 of the 150,000 here, on 2 cores).
     */
    @Test
    void should_lose_nothing_at_15000_messages_a_second_behind_a_stock_mosquitto() throws IOException {
        Path executable = Mosquitto.required();
        String name = "durable-rate";
        Path dir = DurableSpoolIT.workDir(name);
        int warmUp = 60_000;
        int count = 150_000;
        try (KafkaBroker kafka = KafkaBroker.start(name, Map.of());
             Mosquitto mosquitto = Mosquitto.startStock(executable, dir.resolve("mosquitto"));
             BridgeProcess bridge = BridgeProcess.start(dir, shipped(DurableSpoolIT.durable(mosquitto, kafka, name)));
             Traffic warm = new Traffic(name + "/warm-up", 8);
             Traffic traffic = new Traffic(name + "/m", 8)) {
            bridge.awaitSubscribed(Duration.ofSeconds(90));
            warm.publish("127.0.0.1", mosquitto.port(), 4, warmUp, 6_000);
            await("the warm-up in Kafka").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                    .untilAsserted(() -> {
                        assertThat(bridge.metric("mqtt_received")).as("warm-up messages received").isEqualTo(warmUp);
                        assertThat(bridge.metric(Signs.SPOOL_MESSAGES)).as("messages in the spool").isZero();
                    });
            Load.Run run = traffic.publish("127.0.0.1", mosquitto.port(), 4, count, 15_000);
            System.out.printf("RESULT | %s | durable | %,d messages published at %,.0f msg/s; when the last was "
                              + "acknowledged to the publisher the bridge had received %,.0f of them; %,.0f syncs "
                              + "in all, %.2f ms on average; Mosquitto: %s%n", name, count, run.rate(),
                    bridge.metric("mqtt_received") - warmUp, bridge.metric("metamorphosis_spool_sync_seconds_count"),
                    1000 * bridge.metric("metamorphosis_spool_sync_seconds_sum")
                    / bridge.metric("metamorphosis_spool_sync_seconds_count"),
                    mosquitto.drops().isEmpty() ? "dropped nothing" : mosquitto.drops());
            Traffic.Tally tally = traffic.awaitAll(kafka.bootstrap(), name, Duration.ofSeconds(120));
            Traffic.report(tally.line("150,000 messages at 15,000 msg/s through a stock Mosquitto, no fault",
                    "durable"));
            assertThat(run.rate()).as("messages a second published").isGreaterThanOrEqualTo(10_000);
            assertThat(tally.published()).isEqualTo(count);
            assertThat(tally.lost()).as("lost").isZero();
            assertThat(tally.reordered()).as("out of order").isZero();
            assertThat(tally.duplicated()).as("duplicated").isZero();
            assertThat(tally.delivered()).isEqualTo(count);
            assertThat(mosquitto.drops()).as("Mosquitto's log of messages it dropped").isEmpty();
        }
    }

    /** The launcher's JVM settings as shipped, the optimizing JIT compiler included: the rate is the bridge's own. */
    private static Map<String, String> shipped(Map<String, String> env) {
        env.put("JAVA_OPTS", "");
        return env;
    }
}

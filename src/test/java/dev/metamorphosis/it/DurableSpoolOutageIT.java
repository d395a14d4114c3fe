package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code DELIVERY=durable} through a long Kafka outage, behind a Mosquitto with its stock limits, on brokers of its
 * own (see {@link DurableSpoolIT}, whose restart during an outage runs beside it).
 */
@Execution(ExecutionMode.CONCURRENT)
@Order(1) // first, with DurableSpoolIT: some 3 minutes, mostly waiting (junit-platform.properties)
@Timeout(value = 8, unit = TimeUnit.MINUTES) // about 3 minutes in ./mvnw verify, the 90 s outage included
class DurableSpoolOutageIT {

    /**
     * 300 messages a second, Kafka killed for 90 s in the middle: the spool on disk takes what Kafka cannot (27,000
     * messages), so Mosquitto, which would keep only 1,000 for a bridge that stopped taking them, has nothing to drop.
     */
    @Test
    void should_lose_nothing_through_a_90_s_kafka_outage_behind_a_stock_mosquitto() throws IOException {
        Path executable = Mosquitto.required();
        String name = "durable-outage";
        Path dir = DurableSpoolIT.workDir(name);
        try (KafkaBroker kafka = KafkaBroker.start(name, Map.of());
             Mosquitto mosquitto = Mosquitto.startStock(executable, dir.resolve("mosquitto"))) {
            Map<String, String> env = DurableSpoolIT.durable(mosquitto, kafka, name);
            try (BridgeProcess bridge = BridgeProcess.start(dir, env);
                 Traffic traffic = new Traffic(name, 3)) {
                bridge.awaitSubscribed(Duration.ofSeconds(90));
                traffic.start(mosquitto.url(), DurableSpoolIT.OUTAGE_RATE);
                Faults.last(Duration.ofSeconds(10));
                double errors = bridge.metric("kafka_errors");
                kafka.kill();
                Instant back = Instant.now().plus(DurableSpoolIT.OUTAGE);
                Signs.awaitKafkaDown("durable", bridge, errors, Duration.ofSeconds(60));
                await("more than 10,000 messages in the spool").atMost(Duration.ofSeconds(80))
                        .pollInterval(Duration.ofSeconds(1))
                        .until(() -> bridge.metric(Signs.SPOOL_MESSAGES) > 10_000);
                Faults.lastUntil(back);
                double spooled = bridge.metric(Signs.SPOOL_MESSAGES);
                kafka.restart();
                Faults.last(Duration.ofSeconds(10));
                traffic.stop();
                Traffic.Tally tally = traffic.awaitAll(kafka.bootstrap(), name, Duration.ofSeconds(180));
                System.out.printf("RESULT | %s | durable | %,.0f messages in the spool at the end of the outage%n",
                        name, spooled);
                Traffic.report(tally.line("Kafka killed (SIGKILL) for 90 s at 300 msg/s, stock Mosquitto",
                        "durable"));
                assertThat(tally.lost()).as("lost").isZero();
                assertThat(tally.reordered()).as("out of order").isZero();
                assertThat(tally.duplicated()).as("duplicated").isLessThanOrEqualTo(Signs.duplicatesAtMost(env));
                assertThat(tally.published()).isGreaterThan(DurableSpoolIT.OUTAGE_RATE * 100L * 9 / 10);
                assertThat(bridge.isAlive()).isTrue();
            }
        }
    }
}

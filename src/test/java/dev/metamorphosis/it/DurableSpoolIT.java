package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code DELIVERY=durable}: a message is acknowledged to MQTT once it is in the spool on disk, fsynced, and leaves the
 * spool once Kafka has it; a bridge started on a spool writes what it holds to Kafka first. Each scenario runs on a
 * Kafka broker and a Mosquitto of its own, the Mosquitto with its stock limits ({@link Mosquitto#startStock}: 1,000
 * messages queued per client, the rest dropped), so a bridge that acknowledges late loses messages at the broker, and
 * the scenarios run side by side (most of their time is a Kafka outage). The plain outage is {@link
 * DurableSpoolOutageIT}, a class of its own so that it starts at once beside this one (a test worker runs one
 * method of a class at a time and leaves the others to idle workers, of which there may be none for minutes); the load
 * scenario, which needs the machine to itself, is {@link DurableSpoolRateIT}.
 */
@Execution(ExecutionMode.CONCURRENT)
@Order(1) // first: the outage takes some 3 minutes, mostly waiting (junit-platform.properties)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 8, unit = TimeUnit.MINUTES) // its longest run in ./mvnw verify: 146 s
class DurableSpoolIT {

    static final Duration OUTAGE = Duration.ofSeconds(90);
    static final int OUTAGE_RATE = 300;

    /** A bridge's environment: the tests' defaults, durable delivery (the spool in "spool" of its working folder). */
    static Map<String, String> durable(Mosquitto mosquitto, KafkaBroker kafka, String name) {
        return BridgeProcess.environment(mosquitto.port(), kafka.bootstrap(), name, "durable");
    }

    static Path workDir(String name) throws IOException {
        return Files.createTempDirectory(Path.of("target").toAbsolutePath(), name + "-");
    }

    /**
     * As the outage of {@link DurableSpoolOutageIT}, and the bridge killed (SIGKILL) 45 s into it, its spool holding
     * some 13,000 messages; a new bridge on the same spool 5 s later, Kafka still down: its probe fails, and because
     * this spool wrote to KAFKA_TOPIC before it goes on (WARN, subscribed, 503 on /readyz); once Kafka is back it
     * writes the old bridge's spool, then its own. While no bridge runs the stream pauses but for 600 messages
     * published into the gap: a stock Mosquitto keeps only 1,000 for an absent client, and 300 a second through the
     * 5 s and the new bridge's start would be more, lost at the broker whatever the bridge does (README: the broker's
     * own limits).
     */
    @Test
    @Order(2) // forked last: the worker that runs this class runs it at once
    void should_lose_nothing_when_killed_halfway_through_a_kafka_outage_and_started_again_while_kafka_is_down()
            throws IOException {
        Path executable = Mosquitto.required();
        String name = "durable-restart";
        Path dir = workDir(name);
        try (KafkaBroker kafka = KafkaBroker.start(name, Map.of());
             Mosquitto mosquitto = Mosquitto.startStock(executable, dir.resolve("mosquitto"));
             Traffic traffic = new Traffic(name, 3)) {
            Map<String, String> env = durable(mosquitto, kafka, name);
            env.put("KAFKA_TEST_TOPIC", name + "-test"); // no "probe" in it: the WARN looked for names the probe
            double spooled;
            try (BridgeProcess first = BridgeProcess.start(dir, env)) {
                first.awaitSubscribed(Duration.ofSeconds(90));
                assertThat(first.stdout()).contains("Probe record written to Kafka topic " + name + "-test");
                traffic.start(mosquitto.url(), OUTAGE_RATE);
                Faults.last(Duration.ofSeconds(10));
                double errors = first.metric("kafka_errors");
                kafka.kill();
                Instant back = Instant.now().plus(OUTAGE);
                Signs.awaitKafkaDown("durable", first, errors, Duration.ofSeconds(45));
                Faults.lastUntil(back.minus(OUTAGE.dividedBy(2)));
                traffic.stop();
                spooled = first.metric(Signs.SPOOL_MESSAGES);
                assertThat(spooled).as("messages in the spool when the bridge is killed").isGreaterThan(0);
                first.kill();
                first.exitCode(Duration.ofSeconds(30));
                traffic.burst(mosquitto.url(), 600);
                Faults.last(Duration.ofSeconds(5));
                try (BridgeProcess second = BridgeProcess.start(dir, env)) {
                    // Kafka stays down until the bridge has shown all this, even where the machine is slow to start
                    // a JVM (25 s was seen in ./mvnw verify): the outage is then longer than 90 s
                    second.awaitSubscribed(Duration.ofSeconds(120));
                    traffic.start(mosquitto.url(), OUTAGE_RATE);
                    Http.Response ready = Http.get(second.healthPort(), "/readyz");
                    assertThat(ready).isNotNull();
                    assertThat(ready.status()).as("/readyz while Kafka is down: " + ready).isEqualTo(503);
                    await("a WARN about the failed probe").atMost(Duration.ofSeconds(60))
                            .pollInterval(Duration.ofSeconds(1)).until(() -> second.stderr().lines().anyMatch(
                                    l -> l.contains("WARN") && l.toLowerCase().contains("probe")));
                    Faults.lastUntil(back);
                    assertThat(second.isAlive()).as("the second bridge runs through the outage").isTrue();
                    kafka.restart();
                    Faults.last(Duration.ofSeconds(10));
                    traffic.stop();
                    Traffic.Tally tally = traffic.awaitAll(kafka.bootstrap(), name, Duration.ofSeconds(180));
                    System.out.printf("RESULT | %s | durable | %,.0f messages in the spool when the bridge was "
                                      + "killed%n", name, spooled);
                    Traffic.report(tally.line("The bridge killed (SIGKILL) 45 s into a 90 s Kafka outage, started "
                            + "again 5 s later while Kafka is down", "durable"));
                    assertThat(tally.lost()).as("lost").isZero();
                    assertThat(tally.reordered()).as("out of order").isZero();
                    assertThat(tally.duplicated()).as("duplicated").isLessThanOrEqualTo(
                            Signs.duplicatesAtMost(env));
                    assertThat(second.isAlive()).isTrue();
                }
            }
        }
    }

    /**
     * A crash that tears the last record of the spool (the process died in the middle of writing it, or the disk
     * kept only part of it): Kafka stopped, 500 messages spooled, the bridge killed, the newest segment cut short
     * by 5 bytes. The next bridge skips the torn record, counts and logs it, and writes the 499 before it, in order.
     */
    @Test
    @Order(1)
    void should_skip_a_torn_last_record_and_lose_nothing_else() throws IOException {
        Path executable = Mosquitto.required();
        String name = "durable-torn";
        Path dir = workDir(name);
        int count = 500;
        try (KafkaBroker kafka = KafkaBroker.start(name, Map.of());
             Mosquitto mosquitto = Mosquitto.startStock(executable, dir.resolve("mosquitto"));
             Traffic traffic = new Traffic(name, 1)) {
            Map<String, String> env = durable(mosquitto, kafka, name);
            try (BridgeProcess first = BridgeProcess.start(dir, env)) {
                first.awaitSubscribed(Duration.ofSeconds(90));
                kafka.kill();
                traffic.burst(mosquitto.url(), count);
                // all in the spool and all acknowledged to Mosquitto, which will not deliver any of them again
                await("all spooled and acknowledged").atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(250)).until(() -> first.metric(Signs.SPOOL_MESSAGES) == count
                                     && first.metric("metamorphosis_mqtt_unacknowledged_messages") == 0);
                first.kill();
                first.exitCode(Duration.ofSeconds(30));
            }
            Path segment;
            try (Stream<Path> files = Files.list(dir.resolve("spool"))) {
                segment = files.filter(f -> f.getFileName().toString().endsWith(".log")).max(Path::compareTo)
                        .orElseThrow(() -> new AssertionError("no segment in " + dir.resolve("spool")));
            }
            try (FileChannel file = FileChannel.open(segment, StandardOpenOption.WRITE)) {
                file.truncate(file.size() - 5);
            }
            kafka.restart();
            try (BridgeProcess second = BridgeProcess.start(dir, env)) {
                second.awaitSubscribed(Duration.ofSeconds(90));
                await("the spool written to Kafka").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                        .ignoreExceptionsInstanceOf(IllegalStateException.class)
                        .until(() -> Records.count(kafka.bootstrap(), name) >= count - 1
                                     && second.metric(Signs.SPOOL_MESSAGES) == 0);
                Traffic.Tally tally = traffic.tally(Records.read(kafka.bootstrap(), name));
                Traffic.report(tally.line("Kafka down, 500 spooled, the bridge killed, the last spool record torn "
                        + "(lost = the torn record)", "durable"));
                List<Integer> numbers = Records.read(kafka.bootstrap(), name).stream()
                        .map(r -> Traffic.Numbered.of(r).seq()).toList();
                assertThat(numbers).as("the messages in Kafka").containsExactlyElementsOf(
                        IntStream.range(0, count - 1).boxed().toList());
                assertThat(second.metric("mqtt_received")).as("messages Mosquitto delivered again").isZero();
                assertThat(second.metric("metamorphosis_spool_corrupt_records_total")).isEqualTo(1);
                assertThat(second.metric("metamorphosis_spool_replayed_records_total")).isEqualTo(count - 1);
                assertThat(second.stdout()).contains("holds " + (count - 1) + " record(s)");
                assertThat(second.stderr().lines().filter(l -> l.contains("WARN")))
                        .as("a WARN about the torn record").anyMatch(l -> l.contains("corrupt record"));
            }
        }
    }
}

package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The bridge killed (SIGKILL) mid-stream and started again 3 s later, one per delivery mode, each in a working
 * directory of its own: in durable mode what was acknowledged is in the spool on disk, which the new bridge writes
 * first, and the broker delivers again what was not; in at-least-once mode the broker delivers again what Kafka did
 * not have; so neither loses anything. Buffered mode loses its spool, as the Go version did, and no more. Kafka is
 * 50 ms away each way (a proxy), so each write takes a while and every mode holds envelopes Kafka has not yet taken
 * when it is killed: a bridge that acknowledged them to MQTT before Kafka had them would lose them.
 */
@Execution(ExecutionMode.CONCURRENT)
@Order(2) // early, after the durable outages: 1.5 to 2 minutes, longer than most (junit-platform.properties)
@Timeout(value = 6, unit = TimeUnit.MINUTES) // its longest run in ./mvnw verify: 81 s (142 s on a busy machine)
class BridgeKilledIT {

    @Test
    void should_lose_nothing_in_durable_and_at_least_once_mode_when_killed_and_restarted() throws IOException {
        Map<String, Traffic> traffic = new LinkedHashMap<>();
        Map<String, Map<String, String>> env = new LinkedHashMap<>();
        try (TcpProxy toKafka = new TcpProxy();
             KafkaBroker broker = KafkaBroker.startBehind("bridge-killed", toKafka);
             Bridges bridges = new Bridges()) {
            String kafka = broker.bootstrap();
            toKafka.latency(50);
            for (String delivery : BridgeProcess.DELIVERIES) {
                String prefix = "killed-" + delivery;
                env.put(delivery, BridgeProcess.environment(Brokers.mqtt().port(), broker.proxied(), prefix,
                        delivery));
                bridges.put(delivery, BridgeProcess.start(Files.createTempDirectory("bridge-killed"),
                        env.get(delivery)));
                traffic.put(delivery, new Traffic(prefix, 3));
            }
            for (String delivery : BridgeProcess.DELIVERIES) {
                bridges.get(delivery).awaitSubscribed(Duration.ofSeconds(90));
                traffic.get(delivery).start(Brokers.mqtt().url(), 200);
            }
            Faults.last(Duration.ofSeconds(10));
            Map<String, Double> held = new LinkedHashMap<>();
            Map<String, Long> arrivedAfter = new LinkedHashMap<>();
            for (String delivery : BridgeProcess.DELIVERIES) {
                // sampled just before the SIGKILL: what the bridge received and Kafka had not acknowledged yet
                Scrape sample = Signs.awaitSpoolHolding(delivery, bridges.get(delivery), Duration.ofSeconds(30));
                bridges.get(delivery).kill();
                held.put(delivery, sample.value(Signs.SPOOL_MESSAGES));
                // a message the bridge received after the sample was published by now and not received by then
                arrivedAfter.put(delivery, traffic.get(delivery).published()
                                           - sample.value("mqtt_received").longValue());
            }
            Faults.last(Duration.ofSeconds(3));
            for (String delivery : BridgeProcess.DELIVERIES) {
                bridges.restart(delivery, BridgeProcess.start(bridges.get(delivery).workDir(), env.get(delivery)));
            }
            for (BridgeProcess b : bridges.values()) {
                b.awaitSubscribed(Duration.ofSeconds(90));
            }
            Faults.last(Duration.ofSeconds(10));
            traffic.values().forEach(Traffic::stop);
            for (String delivery : BridgeProcess.DELIVERIES) {
                Traffic t = traffic.get(delivery);
                String topic = "killed-" + delivery;
                System.out.printf("SIGN | bridge-sigkill-and-restart | %s | %.0f envelopes in the spool at the kill, "
                                  + "%d arrived after%n", delivery, held.get(delivery), arrivedAfter.get(delivery));
                if (delivery.equals("buffered")) {
                    // it loses what its spool held: wait for the last messages, which come after the loss
                    Traffic.Tally buf = t.awaitTail(Brokers.mqtt().url(), kafka, topic, Duration.ofSeconds(120));
                    Traffic.report(buf.line("bridge-sigkill-and-restart", delivery));
                    assertThat(buf.lost()).as("buffered lost: at most what its spool held at the kill, "
                                             + held.get(delivery) + ", and what arrived after the sample, "
                                             + arrivedAfter.get(delivery))
                            .isLessThanOrEqualTo((long) (held.get(delivery) + arrivedAfter.get(delivery)));
                    // acknowledged on arrival: the broker delivers nothing again
                    assertThat(buf.duplicated()).as("buffered duplicated").isZero();
                    assertThat(buf.reordered()).as("buffered out of order").isZero();
                    continue;
                }
                Traffic.Tally tally = t.awaitAll(kafka, topic, Duration.ofSeconds(120));
                Traffic.report(tally.line("bridge-sigkill-and-restart", delivery));
                assertThat(tally.lost()).as(delivery + " lost").isZero();
                assertThat(tally.reordered()).as(delivery + " out of order").isZero();
                assertThat(tally.published()).as(delivery + " published").isGreaterThan(3000);
                assertThat(tally.duplicated()).as(delivery + " duplicated").isLessThanOrEqualTo(
                        Signs.duplicatesAtMost(env.get(delivery)));
            }
        } finally {
            traffic.values().forEach(Traffic::close);
        }
    }
}

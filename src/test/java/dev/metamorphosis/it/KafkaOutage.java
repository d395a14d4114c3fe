package dev.metamorphosis.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A Kafka outage in the middle of a stream, with a bridge in each delivery mode on a broker of its own: 100 messages
 * a second to each for 10 s before, through the fault, and 10 s after; then everything must be in Kafka, in order per
 * topic, with at most {@link Signs#duplicatesAtMost} records twice. During the fault each bridge must show it (Kafka's
 * errors counted, /readyz 503, the spool filling) and the broker process be in the state the fault puts it in; the
 * fault lasts its length or until those signs show, whichever is longer.
 */
final class KafkaOutage {
    private KafkaOutage() {
    }

    /**
     * @param state the broker's process state during the fault ({@link KafkaBroker#state}): T frozen, X killed
     */
    static void run(String name, Duration length, Consumer<KafkaBroker> begin, char state, Consumer<KafkaBroker> end) {
        Map<String, Traffic> traffic = new LinkedHashMap<>();
        Map<String, Map<String, String>> env = new LinkedHashMap<>();
        try (KafkaBroker kafka = KafkaBroker.start(name, Map.of());
             Bridges bridges = new Bridges()) {
            for (String delivery : BridgeProcess.DELIVERIES) {
                String prefix = name + "-" + delivery;
                env.put(delivery, BridgeProcess.environment(Brokers.mqtt().port(), kafka.bootstrap(), prefix,
                        delivery));
                bridges.put(delivery, BridgeProcess.start(Files.createTempDirectory(name), env.get(delivery)));
                traffic.put(delivery, new Traffic(prefix, 3));
            }
            for (String delivery : BridgeProcess.DELIVERIES) {
                bridges.get(delivery).awaitSubscribed(Duration.ofSeconds(90));
                traffic.get(delivery).start(Brokers.mqtt().url(), 100);
            }
            Faults.last(Duration.ofSeconds(10));
            Map<String, Double> errors = new LinkedHashMap<>();
            bridges.forEach((delivery, b) -> errors.put(delivery, b.metric("kafka_errors")));
            begin.accept(kafka);
            Instant over = Instant.now().plus(length);
            // a signal is taken when the kernel next schedules the process: soon, not at once
            await("Kafka's process in state " + state).atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(100)).until(() -> kafka.state() == state);
            bridges.forEach((delivery, b) -> Signs.awaitKafkaDown(delivery, b, errors.get(delivery),
                    Duration.ofSeconds(90)));
            assertThat(kafka.state()).as("Kafka's process state at the end of the fault").isEqualTo(state);
            Faults.lastUntil(over);
            end.accept(kafka);
            Faults.last(Duration.ofSeconds(10));
            traffic.values().forEach(Traffic::stop);
            for (String delivery : BridgeProcess.DELIVERIES) {
                Traffic.Tally t = traffic.get(delivery).awaitAll(kafka.bootstrap(), name + "-" + delivery,
                        Duration.ofSeconds(180));
                Traffic.report(t.line(name, delivery));
                assertThat(t.lost()).as(delivery + " lost").isZero();
                assertThat(t.reordered()).as(delivery + " out of order").isZero();
                assertThat(t.published()).as(delivery + " published").isGreaterThan(3000);
                assertThat(t.duplicated()).as(delivery + " duplicated").isLessThanOrEqualTo(
                        Signs.duplicatesAtMost(env.get(delivery)));
                assertThat(bridges.get(delivery).isAlive()).as(delivery + " alive").isTrue();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            traffic.values().forEach(Traffic::close);
        }
    }
}

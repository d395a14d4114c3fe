package dev.metamorphosis.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A Kafka outage in the middle of a stream, with a bridge in each delivery mode on a broker of its own: 100 messages
 * a second to each for 10 s before, through the fault, and 10 s after; then everything must be in Kafka, in order per
 * topic, and durable delivery may write at most {@link BridgeProcess#DURABLE_DUPLICATES_AT_MOST} records twice.
 */
final class KafkaOutage {
    private KafkaOutage() {
    }

    static void run(String name, Duration length, Consumer<KafkaBroker> begin, Consumer<KafkaBroker> end) {
        Map<String, Traffic> traffic = new LinkedHashMap<>();
        try (KafkaBroker kafka = KafkaBroker.start(name, Map.of());
             Bridges bridges = new Bridges()) {
            for (String delivery : BridgeProcess.DELIVERIES) {
                String prefix = name + "-" + delivery;
                bridges.put(delivery, BridgeProcess.start(Files.createTempDirectory(name),
                        BridgeProcess.environment(Brokers.mqtt().port(), kafka.bootstrap(), prefix, delivery)));
                traffic.put(delivery, new Traffic(prefix, 3));
            }
            for (String delivery : BridgeProcess.DELIVERIES) {
                bridges.get(delivery).awaitSubscribed(Duration.ofSeconds(90));
                traffic.get(delivery).start(Brokers.mqtt().url(), 100);
            }
            Faults.last(Duration.ofSeconds(10));
            begin.accept(kafka);
            Faults.last(length);
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
                if (delivery.equals("durable")) {
                    assertThat(t.duplicated()).as("durable duplicated").isLessThanOrEqualTo(
                            BridgeProcess.DURABLE_DUPLICATES_AT_MOST);
                }
                assertThat(bridges.get(delivery).isAlive()).as(delivery + " alive").isTrue();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            traffic.values().forEach(Traffic::close);
        }
    }
}

package dev.metamorphosis.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Duration;
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
        try (KafkaBroker kafka = KafkaBroker.start(name, Map.of());
             BridgeProcess atLeastOnce = BridgeProcess.start(Files.createTempDirectory(name),
                     BridgeProcess.environment(Brokers.mqtt().port(), kafka.bootstrap(), name + "-alo", "at-least-once"));
             BridgeProcess buffered = BridgeProcess.start(Files.createTempDirectory(name),
                     BridgeProcess.environment(Brokers.mqtt().port(), kafka.bootstrap(), name + "-buf", "buffered"));
             BridgeProcess durable = BridgeProcess.start(Files.createTempDirectory(name),
                     BridgeProcess.environment(Brokers.mqtt().port(), kafka.bootstrap(), name + "-dur", "durable"));
             Traffic a = new Traffic(name + "-alo", 3);
             Traffic b = new Traffic(name + "-buf", 3);
             Traffic c = new Traffic(name + "-dur", 3)) {
            atLeastOnce.awaitSubscribed(Duration.ofSeconds(90));
            buffered.awaitSubscribed(Duration.ofSeconds(90));
            durable.awaitSubscribed(Duration.ofSeconds(90));
            a.start(Brokers.mqtt().url(), 100);
            b.start(Brokers.mqtt().url(), 100);
            c.start(Brokers.mqtt().url(), 100);
            Faults.last(Duration.ofSeconds(10));
            begin.accept(kafka);
            Faults.last(length);
            end.accept(kafka);
            Faults.last(Duration.ofSeconds(10));
            a.stop();
            b.stop();
            c.stop();
            Traffic.Tally alo = a.awaitAll(kafka.bootstrap(), name + "-alo", Duration.ofSeconds(180));
            Traffic.Tally buf = b.awaitAll(kafka.bootstrap(), name + "-buf", Duration.ofSeconds(180));
            Traffic.Tally dur = c.awaitAll(kafka.bootstrap(), name + "-dur", Duration.ofSeconds(180));
            Traffic.report(alo.line(name, "at-least-once"));
            Traffic.report(buf.line(name, "buffered"));
            Traffic.report(dur.line(name, "durable"));
            for (Traffic.Tally t : new Traffic.Tally[] {alo, buf, dur}) {
                assertThat(t.lost()).as("lost").isZero();
                assertThat(t.reordered()).as("out of order").isZero();
                assertThat(t.published()).as("published").isGreaterThan(3000);
            }
            assertThat(dur.duplicated()).as("duplicated, durable").isLessThanOrEqualTo(
                    BridgeProcess.DURABLE_DUPLICATES_AT_MOST);
            assertThat(atLeastOnce.isAlive()).isTrue();
            assertThat(buffered.isAlive()).isTrue();
            assertThat(durable.isAlive()).isTrue();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

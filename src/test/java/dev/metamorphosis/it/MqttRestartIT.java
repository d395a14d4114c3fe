package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The MQTT broker stopped and started again: the bridge reconnects by itself, never exits, and with its persistent
 * session gets what was published while it was away.
 */
@Execution(ExecutionMode.CONCURRENT)
class MqttRestartIT {

    @Test
    void should_reconnect_and_receive_what_was_published_while_it_was_away() throws IOException {
        String kafka = Brokers.kafka().bootstrap();
        try (MqttBroker mqtt = MqttBroker.start("restart", true);
             BridgeProcess atLeastOnce = BridgeProcess.start(Files.createTempDirectory("mqtt-restart"),
                     BridgeProcess.environment(mqtt.port(), kafka, "mqtt-restart-alo", "at-least-once"));
             BridgeProcess buffered = BridgeProcess.start(Files.createTempDirectory("mqtt-restart"),
                     BridgeProcess.environment(mqtt.port(), kafka, "mqtt-restart-buf", "buffered"));
             Traffic a = new Traffic("mqtt-restart-alo", 3);
             Traffic b = new Traffic("mqtt-restart-buf", 3)) {
            atLeastOnce.awaitSubscribed(Duration.ofSeconds(90));
            buffered.awaitSubscribed(Duration.ofSeconds(90));
            a.start(mqtt.url(), 100);
            b.start(mqtt.url(), 100);
            Faults.last(Duration.ofSeconds(10));
            a.stop();
            b.stop();
            mqtt.stop();
            Faults.last(Duration.ofSeconds(5));
            mqtt.startAgain();
            // at once, before the bridges are back: these wait in their sessions
            a.burst(mqtt.url(), 300);
            b.burst(mqtt.url(), 300);
            a.start(mqtt.url(), 100);
            b.start(mqtt.url(), 100);
            Faults.last(Duration.ofSeconds(10));
            a.stop();
            b.stop();
            Traffic.Tally alo = a.awaitAll(kafka, "mqtt-restart-alo", Duration.ofSeconds(120));
            Traffic.Tally buf = b.awaitAll(kafka, "mqtt-restart-buf", Duration.ofSeconds(120));
            Traffic.report(alo.line("mqtt-restarted", "at-least-once"));
            Traffic.report(buf.line("mqtt-restarted", "buffered"));
            for (Traffic.Tally t : new Traffic.Tally[] {alo, buf}) {
                assertThat(t.lost()).as("lost").isZero();
                assertThat(t.reordered()).as("out of order").isZero();
            }
            assertThat(atLeastOnce.isAlive()).isTrue();
            assertThat(buffered.isAlive()).isTrue();
            assertThat(atLeastOnce.stderr() + atLeastOnce.stdout()).doesNotContain("FATAL");
        }
    }
}

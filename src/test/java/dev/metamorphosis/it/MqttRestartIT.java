package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The MQTT broker stopped and started again: each bridge (one per delivery mode) reconnects by itself, never exits,
 * and with its persistent session gets what was published while it was away.
 */
@Execution(ExecutionMode.CONCURRENT)
@Timeout(value = 6, unit = TimeUnit.MINUTES) // its longest run in ./mvnw verify: 133 s
class MqttRestartIT {

    @Test
    void should_reconnect_and_receive_what_was_published_while_it_was_away() throws IOException {
        String kafka = Brokers.kafka().bootstrap();
        Map<String, Traffic> traffic = new LinkedHashMap<>();
        try (MqttBroker mqtt = MqttBroker.start("restart", true);
             Bridges bridges = new Bridges()) {
            for (String delivery : BridgeProcess.DELIVERIES) {
                String prefix = "mqtt-restart-" + delivery;
                bridges.put(delivery, BridgeProcess.start(Files.createTempDirectory("mqtt-restart"),
                        BridgeProcess.environment(mqtt.port(), kafka, prefix, delivery)));
                traffic.put(delivery, new Traffic(prefix, 3));
            }
            for (String delivery : BridgeProcess.DELIVERIES) {
                bridges.get(delivery).awaitSubscribed(Duration.ofSeconds(90));
                traffic.get(delivery).start(mqtt.url(), 100);
            }
            Faults.last(Duration.ofSeconds(10));
            traffic.values().forEach(Traffic::stop);
            mqtt.stop();
            Faults.last(Duration.ofSeconds(5));
            mqtt.startAgain();
            // at once, before the bridges are back: these wait in their sessions
            traffic.values().forEach(t -> t.burst(mqtt.url(), 300));
            traffic.values().forEach(t -> t.start(mqtt.url(), 100));
            Faults.last(Duration.ofSeconds(10));
            traffic.values().forEach(Traffic::stop);
            for (String delivery : BridgeProcess.DELIVERIES) {
                Traffic.Tally t = traffic.get(delivery).awaitAll(kafka, "mqtt-restart-" + delivery,
                        Duration.ofSeconds(120));
                Traffic.report(t.line("mqtt-restarted", delivery));
                assertThat(t.lost()).as(delivery + " lost").isZero();
                assertThat(t.reordered()).as(delivery + " out of order").isZero();
                BridgeProcess b = bridges.get(delivery);
                assertThat(b.isAlive()).as(delivery + " alive").isTrue();
                assertThat(b.stderr() + b.stdout()).as(delivery).doesNotContain("FATAL");
            }
        } finally {
            traffic.values().forEach(Traffic::close);
        }
    }
}

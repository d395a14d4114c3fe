package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
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
 * The MQTT broker stopped and started again: each bridge (one per delivery mode) reconnects by itself, never exits,
 * and with its persistent session gets what was published while it was away. While the broker is down each bridge
 * shows it (/readyz 503 naming MQTT, metamorphosis_mqtt_connected 0), and counts the reconnection after.
 */
@Execution(ExecutionMode.CONCURRENT)
@Order(2) // early, after the durable outages: 1.5 to 2 minutes, longer than most (junit-platform.properties)
@Timeout(value = 6, unit = TimeUnit.MINUTES) // its longest run in ./mvnw verify: 133 s
class MqttRestartIT {

    private static final String RECONNECTS = "metamorphosis_mqtt_reconnects_total";

    @Test
    void should_reconnect_and_receive_what_was_published_while_it_was_away() throws IOException {
        String kafka = Brokers.kafka().bootstrap();
        Map<String, Traffic> traffic = new LinkedHashMap<>();
        Map<String, Map<String, String>> env = new LinkedHashMap<>();
        try (MqttBroker mqtt = MqttBroker.start("restart", true);
             Bridges bridges = new Bridges()) {
            for (String delivery : BridgeProcess.DELIVERIES) {
                String prefix = "mqtt-restart-" + delivery;
                env.put(delivery, BridgeProcess.environment(mqtt.port(), kafka, prefix, delivery));
                bridges.put(delivery, BridgeProcess.start(Files.createTempDirectory("mqtt-restart"), env.get(delivery)));
                traffic.put(delivery, new Traffic(prefix, 3));
            }
            for (String delivery : BridgeProcess.DELIVERIES) {
                bridges.get(delivery).awaitSubscribed(Duration.ofSeconds(90));
                traffic.get(delivery).start(mqtt.url(), 100);
            }
            Faults.last(Duration.ofSeconds(10));
            traffic.values().forEach(Traffic::stop);
            Map<String, Double> reconnects = new LinkedHashMap<>();
            bridges.forEach((delivery, b) -> reconnects.put(delivery, b.metric(RECONNECTS)));
            mqtt.stop();
            Instant over = Instant.now().plus(Duration.ofSeconds(5));
            bridges.forEach((delivery, b) -> {
                Signs.awaitReadyz503(delivery, b, "mqtt", Duration.ofSeconds(30));
                assertThat(b.metric("metamorphosis_mqtt_connected")).as(delivery + " connected to MQTT").isZero();
            });
            Faults.lastUntil(over);
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
                assertThat(b.metric(RECONNECTS)).as(delivery + " MQTT reconnections").isGreaterThan(
                        reconnects.get(delivery));
                assertThat(t.duplicated()).as(delivery + " duplicated").isLessThanOrEqualTo(
                        Signs.duplicatesAtMost(env.get(delivery)));
            }
        } finally {
            traffic.values().forEach(Traffic::close);
        }
    }
}

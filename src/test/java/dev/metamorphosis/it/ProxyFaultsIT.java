package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Network faults through TCP proxies between the bridge and each broker: MQTT out of reach at start-up, connection
 * resets on both sides, 200 ms of added latency on both sides, and a Kafka that accepts connections and answers
 * nothing for 20 s, with a bridge in each delivery mode. Nothing is lost, order is kept, no bridge exits; the resets cut
 * connections, and the hanging Kafka shows in each bridge (Kafka's errors counted, /readyz 503, the spool filling).
 */
@Execution(ExecutionMode.CONCURRENT)
@Order(2) // early, after the durable outages: 1.5 to 2 minutes, longer than most (junit-platform.properties)
class ProxyFaultsIT {

    @Test
    void should_ride_out_resets_latency_and_a_hanging_kafka_and_wait_for_mqtt_at_start() throws IOException {
        Map<String, Traffic> traffic = new LinkedHashMap<>();
        Map<String, Map<String, String>> env = new LinkedHashMap<>();
        try (TcpProxy toMqtt = new TcpProxy(Brokers.mqtt().port());
             TcpProxy toKafka = new TcpProxy();
             KafkaBroker kafka = KafkaBroker.startBehind("proxy-faults", toKafka);
             Bridges bridges = new Bridges()) {
            toMqtt.refuse(true);
            for (String delivery : BridgeProcess.DELIVERIES) {
                String prefix = "proxy-" + delivery;
                env.put(delivery, BridgeProcess.environment(toMqtt.port(), kafka.proxied(), prefix, delivery));
                bridges.put(delivery, BridgeProcess.start(Files.createTempDirectory("proxy"), env.get(delivery)));
                traffic.put(delivery, new Traffic(prefix, 3));
            }
            Awaitility.await("MQTT retried at start-up").atMost(Duration.ofSeconds(90)).until(() ->
                    bridges.values().stream().allMatch(b -> b.stderr().contains("trying again")));
            toMqtt.refuse(false);
            for (String delivery : BridgeProcess.DELIVERIES) {
                bridges.get(delivery).awaitSubscribed(Duration.ofSeconds(90));
            }
            traffic.values().forEach(t -> t.start(Brokers.mqtt().url(), 100));
            Faults.last(Duration.ofSeconds(5));
            assertThat(toMqtt.reset()).as("MQTT connections reset").isPositive();
            Faults.last(Duration.ofSeconds(5));
            assertThat(toKafka.reset()).as("Kafka connections reset").isPositive();
            Faults.last(Duration.ofSeconds(5));
            toKafka.latency(200);
            toMqtt.latency(200);
            Faults.last(Duration.ofSeconds(5));
            toKafka.latency(0);
            toMqtt.latency(0);
            Map<String, Double> errors = new LinkedHashMap<>();
            bridges.forEach((delivery, b) -> errors.put(delivery, b.metric("kafka_errors")));
            toKafka.hang(true);
            Instant over = Instant.now().plus(Duration.ofSeconds(20));
            bridges.forEach((delivery, b) -> Signs.awaitKafkaDown(delivery, b, errors.get(delivery),
                    Duration.ofSeconds(60)));
            Faults.lastUntil(over);
            toKafka.hang(false);
            Faults.last(Duration.ofSeconds(5));
            traffic.values().forEach(Traffic::stop);

            for (String delivery : BridgeProcess.DELIVERIES) {
                Traffic.Tally t = traffic.get(delivery).awaitAll(kafka.bootstrap(), "proxy-" + delivery,
                        Duration.ofSeconds(180));
                Traffic.report(t.line("resets-latency-hanging-kafka", delivery));
                assertThat(t.lost()).as(delivery + " lost").isZero();
                assertThat(t.reordered()).as(delivery + " out of order").isZero();
                assertThat(t.duplicated()).as(delivery + " duplicated").isLessThanOrEqualTo(
                        Signs.duplicatesAtMost(env.get(delivery)));
                assertThat(bridges.get(delivery).isAlive()).as(delivery + " alive").isTrue();
                assertThat(bridges.get(delivery).stderr()).as(delivery).contains("Lost the connection to the MQTT "
                        + "broker");
            }
        } finally {
            traffic.values().forEach(Traffic::close);
        }
    }
}

package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Network faults through TCP proxies between the bridge and each broker: MQTT out of reach at start-up, connection
 * resets on both sides, 200 ms of added latency on both sides, and a Kafka that accepts connections and answers
 * nothing for 20 s. Nothing is lost, order is kept, the bridge never exits.
 */
@Execution(ExecutionMode.CONCURRENT)
class ProxyFaultsIT {

    @Test
    void should_ride_out_resets_latency_and_a_hanging_kafka_and_wait_for_mqtt_at_start() throws IOException {
        try (TcpProxy toMqtt = new TcpProxy(Brokers.mqtt().port());
             TcpProxy toKafka = new TcpProxy();
             KafkaBroker kafka = KafkaBroker.startBehind("proxy-faults", toKafka);
             Traffic a = new Traffic("proxy-alo", 3);
             Traffic b = new Traffic("proxy-buf", 3)) {
            toMqtt.refuse(true);
            Map<String, String> aloEnv = BridgeProcess.environment(toMqtt.port(), kafka.proxied(), "proxy-alo",
                    "at-least-once");
            Map<String, String> bufEnv = BridgeProcess.environment(toMqtt.port(), kafka.proxied(), "proxy-buf",
                    "buffered");
            try (BridgeProcess atLeastOnce = BridgeProcess.start(Files.createTempDirectory("proxy"), aloEnv);
                 BridgeProcess buffered = BridgeProcess.start(Files.createTempDirectory("proxy"), bufEnv)) {
                Awaitility.await("MQTT retried at start-up").atMost(Duration.ofSeconds(90)).until(() ->
                        atLeastOnce.stderr().contains("trying again") && buffered.stderr().contains("trying again"));
                toMqtt.refuse(false);
                atLeastOnce.awaitSubscribed(Duration.ofSeconds(90));
                buffered.awaitSubscribed(Duration.ofSeconds(90));

                a.start(Brokers.mqtt().url(), 100);
                b.start(Brokers.mqtt().url(), 100);
                Faults.last(Duration.ofSeconds(5));
                toMqtt.reset();
                Faults.last(Duration.ofSeconds(5));
                toKafka.reset();
                Faults.last(Duration.ofSeconds(5));
                toKafka.latency(200);
                toMqtt.latency(200);
                Faults.last(Duration.ofSeconds(5));
                toKafka.latency(0);
                toMqtt.latency(0);
                toKafka.hang(true);
                Faults.last(Duration.ofSeconds(20));
                toKafka.hang(false);
                Faults.last(Duration.ofSeconds(5));
                a.stop();
                b.stop();

                Traffic.Tally alo = a.awaitAll(kafka.bootstrap(), "proxy-alo", Duration.ofSeconds(180));
                Traffic.Tally buf = b.awaitAll(kafka.bootstrap(), "proxy-buf", Duration.ofSeconds(180));
                Traffic.report(alo.line("resets-latency-hanging-kafka", "at-least-once"));
                Traffic.report(buf.line("resets-latency-hanging-kafka", "buffered"));
                for (Traffic.Tally t : new Traffic.Tally[] {alo, buf}) {
                    assertThat(t.lost()).as("lost").isZero();
                    assertThat(t.reordered()).as("out of order").isZero();
                }
                assertThat(atLeastOnce.isAlive()).isTrue();
                assertThat(buffered.isAlive()).isTrue();
                assertThat(atLeastOnce.stderr()).contains("Lost the connection to the MQTT broker");
            }
        }
    }
}

package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;

import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.ToxiproxyClient;
import eu.rekawek.toxiproxy.model.ToxicDirection;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.redpanda.RedpandaContainer;
import org.testcontainers.toxiproxy.ToxiproxyContainer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Where Docker runs: the fault scenarios against Redpanda, with Toxiproxy between the bridge and the MQTT broker
 * (cut, latency) and Redpanda frozen (docker pause) for 30 s. Skipped, with the reason, where there is no Docker.
 */
@Testcontainers(disabledWithoutDocker = true)
class RedpandaToxiproxyIT {

    @Container
    static final RedpandaContainer REDPANDA = new RedpandaContainer("docker.redpanda.com/redpandadata/redpanda:v24.2.7");

    @Container
    static final ToxiproxyContainer TOXIPROXY = new ToxiproxyContainer("ghcr.io/shopify/toxiproxy:2.9.0")
            .withAccessToHost(true);

    @Test
    void should_lose_nothing_against_redpanda_through_mqtt_cuts_latency_and_a_frozen_broker() throws IOException {
        org.testcontainers.Testcontainers.exposeHostPorts(Brokers.mqtt().port());
        Proxy toMqtt = new ToxiproxyClient(TOXIPROXY.getHost(), TOXIPROXY.getControlPort())
                .createProxy("mqtt", "0.0.0.0:8666", "host.testcontainers.internal:" + Brokers.mqtt().port());
        String kafka = REDPANDA.getBootstrapServers().replaceFirst("^PLAINTEXT://", "");
        Map<String, String> env = BridgeProcess.environment(TOXIPROXY.getMappedPort(8666), kafka, "redpanda-alo",
                "at-least-once");
        env.put("MQTT_BROKER", TOXIPROXY.getHost());
        try (BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory("redpanda"), env);
             Traffic traffic = new Traffic("redpanda-alo", 3)) {
            bridge.awaitSubscribed(Duration.ofSeconds(120));
            traffic.start(Brokers.mqtt().url(), 100);
            Faults.last(Duration.ofSeconds(5));
            toMqtt.disable();
            Faults.last(Duration.ofSeconds(10));
            toMqtt.enable();
            toMqtt.toxics().latency("latency", ToxicDirection.DOWNSTREAM, 200);
            Faults.last(Duration.ofSeconds(5));
            toMqtt.toxics().get("latency").remove();
            var docker = DockerClientFactory.instance().client();
            docker.pauseContainerCmd(REDPANDA.getContainerId()).exec();
            Faults.last(Duration.ofSeconds(30));
            docker.unpauseContainerCmd(REDPANDA.getContainerId()).exec();
            Faults.last(Duration.ofSeconds(5));
            traffic.stop();
            Traffic.Tally tally = traffic.awaitAll(kafka, "redpanda-alo", Duration.ofSeconds(180));
            Traffic.report(tally.line("redpanda-mqtt-cut-latency-frozen", "at-least-once"));
            assertThat(tally.lost()).isZero();
            assertThat(tally.reordered()).isZero();
            assertThat(bridge.isAlive()).isTrue();
        }
    }
}

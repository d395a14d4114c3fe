package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.assertj.core.api.Assertions.assertThat;

/** The dev loop of docs/changing-routes.md, ./camel-dev: a route file saved in routes/ takes effect without a rebuild. */
// its own working copy, bridge process and topic: runs beside the other concurrent scenarios
@Execution(ExecutionMode.CONCURRENT)
@Order(2) // early, after the durable outages: 1.5 to 2 minutes, longer than most (junit-platform.properties)
class DevLoopIT {

    private static final String TOPIC = "dev-loop-it";
    private static final String SUBSCRIBED = "Subscribed to MQTT topic filter dev-loop/#";

    @Test
    void should_run_the_bridge_again_with_a_route_file_added_to_routes() throws IOException {
        // a working copy: routes/ and application.properties, with the built jar and its lib/ where camel run looks
        Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "dev-loop-it-");
        Path routes = Files.createDirectories(dir.resolve("routes"));
        try (DirectoryStream<Path> files = Files.newDirectoryStream(BridgeProcess.repo().resolve("routes"))) {
            for (Path file : files) {
                Files.copy(file, routes.resolve(file.getFileName()));
            }
        }
        Files.copy(BridgeProcess.repo().resolve("application.properties"), dir.resolve("application.properties"));
        Files.createSymbolicLink(dir.resolve("target"), BridgeProcess.jar().getParent());
        Map<String, String> env = Map.of(
                "HOME", System.getProperty("user.home"),
                "MQTT_BROKER", "127.0.0.1",
                "MQTT_PORT", Integer.toString(Brokers.mqtt().port()),
                "MQTT_TLS", "false",
                "MQTT_TOPIC", "dev-loop/#",
                "MQTT_CLIENT_ID", "dev-loop-it",
                "KAFKA_BROKER", Brokers.kafka().bootstrap(),
                "KAFKA_TOPIC", TOPIC,
                "KAFKA_INTERVAL", "1");
        String kafka = Brokers.kafka().bootstrap();
        try (BridgeProcess dev = BridgeProcess.run(dir, env,
                List.of(BridgeProcess.repo().resolve("camel-dev").toString()))) {
            awaitSubscriptions(dev, 1);
            try (Publisher publisher = new Publisher(Brokers.mqtt().url())) {
                publisher.publish("dev-loop/a/debug", new byte[] {1}, 1);
            }
            Records.await(kafka, TOPIC, 1, Duration.ofSeconds(60));

            Files.copy(BridgeProcess.repo().resolve("examples/drop-topics.camel.yaml"),
                    routes.resolve("drop-topics.camel.yaml"));
            awaitSubscriptions(dev, 2);
            try (Publisher publisher = new Publisher(Brokers.mqtt().url())) {
                publisher.publish("dev-loop/b/debug", new byte[] {2}, 1);
                publisher.publish("dev-loop/b/temperature", new byte[] {3}, 1);
            }
            // one subscription keeps the order: with the last one in Kafka, a dropped one would be there too
            assertThat(Records.await(kafka, TOPIC, 2, Duration.ofSeconds(60)))
                    .extracting(r -> new String(r.value(), StandardCharsets.UTF_8)).containsExactly(
                            "{\"topic\":\"dev-loop/a/debug\",\"content\":\"AQ==\"}",
                            "{\"topic\":\"dev-loop/b/temperature\",\"content\":\"Aw==\"}");
        }
    }

    private static void awaitSubscriptions(BridgeProcess dev, int runs) {
        Awaitility.await(runs + " runs subscribed").atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(500))
                .until(() -> {
                    assertThat(dev.stderr()).as("camel run failed").doesNotContain("Exception in thread");
                    return dev.stdout().split(SUBSCRIBED, -1).length - 1 >= runs;
                });
    }
}

package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The built jar's HTTP port, in order: /healthz 423 then 200 during start-up, /metrics after a known number of
 * messages, then /healthz staying 200 while /readyz follows a Kafka and an MQTT outage, with the metrics that tell;
 * last, every metric the Grafana dashboard and the alert rules use is in the scrape.
 */
// brokers of its own and the bridge in a child process, mostly waiting out outages: runs beside the other concurrent
// scenarios. Each method is SAME_THREAD, so they run one after the other, in order: a CONCURRENT class runs its
// methods at once unless they say otherwise (and all five then failed)
@Execution(ExecutionMode.CONCURRENT)
@Order(2) // early, after the durable outages: 1.5 to 2 minutes, longer than most (junit-platform.properties)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HealthIT {

    static final String TOPIC = "health-it";
    static final int BATCH = 10;

    KafkaBroker kafka;
    MqttBroker mqtt;
    BridgeProcess bridge;

    @BeforeAll
    void start() {
        kafka = KafkaBroker.start("health", Map.of());
        mqtt = MqttBroker.start("health", false);
    }

    @AfterAll
    void stop() {
        if (bridge != null) {
            bridge.close();
        }
        kafka.close();
        mqtt.close();
    }

    static ConditionFactory await(String what) {
        return Awaitility.await(what).atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100));
    }

    Http.Response get(String path) {
        return Http.get(bridge.healthPort(), path);
    }

    Scrape metrics() {
        Http.Response response = get("/metrics");
        assertThat(response.status()).isEqualTo(200);
        return new Scrape(response.body());
    }

    @Test
    @Order(1)
    @Execution(ExecutionMode.SAME_THREAD)
    void should_answer_423_not_ready_until_the_probe_is_written_then_200_ok() throws IOException {
        // batches by size alone (at-least-once also writes a batch whenever the queue runs empty)
        Map<String, String> env = BridgeProcess.environment(mqtt.port(), kafka.bootstrap(), "health", "buffered");
        env.putAll(Map.of(
                "KAFKA_MAX_BATCH_SIZE", Integer.toString(BATCH),
                "KAFKA_TOPIC", TOPIC,
                "KAFKA_TEST_TOPIC", TOPIC + "-probe",
                "KAFKA_BATCH_SIZE", Integer.toString(BATCH),
                "KAFKA_INTERVAL", "3600"));
        kafka.freeze(); // the probe waits for Kafka, so the bridge is up but not started
        try {
            bridge = BridgeProcess.start(Files.createTempDirectory("health"), env);
            // the server listens a moment before Camel has added its routes, and answers 404 meanwhile
            await("/healthz answers").until(() -> get("/healthz") != null && get("/healthz").status() != 404);
            assertThat(get("/healthz")).isEqualTo(new Http.Response(423, "not ready"));
            assertThat(get("/readyz").status()).isEqualTo(503);
        } finally {
            kafka.thaw();
        }
        await("/healthz 200").until(() -> get("/healthz").status() == 200);
        assertThat(get("/healthz")).isEqualTo(new Http.Response(200, "ok"));
        await("/readyz 200").until(() -> get("/readyz").status() == 200);
        assertThat(get("/readyz").body()).isEqualTo("ok");
        assertThat(get("/observe/health").body()).contains("\"status\":\"UP\"");
    }

    @Test
    @Order(2)
    @Execution(ExecutionMode.SAME_THREAD)
    void should_count_the_messages_by_the_go_names_and_the_new_ones() {
        int envelope = "{\"topic\":\"health/m\",\"content\":\"eA==\"}".length();
        try (Publisher publisher = new Publisher(mqtt.url())) {
            publish(publisher, 5);
            await("five messages in the spool").untilAsserted(() -> {
                Scrape m = metrics();
                assertThat(m.value("mqtt_received")).isEqualTo(5);
                assertThat(m.value("metamorphosis_spool_messages")).isEqualTo(5);
                assertThat(m.value("metamorphosis_spool_bytes")).isEqualTo(5 * envelope);
                assertThat(m.value("metamorphosis_spool_oldest_age_seconds")).isPositive();
            });
            publish(publisher, 3 * BATCH - 5);
        }
        Records.await(kafka.bootstrap(), TOPIC, 3 * BATCH, Duration.ofSeconds(90));
        await("the metrics of three batches").untilAsserted(() -> {
            Scrape m = metrics();
            assertThat(m.value("metamorphosis_kafka_records_written_total")).isEqualTo(3 * BATCH);
            assertThat(m.value("metamorphosis_spool_messages")).isZero();
        });
        Scrape m = metrics();
        // the Go version's names, types and values
        assertThat(m.types).containsEntry("mqtt_received", "counter").containsEntry("mqtt_errors", "counter")
                .containsEntry("kafka_sent", "counter").containsEntry("kafka_errors", "counter")
                .containsEntry("kafka_state", "gauge");
        assertThat(m.value("mqtt_received")).isEqualTo(3 * BATCH);
        assertThat(m.value("mqtt_errors")).isZero();
        assertThat(m.value("kafka_sent")).isEqualTo(3);
        assertThat(m.value("kafka_errors")).isZero();
        assertThat(m.value("kafka_state")).isZero();
        // the new ones
        assertThat(m.value("metamorphosis_kafka_batches_written_total")).isEqualTo(3);
        assertThat(m.value("metamorphosis_kafka_batch_size_records_count")).isEqualTo(3);
        assertThat(m.value("metamorphosis_kafka_batch_size_records_sum")).isEqualTo(3 * BATCH);
        assertThat(m.samples).containsEntry("metamorphosis_kafka_batch_size_records_bucket{le=\"5.0\"}", 0.0)
                .containsEntry("metamorphosis_kafka_batch_size_records_bucket{le=\"10.0\"}", 3.0);
        assertThat(m.value("metamorphosis_end_to_end_latency_seconds_count")).isEqualTo(3 * BATCH);
        assertThat(m.samples).containsEntry("metamorphosis_end_to_end_latency_seconds_bucket{le=\"+Inf\"}",
                (double) 3 * BATCH);
        assertThat(m.value("metamorphosis_spool_bytes")).isZero();
        assertThat(m.value("metamorphosis_spool_oldest_age_seconds")).isZero();
        assertThat(m.value("metamorphosis_spool_capacity_messages")).isEqualTo(100_000);
        assertThat(m.value("metamorphosis_spool_capacity_bytes")).isEqualTo(64 * 1024 * 1024);
        assertThat(m.value("metamorphosis_messages_dropped_total")).isZero();
        assertThat(m.value("metamorphosis_messages_dead_lettered_total")).isZero();
        assertThat(m.value("metamorphosis_probe_success")).isEqualTo(1);
        assertThat(m.value("metamorphosis_mqtt_connected")).isEqualTo(1);
        assertThat(m.value("metamorphosis_mqtt_reconnects_total")).isZero();
        assertThat(m.value("metamorphosis_kafka_connected")).isEqualTo(1);
        // the JVM's metrics; Camel's route metrics and route counts are off by default
        // (camel.metrics.enableRoutePolicy, camel.metrics.enableRouteEventNotifier)
        assertThat(m.samples.keySet()).noneMatch(s -> s.startsWith("camel_exchanges_"))
                .noneMatch(s -> s.startsWith("camel_routes_"));
        assertThat(m.names()).contains("jvm_memory_used_bytes", "jvm_gc_pause_seconds_count", "process_cpu_usage");
    }

    static void publish(Publisher publisher, int messages) {
        for (int i = 0; i < messages; i++) {
            publisher.publish("health/m", "x".getBytes(StandardCharsets.UTF_8), 1);
        }
        publisher.flush();
    }

    @Test
    @Order(3)
    @Execution(ExecutionMode.SAME_THREAD)
    void should_stay_live_and_turn_unready_while_kafka_is_down_then_ready_again() {
        kafka.kill();
        await("/readyz 503 naming Kafka").untilAsserted(() -> {
            assertThat(get("/healthz")).isEqualTo(new Http.Response(200, "ok"));
            Http.Response ready = get("/readyz");
            assertThat(ready.status()).isEqualTo(503);
            assertThat(ready.body()).startsWith("kafka ");
        });
        assertThat(metrics().value("metamorphosis_kafka_connected")).isZero();
        kafka.restart();
        await("/readyz 200").untilAsserted(() -> {
            assertThat(get("/healthz")).isEqualTo(new Http.Response(200, "ok"));
            assertThat(get("/readyz")).isEqualTo(new Http.Response(200, "ok"));
        });
        assertThat(metrics().value("metamorphosis_kafka_connected")).isEqualTo(1);
    }

    @Test
    @Order(4)
    @Execution(ExecutionMode.SAME_THREAD)
    void should_count_a_lost_mqtt_connection_as_an_error_and_its_return_as_a_reconnect() {
        mqtt.stop();
        await("/readyz 503 naming MQTT").untilAsserted(() -> {
            assertThat(get("/healthz")).isEqualTo(new Http.Response(200, "ok"));
            Http.Response ready = get("/readyz");
            assertThat(ready.status()).isEqualTo(503);
            assertThat(ready.body()).isEqualTo("mqtt disconnected");
        });
        Scrape down = metrics();
        assertThat(down.value("mqtt_errors")).isEqualTo(1);
        assertThat(down.value("metamorphosis_mqtt_connected")).isZero();
        mqtt.startAgain();
        await("/readyz 200").untilAsserted(() -> assertThat(get("/readyz")).isEqualTo(new Http.Response(200, "ok")));
        Scrape up = metrics();
        assertThat(up.value("metamorphosis_mqtt_reconnects_total")).isEqualTo(1);
        assertThat(up.value("mqtt_errors")).isEqualTo(1);
        assertThat(up.value("metamorphosis_mqtt_connected")).isEqualTo(1);
        assertThat(get("/healthz")).isEqualTo(new Http.Response(200, "ok"));
    }

    @Test
    @Order(5)
    @Execution(ExecutionMode.SAME_THREAD)
    void should_expose_every_metric_the_dashboard_and_the_alerts_use() throws Exception {
        // the JVM's GC pause timer appears with the first collection: make sure there was one
        Tools.jcmd(bridge.pid(), "GC.run");
        String text = get("/metrics").body();
        Scrape scrape = new Scrape(text);
        assertThat(scrape.names()).containsAll(Monitoring.usedMetricNames());
        Optional<Path> promtoolExecutable = Tools.optional("promtool", "Debian package prometheus");
        if (promtoolExecutable.isPresent()) {
            // Prometheus's own parser: lint remarks (exit code 3) are fine, a parse error (exit code 1) is not
            Process promtool = new ProcessBuilder(promtoolExecutable.get().toString(), "check", "metrics")
                    .redirectErrorStream(true).start();
            promtool.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
            promtool.getOutputStream().close();
            String lint = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(promtool.waitFor()).as(lint).isIn(0, 3);
            assertThat(lint).doesNotContain("error while linting")
                    .contains("mqtt_received counter metrics should have \"_total\" suffix");
        }
    }
}

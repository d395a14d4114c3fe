package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.assertj.core.api.Assertions.assertThat;

/** The real program's logs: trace to info on stdout, warn and worse on stderr, LOG_LEVEL filters, LOG_FORMAT=json. */
// bridge processes on the shared brokers, topics of their own: runs beside the concurrent scenarios
@Execution(ExecutionMode.CONCURRENT)
class LoggingIT {

    private static final Pattern TEXT_LINE = Pattern.compile("\\d{4}-\\d\\d-\\d\\dT[^ ]+ (\\w+) +\\[[^]]+] .*");
    private static final String NO_PROBE = "KAFKA_TEST_TOPIC is not set";

    /** Runs the bridge until it is live, stops it with SIGTERM and returns it, its streams complete. */
    private static BridgeProcess run(String name, Map<String, String> extra) throws IOException {
        Map<String, String> env = BridgeProcess.environment(Brokers.mqtt().port(), Brokers.kafka().bootstrap(),
                "logging-it-" + name);
        env.putAll(extra);
        BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory("logging"), env);
        try {
            Awaitility.await("bridge live").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                    .until(() -> {
                        Http.Response live = Http.get(bridge.healthPort(), "/healthz");
                        return live != null && live.status() == 200;
                    });
        } finally {
            bridge.terminate();
        }
        bridge.exitCode(Duration.ofSeconds(60)); // the streams are complete once it has ended
        return bridge;
    }

    /** The levels of the log lines (continuation lines of a multi-line message have none). */
    private static List<String> textLevels(String stream) {
        return stream.lines().map(TEXT_LINE::matcher).filter(java.util.regex.Matcher::matches)
                .map(m -> m.group(1)).toList();
    }

    @Test
    void should_write_trace_to_info_on_stdout_and_warn_and_worse_on_stderr_at_the_level_set() throws IOException {
        try (BridgeProcess bridge = run("text", Map.of("LOG_LEVEL", "debug"))) {
            assertThat(textLevels(bridge.stdout())).contains("DEBUG", "INFO")
                    .allMatch(List.of("TRACE", "DEBUG", "INFO")::contains);
            assertThat(textLevels(bridge.stderr())).isNotEmpty().allMatch(List.of("WARN", "ERROR", "FATAL")::contains);
            assertThat(bridge.stderr()).contains("WARN  [bridge] " + NO_PROBE);
            assertThat(bridge.stdout()).doesNotContain(NO_PROBE);
        }
    }

    @Test
    void should_write_one_json_object_per_line_with_log_format_json() throws IOException {
        try (BridgeProcess bridge = run("json", Map.of("LOG_FORMAT", "json", "LOG_LEVEL", "info"))) {
            ObjectMapper json = new ObjectMapper();
            List<JsonNode> out = bridge.stdout().lines().map(line -> parse(json, line)).toList();
            List<JsonNode> err = bridge.stderr().lines().map(line -> parse(json, line)).toList();
            assertThat(out).isNotEmpty().allSatisfy(o -> assertThat(o.path("log.level").asText()).isEqualTo("INFO"));
            assertThat(out).anySatisfy(o -> assertThat(o.path("message").asText()).startsWith("Subscribed to MQTT"));
            assertThat(err).isNotEmpty()
                    .allSatisfy(o -> assertThat(o.path("log.level").asText()).isIn("WARN", "ERROR", "FATAL"));
            assertThat(err).anySatisfy(o -> {
                assertThat(o.path("message").asText()).startsWith(NO_PROBE);
                assertThat(o.path("log.logger").asText()).isEqualTo("bridge");
                assertThat(o.path("@timestamp").asText()).isNotEmpty();
            });
        }
    }

    private static JsonNode parse(ObjectMapper json, String line) {
        try {
            JsonNode node = json.readTree(line);
            assertThat(node.isObject()).as(line).isTrue();
            return node;
        } catch (IOException e) {
            throw new AssertionError("not a JSON object: " + line, e);
        }
    }
}

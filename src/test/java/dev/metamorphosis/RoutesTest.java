package dev.metamorphosis;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.apache.camel.CamelContext;
import org.apache.camel.Route;
import org.apache.camel.builder.TemplatedRouteBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Every route file (routes/ and examples/, or the folder named by {@code -Dconfig.dir}) matches the Camel YAML DSL
 * schema and loads into Camel, without brokers, so a typo fails the build and not the pod.
 */
class RoutesTest {

    @Test
    void should_match_the_camel_yaml_dsl_schema() throws IOException {
        RouteSchema schema = new RouteSchema();
        List<String> problems = new ArrayList<>();
        for (Path file : routeFiles()) {
            problems.addAll(schema.check(file));
        }
        assertThat(problems).as("problems, as file:line: path: reason").isEmpty();
    }

    @Test
    void should_load_into_camel_without_brokers() throws Exception {
        org.apache.camel.main.Main main = load(routeFiles());
        CamelContext context = main.getCamelContext();
        try {
            // named by Main (as by @CamelMainTest) and by application.properties, Settings configures Camel once
            assertThat(main.configure().getConfigurations()).filteredOn(Settings.class::isInstance).hasSize(1);
            assertThat(context.getRoutes()).extracting(Route::getRouteId)
                    .contains("kafka-batch", "kafka-flush", "kafka-probe");
            // the route the bridge makes from the template for each topic filter
            TemplatedRouteBuilder.builder(context, "mqtt-ingest").routeId("mqtt-ingest-1")
                    .parameter("filter", "a/#").parameter("clientId", "routes-test").add();
            assertThat(context.getRoute("mqtt-ingest-1").getEndpoint().getEndpointUri()).startsWith("paho-mqtt5://a/");
        } finally {
            main.stop();
        }
    }

    @Test
    void should_load_every_topic_map() throws IOException {
        // examples/*.yaml but the route files, and the map of -Dtopic.map (relative to -Dconfig.dir) when given
        List<Path> maps = new ArrayList<>();
        String named = System.getProperty("topic.map", "");
        if (!named.isEmpty()) {
            maps.add(configDir().resolve(named));
        }
        try (var files = Files.newDirectoryStream(configDir().resolve("examples"), "*.yaml")) {
            files.forEach(f -> {
                if (!f.getFileName().toString().endsWith(".camel.yaml")) {
                    maps.add(f);
                }
            });
        } catch (java.nio.file.NoSuchFileException e) {
            // a ConfigMap's folder has no examples/
        }
        assertThat(maps).isNotEmpty();
        for (Path map : maps) {
            assertThat(TopicMap.load(map).size()).as(map.toString()).isPositive();
        }
    }

    @Test
    void should_name_file_line_and_reason_of_an_unknown_step_or_option(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("typos.camel.yaml"), """
                - route:
                    id: typos
                    from:
                      uri: timer
                      parameters:
                        timerName: tick
                      steps:
                        - aggregate:
                            correlationExpression:
                              constant: all
                            completionSiz: 10
                            steps:
                              - log: batch
                        - sendTo:
                            uri: log
                """);
        assertThat(new RouteSchema().check(file)).containsExactly(
                file + ":11: /0/route/from/steps/0/aggregate: property 'completionSiz' is not defined in the schema "
                        + "and the schema does not allow additional properties",
                file + ":15: /0/route/from/steps/1: property 'sendTo' is not defined in the schema and the schema "
                        + "does not allow additional properties");
    }

    @Test
    void should_not_load_an_endpoint_option_that_does_not_exist(@TempDir Path dir) throws IOException {
        // endpoint options are free-form in the schema; loading the route checks them
        Files.writeString(dir.resolve("typo.camel.yaml"), """
                - route:
                    id: typo
                    from:
                      uri: timer
                      parameters:
                        timerName: tick
                        perod: 1000
                      steps:
                        - log: tick
                """);
        assertThatThrownBy(() -> load(List.of(dir.resolve("typo.camel.yaml"))))
                .hasStackTraceContaining("Unknown parameters=[{perod=1000}]");
    }

    /** The folder of application.properties and the route files: -Dconfig.dir, or the repository. */
    private static Path configDir() {
        return Path.of(System.getProperty("config.dir", ""));
    }

    /** routes/*.camel.yaml and examples/*.camel.yaml, or the route files of -Dconfig.dir as the bridge finds them. */
    static List<Path> routeFiles() throws IOException {
        List<Path> folders = System.getProperty("config.dir") == null
                ? List.of(configDir().resolve("routes"), configDir().resolve("examples"))
                : List.of(configDir().resolve("routes"), configDir());
        List<Path> files = new ArrayList<>();
        for (Path folder : folders) {
            if (Files.isDirectory(folder)) {
                try (DirectoryStream<Path> found = Files.newDirectoryStream(folder, "*.camel.yaml")) {
                    found.forEach(files::add);
                }
            }
        }
        assertThat(files).as("route files").isNotEmpty();
        return files;
    }

    /** Camel Main as Main starts it, with the route files; routes not started, so no broker is needed. */
    private static org.apache.camel.main.Main load(List<Path> files) throws Exception {
        return load(files, Map.of());
    }

    /**
     * Camel with these route files and the configuration's application.properties, the routes not started (no brokers
     * needed), and these properties over the configuration's.
     */
    static org.apache.camel.main.Main load(List<Path> files, Map<String, String> properties) throws Exception {
        org.apache.camel.main.Main main = new org.apache.camel.main.Main();
        main.setPropertyPlaceholderLocations(
                "file:" + configDir().resolve("application.properties") + ";optional=true");
        main.addOverrideProperty("mqtt.broker", "127.0.0.1");
        main.addOverrideProperty("mqtt.tls", "false");
        main.addOverrideProperty("mqtt.topic", "a/#");
        main.addOverrideProperty("kafka.broker", "127.0.0.1");
        main.addOverrideProperty("kafka.topic", "routes-test");
        properties.forEach(main::addOverrideProperty);
        main.configure().withAutoStartup(false).withRoutesIncludePattern(
                files.stream().map(f -> "file:" + f).collect(Collectors.joining(",")));
        main.configure().addConfiguration(Settings.class);
        main.start();
        return main;
    }
}

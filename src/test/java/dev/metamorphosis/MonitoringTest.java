package dev.metamorphosis;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metamorphosis.it.Monitoring;
import dev.metamorphosis.it.Tools;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

import static org.assertj.core.api.Assertions.assertThat;

/** The Grafana dashboard and the alert rules: their shape, promtool's checks and unit tests, the overlay. */
@SuppressWarnings("unchecked")
class MonitoringTest {

    static final Path PROMETHEUS = Path.of("deploy/prometheus");

    static Object yaml(Path file) throws IOException {
        return new Load(LoadSettings.builder().build()).loadFromString(Files.readString(file));
    }

    @Test
    void should_find_the_metric_names_in_promql() {
        assertThat(Monitoring.metricNames("histogram_quantile(0.99, sum by (job, instance, le) "
                + "(rate(metamorphosis_end_to_end_latency_seconds_bucket{instance=~\"$instance\"}[5m]))) > 30"))
                .containsExactly("metamorphosis_end_to_end_latency_seconds_bucket");
        assertThat(Monitoring.metricNames("(sum by (job) (increase(mqtt_received{a=\"x{y}\"}[15m])) == 0) "
                + "and on (job, instance) (max by (job) (1 - metamorphosis_mqtt_connected) == 1e3)"))
                .containsExactly("metamorphosis_mqtt_connected", "mqtt_received");
    }

    @Test
    void should_hold_the_same_groups_in_the_prometheus_rule_as_in_the_plain_rules_file() throws IOException {
        Map<String, Object> rule = (Map<String, Object>) yaml(PROMETHEUS.resolve("metamorphosis-rules.yaml"));
        Map<String, Object> plain = (Map<String, Object>) yaml(PROMETHEUS.resolve("metamorphosis.rules.yaml"));
        assertThat(rule.get("kind")).isEqualTo("PrometheusRule");
        assertThat(((Map<String, Object>) rule.get("spec")).get("groups")).isEqualTo(plain.get("groups"));
    }

    @Test
    void should_give_every_alert_a_severity_summary_description_and_a_runbook_section() throws IOException {
        Map<String, Object> plain = (Map<String, Object>) yaml(PROMETHEUS.resolve("metamorphosis.rules.yaml"));
        // a runbook section in docs/ (operations.md or a runbook of its own): a heading named after the alert
        Pattern runbook = Pattern.compile("(docs/[a-z-]+\\.md), section Runbook: (\\w+)");
        List<String> alerts = new ArrayList<>();
        for (Map<String, Object> group : (List<Map<String, Object>>) plain.get("groups")) {
            for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
                String alert = (String) rule.get("alert");
                alerts.add(alert);
                assertThat((Map<String, String>) rule.get("labels")).as(alert).containsKey("severity");
                Map<String, String> annotations = (Map<String, String>) rule.get("annotations");
                assertThat(annotations).as(alert).containsKeys("summary", "description", "runbook");
                Matcher where = runbook.matcher(annotations.get("runbook"));
                assertThat(where.matches()).as("runbook of " + alert + ": " + annotations.get("runbook")).isTrue();
                assertThat(where.group(2)).as("runbook of " + alert).isEqualTo(alert);
                String file = where.group(1);
                assertThat(Files.readString(Path.of(file))).as("runbook of " + alert + " in " + file)
                        .containsPattern("(?m)^#{2,4} " + alert + "$");
            }
        }
        assertThat(alerts).contains("MetamorphosisKafkaDown", "MetamorphosisMqttDisconnected",
                "MetamorphosisSpoolFilling", "MetamorphosisMessagesDropped", "MetamorphosisNoMessages",
                "MetamorphosisLatencyHigh", "MetamorphosisSpoolDiskFilling", "MetamorphosisSpoolCorrupt",
                "MetamorphosisPipelineStalled");
    }

    @Test
    void should_pass_promtool_check_rules_and_the_alert_unit_tests() throws Exception {
        String promtool = Tools.required("promtool", "Debian package prometheus").toString();
        assertThat(Tools.run(PROMETHEUS, List.of(promtool, "check", "rules", "metamorphosis.rules.yaml")))
                .contains("SUCCESS");
        assertThat(Tools.run(PROMETHEUS, List.of(promtool, "test", "rules", "metamorphosis.rules.test.yaml")))
                .contains("SUCCESS");
    }

    @Test
    void should_query_by_the_datasource_and_instance_variables_in_every_panel() throws IOException {
        JsonNode dashboard = new ObjectMapper().readTree(Monitoring.DASHBOARD.toFile());
        List<String> variables = new ArrayList<>();
        dashboard.path("templating").path("list").forEach(v -> variables.add(v.path("name").asText()));
        assertThat(variables).containsExactly("datasource", "instance");
        assertThat(dashboard.path("panels")).isNotEmpty().allSatisfy(panel -> {
            assertThat(panel.path("datasource").path("uid").asText()).isEqualTo("${datasource}");
            assertThat(panel.path("targets")).isNotEmpty().allSatisfy(target ->
                    assertThat(target.path("expr").asText()).contains("instance=~\"$instance\""));
        });
    }

    @Test
    void should_build_the_monitoring_overlay_with_the_rule_the_service_monitor_and_the_dashboard() throws Exception {
        String kubectl = Tools.required("kubectl", "the Kubernetes client").toString();
        List<Object> documents = new ArrayList<>();
        new Load(LoadSettings.builder().build()).loadAllFromString(Tools.run(null, List.of(kubectl, "kustomize",
                "--load-restrictor", "LoadRestrictionsNone", "deploy/monitoring"))).forEach(documents::add);
        List<String> kinds = documents.stream().map(d -> (String) ((Map<String, Object>) d).get("kind")).toList();
        assertThat(kinds).contains("StatefulSet", "Service", "ServiceMonitor", "PrometheusRule");
        Map<String, Object> dashboard = (Map<String, Object>) documents.stream()
                .filter(d -> ((Map<String, Object>) ((Map<String, Object>) d).get("metadata")).get("name")
                        .equals("metamorphosis-dashboard")).findFirst().orElseThrow();
        assertThat((Map<String, Object>) ((Map<String, Object>) dashboard.get("metadata")).get("labels"))
                .containsEntry("grafana_dashboard", "1");
        assertThat(((Map<String, String>) dashboard.get("data")).get("metamorphosis.json"))
                .isEqualTo(Files.readString(Monitoring.DASHBOARD));
    }
}

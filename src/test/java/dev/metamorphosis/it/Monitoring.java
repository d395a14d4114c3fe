package dev.metamorphosis.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/** The PromQL of the Grafana dashboard and of the alert rules, and the metric names it uses. */
public final class Monitoring {

    public static final Path DASHBOARD = BridgeProcess.repo().resolve("deploy/grafana/metamorphosis.json");
    public static final Path RULES = BridgeProcess.repo().resolve("deploy/prometheus/metamorphosis.rules.yaml");

    private static final Pattern IDENTIFIER = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*+(?!\\s*\\()");
    private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "bool", "offset", "by", "without", "on",
            "ignoring", "group_left", "group_right", "Inf", "NaN");
    private static final Pattern LABEL_VALUES = Pattern.compile("label_values\\(\\s*([a-zA-Z_:][a-zA-Z0-9_:]*)");

    private Monitoring() {
    }

    /** The expressions of every dashboard panel, and the metric of each label_values() variable query. */
    public static List<String> dashboardQueries() {
        try {
            JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
            List<String> queries = new ArrayList<>();
            dashboard.path("panels").forEach(p -> p.path("targets").forEach(t -> queries.add(t.path("expr").asText())));
            dashboard.path("templating").path("list").forEach(v -> {
                Matcher m = LABEL_VALUES.matcher(v.path("definition").asText());
                if (m.find()) {
                    queries.add(m.group(1));
                }
            });
            return queries;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The expression of every rule in the plain rules file. */
    @SuppressWarnings("unchecked")
    public static List<String> ruleExpressions() {
        try {
            Map<String, Object> file = (Map<String, Object>) new Load(LoadSettings.builder().build())
                    .loadFromString(Files.readString(RULES));
            List<String> expressions = new ArrayList<>();
            for (Map<String, Object> group : (List<Map<String, Object>>) file.get("groups")) {
                for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
                    expressions.add((String) rule.get("expr"));
                }
            }
            return expressions;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The metric names in a PromQL expression: what is left once strings, label matchers, ranges, grouping
     * clauses, function calls, keywords and numbers are taken out.
     */
    public static Set<String> metricNames(String promql) {
        String bare = promql.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"")
                .replaceAll("\\{[^}]*}", " ")
                .replaceAll("\\[[^]]*]", " ")
                .replaceAll("\\b(?:by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ");
        Set<String> names = new TreeSet<>();
        Matcher m = IDENTIFIER.matcher(bare);
        while (m.find()) {
            boolean partOfNumber = m.start() > 0 && Character.isDigit(bare.charAt(m.start() - 1));
            if (!KEYWORDS.contains(m.group()) && !partOfNumber) {
                names.add(m.group());
            }
        }
        return names;
    }

    /** Every metric name the dashboard and the alert rules use. */
    public static Set<String> usedMetricNames() {
        Set<String> names = new TreeSet<>();
        dashboardQueries().forEach(q -> names.addAll(metricNames(q)));
        ruleExpressions().forEach(q -> names.addAll(metricNames(q)));
        return names;
    }
}

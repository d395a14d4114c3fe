package dev.metamorphosis;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The documentation stays true to the code: every relative link resolves (file and heading), every setting of
 * {@link Settings#ALL} is in docs/settings.md with its flag, property and default (and nothing else is), the
 * README stays a landing page, and its diagram names exactly the routes of routes/.
 */
class DocsTest {

    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
    private static final Pattern HEADING = Pattern.compile("^#{1,6} (.+)$");
    private static final Pattern ROUTE_ID = Pattern.compile("(?m)^\\s+id: ([a-z0-9-]+)\\s*$");
    private static final Pattern ROUTE_NAME = Pattern.compile("\\b(?:mqtt|kafka|http)-[a-z0-9-]+\\b");

    @Test
    void should_resolve_every_relative_link_and_heading_anchor_in_the_markdown_files() throws IOException {
        List<String> broken = new ArrayList<>();
        List<Path> files = markdownFiles();
        assertThat(files).contains(Path.of("README.md"), Path.of("docs/settings.md"), Path.of("CONTRIBUTING.md"));
        for (Path file : files) {
            int line = 0;
            for (String text : outsideCode(Files.readAllLines(file))) {
                line++;
                Matcher link = LINK.matcher(text);
                while (link.find()) {
                    String target = link.group(1);
                    if (target.matches("^[a-z]+:.*")) {
                        continue; // https:, mailto:
                    }
                    String problem = resolve(file, target);
                    if (problem != null) {
                        broken.add(file + ":" + line + ": " + target + " (" + problem + ")");
                    }
                }
            }
        }
        assertThat(broken).as("broken links").isEmpty();
    }

    @Test
    void should_document_every_setting_with_its_flag_property_and_default_in_docs_settings() throws IOException {
        Map<String, List<String>> rows = table(Path.of("docs/settings.md"));
        for (Settings.Setting s : Settings.ALL) {
            List<String> row = rows.remove(s.env());
            assertThat(row).as(s.env() + " in docs/settings.md").isNotNull();
            assertThat(row.get(1)).as("flag of " + s.env()).isEqualTo("`" + s.flag() + "`");
            assertThat(row.get(2)).as("property of " + s.env())
                    .isEqualTo(s.env().equals("CONFIG_DIR") ? "—" : "`" + s.key() + "`");
            assertDefault(s, row.get(3), "docs/settings.md");
        }
        assertThat(rows.keySet()).as("rows of docs/settings.md that are no setting").isEmpty();
    }

    @Test
    void should_keep_the_readme_a_landing_page_whose_settings_are_true() throws IOException {
        assertThat(Files.size(Path.of("README.md"))).as("README.md bytes").isLessThanOrEqualTo(16 * 1024);
        Map<String, List<String>> rows = table(Path.of("README.md"));
        assertThat(rows).as("the README's settings").containsKeys("MQTT_BROKER", "MQTT_TOPIC", "KAFKA_BROKER",
                "KAFKA_TOPIC", "DELIVERY");
        for (Map.Entry<String, List<String>> row : rows.entrySet()) {
            Settings.Setting s = Settings.ALL.stream().filter(x -> x.env().equals(row.getKey())).findFirst()
                    .orElseThrow(() -> new AssertionError("README names a setting that does not exist: " + row.getKey()));
            assertDefault(s, row.getValue().get(1), "README.md");
        }
    }

    @Test
    void should_name_in_the_readme_diagram_exactly_the_routes_of_the_route_files() throws IOException {
        Set<String> routes = new TreeSet<>();
        try (Stream<Path> files = Files.list(Path.of("routes"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".camel.yaml")).toList()) {
                Matcher id = ROUTE_ID.matcher(Files.readString(file));
                while (id.find()) {
                    routes.add(id.group(1));
                }
            }
        }
        String readme = Files.readString(Path.of("README.md"));
        int start = readme.indexOf("```mermaid");
        assertThat(start).as("a mermaid diagram in README.md").isNotNegative();
        String diagram = readme.substring(start, readme.indexOf("```", start + 3));
        Set<String> named = new TreeSet<>();
        Matcher name = ROUTE_NAME.matcher(diagram);
        while (name.find()) {
            named.add(name.group());
        }
        assertThat(named).as("route ids in the README's diagram").isEqualTo(routes);
    }

    @Test
    void should_name_only_steps_of_the_routes_in_following_one_message() throws IOException {
        StringBuilder routes = new StringBuilder();
        try (Stream<Path> files = Files.list(Path.of("routes"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".camel.yaml")).toList()) {
                routes.append(Files.readString(file));
            }
        }
        Set<String> steps = new TreeSet<>();
        Matcher step = Pattern.compile("ref: (\\w+)(\\s+method: (\\w+))?").matcher(routes);
        while (step.find()) {
            steps.add(step.group(3) == null ? step.group(1) : step.group(1) + "." + step.group(3));
        }
        String doc = Files.readString(Path.of("docs/changing-routes.md"));
        int start = doc.indexOf("### Following one message");
        assertThat(start).as("section Following one message in docs/changing-routes.md").isNotNegative();
        String section = doc.substring(start, doc.indexOf("\n#", start + 4)).replaceAll("\\s+", " ");
        Set<String> named = new TreeSet<>();
        Matcher bean = Pattern.compile("step `bean (\\w+) method (\\w+)`").matcher(section);
        while (bean.find()) {
            named.add(bean.group(1) + "." + bean.group(2));
        }
        Matcher processor = Pattern.compile("(?:[Ss]tep|then|or) `(\\w+)`").matcher(section);
        while (processor.find()) {
            named.add(processor.group(1));
        }
        assertThat(named).as("steps named in Following one message").hasSizeGreaterThanOrEqualTo(7);
        assertThat(steps).as("bean steps of routes/").containsAll(named);
    }

    private static void assertDefault(Settings.Setting s, String cell, String where) {
        if (s.required()) {
            assertThat(cell).as("default of " + s.env() + " in " + where).isEqualTo("required");
        } else if (!s.defaultValue().isEmpty()) {
            assertThat(cell).as("default of " + s.env() + " in " + where).startsWith("`" + s.defaultValue() + "`");
        } else {
            assertThat(cell).as("default of " + s.env() + " in " + where).isNotEqualTo("required").isNotBlank();
        }
    }

    /** The rows of the tables whose first cell is a setting's variable, by variable, cells trimmed. */
    private static Map<String, List<String>> table(Path file) throws IOException {
        Map<String, List<String>> rows = new HashMap<>();
        for (String line : Files.readAllLines(file)) {
            if (line.matches("^\\| `[A-Z][A-Z_]+` \\|.*")) {
                String[] cells = line.split("\\|", -1);
                List<String> row = new ArrayList<>();
                for (int i = 1; i < cells.length - 1; i++) {
                    row.add(cells[i].trim());
                }
                assertThat(rows.put(row.get(0).replace("`", ""), row)).as("one row for " + row.get(0) + " in " + file)
                        .isNull();
            }
        }
        return rows;
    }

    /** What is wrong with a relative link from a Markdown file, or null. */
    private static String resolve(Path from, String target) throws IOException {
        int hash = target.indexOf('#');
        String path = hash < 0 ? target : target.substring(0, hash);
        Path file = path.isEmpty() ? from : from.toAbsolutePath().getParent().resolve(path).normalize();
        if (!Files.exists(file)) {
            return "no such file";
        }
        if (hash >= 0 && file.toString().endsWith(".md") && !anchors(file).contains(target.substring(hash + 1))) {
            return "no such heading";
        }
        return null;
    }

    /** The anchors GitHub makes of a Markdown file's headings: lower case, punctuation gone, spaces as hyphens. */
    private static Set<String> anchors(Path file) throws IOException {
        Set<String> anchors = new TreeSet<>();
        Map<String, Integer> seen = new HashMap<>();
        for (String line : outsideCode(Files.readAllLines(file))) {
            Matcher heading = HEADING.matcher(line);
            if (heading.matches()) {
                String slug = heading.group(1).trim().toLowerCase(Locale.ROOT)
                        .replaceAll("[^\\p{L}\\p{N}\\s_-]", "").replace(' ', '-');
                int n = seen.merge(slug, 1, Integer::sum);
                anchors.add(n == 1 ? slug : slug + "-" + (n - 1));
            }
        }
        return anchors;
    }

    /** The lines with those inside fenced code blocks blanked, so that line numbers stay right. */
    private static List<String> outsideCode(List<String> lines) {
        List<String> out = new ArrayList<>();
        boolean code = false;
        for (String line : lines) {
            if (line.startsWith("```")) {
                code = !code;
                out.add("");
            } else {
                out.add(code ? "" : line);
            }
        }
        return out;
    }

    private static List<Path> markdownFiles() throws IOException {
        try (Stream<Path> all = Files.walk(Path.of("."))) {
            return all.map(p -> Path.of(".").relativize(p))
                    .filter(p -> p.toString().endsWith(".md"))
                    .filter(p -> !p.startsWith("target") && !p.startsWith(".mvn") && !p.startsWith(".git")
                                 && !p.toString().contains("node_modules"))
                    .sorted().toList();
        }
    }
}

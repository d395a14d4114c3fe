package dev.metamorphosis;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.NodeType;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;

/**
 * The rules of {@code TOPIC_MAP}: which Kafka topic, key, format and headers a message gets, by its MQTT topic.
 * <p>
 * The file is a YAML list of rules, each a map:
 * <pre>
 * - filter: "factory/+/line/+/temperature"  # required: an MQTT topic filter, + one level, # the rest
 *   topic: "temperature-{1}"                # required: the Kafka topic
 *   key: "{1}/{2}"                          # optional: the record key; left out, KAFKA_KEY applies
 *   format: raw                             # envelope (default) or raw
 *   headers: true                           # MQTT metadata as headers; default true for raw, false for envelope
 * </pre>
 * In {@code topic} and {@code key}, {@code {1}}, {@code {2}}, ... are what the 1st, 2nd, ... wildcard of the filter
 * matched (a {@code #} may match nothing, or several levels with their {@code /}) and {@code {topic}} is the whole
 * MQTT topic. Braces mean nothing else: no Kafka topic name can hold one, so there is no escape for them.
 * <p>
 * The first rule whose filter matches decides ({@link #match}). In the Kafka topic, every character Kafka does not
 * allow in a name (anything but {@code a-z A-Z 0-9 . _ -}, counted by code point) becomes {@code _}; the key is kept
 * as it is. A name that is still invalid is not an error: the {@link Match} says why, for the dead-letter path.
 * <p>
 * Matching allocates nothing until a rule matches and caches nothing: each filter is split into its levels once, at
 * load, and a match compares them with the topic in place. A map does not change once loaded, so one serves every
 * thread.
 */
public final class TopicMap {

    /** The record value a rule writes: the Go version's {@link Envelope}, or the payload as it came. */
    public enum Format {
        ENVELOPE, RAW
    }

    /**
     * What the rule that matched says: its number in the file (from 1) and filter, the Kafka topic (sanitised), the
     * key ({@code null}: KAFKA_KEY applies), format and headers. {@code invalid} is {@code null}, or why the topic
     * cannot be a Kafka topic name even so: the message then goes to the dead-letter path.
     */
    public record Match(int rule, String filter, String topic, String key, Format format, boolean headers,
                        String invalid) {

        public boolean valid() {
            return invalid == null;
        }
    }

    /** Kafka's longest topic name. */
    static final int MAX_TOPIC_LENGTH = 249;

    private static final String SETTING = "TOPIC_MAP";
    private static final List<String> KEYS = List.of("filter", "topic", "key", "format", "headers");

    private final Rule[] rules;
    private final int mostWildcards;

    private TopicMap(List<Rule> rules) {
        this.rules = rules.toArray(new Rule[0]);
        this.mostWildcards = rules.stream().mapToInt(r -> r.filter.wildcards).max().orElse(0);
    }

    /** Loads the map from a file, naming it by its path in errors; see {@link #load(String, Path)}. */
    public static TopicMap load(Path file) {
        return load(file.toString(), file);
    }

    /**
     * Loads the map from {@code file}, which is where the setting's value {@code setting} points (the value as the
     * user gave it, say relative to CONFIG_DIR: errors name both, so the user finds the line they wrote).
     *
     * @throws Settings.Invalid one line: {@code TOPIC_MAP="<setting>" (<file>): rule <n> (line <l>): <what is wrong>},
     *                          or without the rule when the file as a whole is wrong
     */
    public static TopicMap load(String setting, Path file) {
        Problems problems = new Problems(SETTING + "=\"" + setting + "\" (" + file + "): ");
        Node root = compose(file, problems);
        if (!(root instanceof SequenceNode list)) {
            throw problems.at(root, "expected a list of rules (- filter: ... topic: ...), found " + kind(root));
        }
        if (list.getValue().isEmpty()) {
            throw problems.at(root, "the list of rules is empty");
        }
        List<Rule> rules = new ArrayList<>();
        for (Node item : list.getValue()) {
            rules.add(Rule.parse(rules.size() + 1, item, problems));
        }
        return new TopicMap(rules);
    }

    private static Node compose(Path file, Problems problems) {
        if (!Files.exists(file)) {
            throw problems.of("the file does not exist");
        }
        if (Files.isDirectory(file)) {
            throw problems.of("is a folder, not a file");
        }
        // the node API, not plain maps and lists: every node knows its line, and the messages name it
        Compose compose = new Compose(LoadSettings.builder().setLabel(file.toString()).build());
        try (InputStream in = Files.newInputStream(file)) {
            Optional<Node> root = compose.composeInputStream(in);
            if (root.isEmpty()) {
                throw problems.of("the file is empty; expected a list of rules (- filter: ... topic: ...)");
            }
            return root.get();
        } catch (NoSuchFileException e) {
            throw problems.of("the file does not exist");
        } catch (IOException e) {
            throw problems.of("the file cannot be read: " + e.getClass().getSimpleName() + ": " + e.getMessage());
        } catch (MarkedYamlEngineException e) {
            Optional<Mark> mark = e.getProblemMark().or(e::getContextMark);
            // the context says what the parser was at ("while parsing a flow sequence"), the problem what it found
            String problem = e.getContext() == null ? e.getProblem()
                    : e.getProblem() == null ? e.getContext() : e.getContext() + ", " + e.getProblem();
            throw problems.of(mark.map(m -> "line " + (m.getLine() + 1) + ": ").orElse("") + "not YAML: " + problem);
        } catch (YamlEngineException e) {
            // what the reader refuses before any line is known, such as bytes that are not UTF-8
            if (e.getCause() instanceof CharacterCodingException) {
                throw problems.of("not YAML: the file is not UTF-8 text");
            }
            // a read that fails after the file opened (a disk error) reaches here wrapped by the YAML reader
            if (e.getCause() instanceof IOException io) {
                throw problems.of("the file cannot be read: " + io.getClass().getSimpleName() + ": " + io.getMessage());
            }
            throw problems.of("not YAML: " + e.getMessage());
        }
    }

    /**
     * The first rule whose filter matches the MQTT topic, or {@code null} when none does (the message then goes to
     * KAFKA_TOPIC).
     */
    public Match match(String mqttTopic) {
        if (mqttTopic == null) {
            return null;
        }
        int[] spans = new int[2 * mostWildcards];
        for (Rule rule : rules) {
            if (rule.filter.matches(mqttTopic, spans)) {
                return rule.render(mqttTopic, spans);
            }
        }
        return null;
    }

    /** The number of rules. */
    public int size() {
        return rules.length;
    }

    /** Why a (sanitised) name cannot be a Kafka topic, or {@code null} when it can. */
    static String invalidName(String name) {
        if (name.isEmpty()) {
            return "the Kafka topic name is empty";
        }
        if (name.equals(".") || name.equals("..")) {
            return "the Kafka topic name is \"" + name + "\", which Kafka does not allow";
        }
        if (name.length() > MAX_TOPIC_LENGTH) {
            return "the Kafka topic name has " + name.length() + " characters, more than the " + MAX_TOPIC_LENGTH
                    + " Kafka allows";
        }
        return null;
    }

    /** Appends {@code s[from, to)} with every code point Kafka does not allow in a topic name as {@code _}. */
    static void appendSanitised(StringBuilder out, String s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_'
                    || c == '-') {
                out.append(c);
            } else {
                if (Character.isHighSurrogate(c) && i + 1 < to && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                }
                out.append('_');
            }
        }
    }

    static String sanitise(String s) {
        StringBuilder out = new StringBuilder(s.length());
        appendSanitised(out, s, 0, s.length());
        return out.toString();
    }

    private static String kind(Node node) {
        if (node instanceof ScalarNode scalar) {
            return Tag.NULL.equals(scalar.getTag()) ? "nothing" : "\"" + scalar.getValue() + "\"";
        }
        return node.getNodeType() == NodeType.SEQUENCE ? "a list" : "a map";
    }

    /** One rule of the file, compiled. */
    private record Rule(int number, Filter filter, Template topic, Template key, Format format, boolean headers) {

        Match render(String mqttTopic, int[] spans) {
            String name = topic.render(mqttTopic, spans, true);
            return new Match(number, filter.text, name, key == null ? null : key.render(mqttTopic, spans, false),
                    format, headers, invalidName(name));
        }

        static Rule parse(int number, Node node, Problems problems) {
            if (!(node instanceof MappingNode map)) {
                throw problems.rule(number, node, node, "expected a map with filter and topic, found " + kind(node));
            }
            Map<String, ScalarNode> values = new HashMap<>();
            for (NodeTuple pair : map.getValue()) {
                Node keyNode = pair.getKeyNode();
                String name = keyNode instanceof ScalarNode s ? s.getValue() : null;
                if (name == null || !KEYS.contains(name)) {
                    throw problems.rule(number, node, keyNode, "unknown key " + (name == null ? kind(keyNode)
                            : "\"" + name + "\"") + "; a rule has filter, topic, key, format and headers");
                }
                Node value = pair.getValueNode();
                if (values.containsKey(name)) {
                    throw problems.rule(number, node, keyNode, name + " is given twice");
                }
                if (!(value instanceof ScalarNode scalar) || Tag.NULL.equals(value.getTag())) {
                    throw problems.rule(number, node, value, name + " must be a single value, not " + kind(value));
                }
                values.put(name, scalar);
            }
            for (String required : List.of("filter", "topic")) {
                if (!values.containsKey(required)) {
                    throw problems.rule(number, node, node, "no " + required + "; every rule needs filter and topic");
                }
            }

            ScalarNode filterNode = values.get("filter");
            Filter filter;
            try {
                filter = Filter.compile(filterNode.getValue());
            } catch (IllegalArgumentException e) {
                throw problems.rule(number, node, filterNode, "filter \"" + filterNode.getValue()
                        + "\" is not an MQTT topic filter: " + e.getMessage());
            }
            Template topic = template(number, node, "topic", values.get("topic"), filter, problems);
            String constant = topic.constant(true);
            if (constant != null && invalidName(constant) != null) {
                throw problems.rule(number, node, values.get("topic"), "topic \"" + values.get("topic").getValue()
                        + "\": " + invalidName(constant));
            }
            Template key = values.containsKey("key")
                    ? template(number, node, "key", values.get("key"), filter, problems) : null;

            Format format = Format.ENVELOPE;
            ScalarNode formatNode = values.get("format");
            if (formatNode != null) {
                String f = formatNode.getValue().strip().toLowerCase(Locale.ROOT);
                if (!f.equals("envelope") && !f.equals("raw")) {
                    throw problems.rule(number, node, formatNode, "unknown format \"" + formatNode.getValue()
                            + "\"; expected envelope or raw");
                }
                format = Format.valueOf(f.toUpperCase(Locale.ROOT));
            }
            // raw payloads lose the MQTT topic the envelope carries, so their headers are on unless turned off
            boolean headers = format == Format.RAW;
            ScalarNode headersNode = values.get("headers");
            if (headersNode != null) {
                // as the settings' booleans: true or false in any case
                String h = headersNode.getValue().strip().toLowerCase(Locale.ROOT);
                if (!h.equals("true") && !h.equals("false")) {
                    throw problems.rule(number, node, headersNode, "headers must be true or false, not \""
                            + headersNode.getValue() + "\"");
                }
                headers = h.equals("true");
            }
            return new Rule(number, filter, topic, key, format, headers);
        }

        private static Template template(int number, Node rule, String name, ScalarNode value, Filter filter,
                                         Problems problems) {
            try {
                return Template.compile(value.getValue(), filter);
            } catch (IllegalArgumentException e) {
                throw problems.rule(number, rule, value, name + " \"" + value.getValue() + "\" " + e.getMessage());
            }
        }
    }

    /**
     * An MQTT topic filter split into its levels. A level is the literal text, or {@code null} for {@code +}; a
     * {@code #} is not kept as a level but as {@link #rest}.
     */
    private static final class Filter {

        final String text;
        final String[] levels;
        final boolean rest;
        final int wildcards;
        /** MQTT 5, 4.7.2: a filter that starts with a wildcard does not match the topics that start with $. */
        final boolean startsWild;

        private Filter(String text, String[] levels, boolean rest) {
            this.text = text;
            this.levels = levels;
            this.rest = rest;
            int plus = 0;
            for (String level : levels) {
                plus += level == null ? 1 : 0;
            }
            this.wildcards = plus + (rest ? 1 : 0);
            this.startsWild = levels.length == 0 || levels[0] == null;
        }

        /** @throws IllegalArgumentException with what is wrong, as the end of a sentence */
        static Filter compile(String text) {
            if (text.isEmpty()) {
                throw new IllegalArgumentException("it is empty");
            }
            if (text.startsWith("$share/")) {
                throw new IllegalArgumentException("a shared subscription; a rule matches topics: leave out "
                        + "$share/<group>/ (MQTT_SHARED_GROUP shares the subscriptions)");
            }
            if (text.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("it holds the character U+0000");
            }
            String[] parts = text.split("/", -1);
            boolean rest = false;
            List<String> levels = new ArrayList<>();
            for (int i = 0; i < parts.length; i++) {
                String part = parts[i];
                if (part.contains("#")) {
                    if (!part.equals("#") || i != parts.length - 1) {
                        throw new IllegalArgumentException("'#' only as the whole last level");
                    }
                    rest = true;
                } else if (part.contains("+")) {
                    if (!part.equals("+")) {
                        throw new IllegalArgumentException("'+' only as a whole level");
                    }
                    levels.add(null);
                } else {
                    levels.add(part);
                }
            }
            return new Filter(text, levels.toArray(new String[0]), rest);
        }

        /**
         * Whether the filter matches the topic; if so, {@code spans} holds where each wildcard's match starts and
         * ends in the topic, in pairs.
         */
        boolean matches(String topic, int[] spans) {
            if (startsWild && !topic.isEmpty() && topic.charAt(0) == '$') {
                return false;
            }
            int length = topic.length();
            int at = 0; // where the topic's next level starts; -1: the topic has no more levels
            int wildcard = 0;
            for (String level : levels) {
                if (at < 0) {
                    return false;
                }
                int end = topic.indexOf('/', at);
                if (end < 0) {
                    end = length;
                }
                if (level == null) {
                    spans[2 * wildcard] = at;
                    spans[2 * wildcard + 1] = end;
                    wildcard++;
                } else if (end - at != level.length() || !topic.startsWith(level, at)) {
                    return false;
                }
                at = end == length ? -1 : end + 1;
            }
            if (rest) {
                // "a/#" matches "a" too: then the # matches nothing
                spans[2 * wildcard] = at < 0 ? length : at;
                spans[2 * wildcard + 1] = length;
                return true;
            }
            return at < 0;
        }
    }

    /**
     * A topic or key template: literal text between references, each a wildcard's match (0-based) or {@link #TOPIC}.
     * Literals of a topic template are sanitised once, here; the matches are sanitised as they are put in.
     */
    private static final class Template {

        static final int TOPIC = -1;

        final String[] literals;
        final int[] references;

        private Template(String[] literals, int[] references) {
            this.literals = literals;
            this.references = references;
        }

        /** @throws IllegalArgumentException with what is wrong, as the end of a sentence naming the template */
        static Template compile(String text, Filter filter) {
            List<String> literals = new ArrayList<>();
            List<Integer> references = new ArrayList<>();
            StringBuilder literal = new StringBuilder();
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c == '}') {
                    throw new IllegalArgumentException("has a '}' without '{'; use {1}, {2}, ... or {topic}");
                }
                if (c != '{') {
                    literal.append(c);
                    continue;
                }
                int close = text.indexOf('}', i);
                if (close < 0) {
                    throw new IllegalArgumentException("has a '{' without '}'; use {1}, {2}, ... or {topic}");
                }
                String name = text.substring(i + 1, close);
                int reference;
                if (name.equals("topic")) {
                    reference = TOPIC;
                } else if (name.matches("[1-9][0-9]{0,8}")) {
                    reference = Integer.parseInt(name) - 1;
                    if (reference >= filter.wildcards) {
                        throw new IllegalArgumentException("names {" + name + "}, but filter \"" + filter.text
                                + "\" has " + (filter.wildcards == 0 ? "no wildcards" : filter.wildcards == 1
                                ? "1 wildcard" : filter.wildcards + " wildcards"));
                    }
                } else {
                    throw new IllegalArgumentException("has an unknown {" + name + "}; use {1}, {2}, ... for what "
                            + "the wildcards matched, or {topic}");
                }
                literals.add(literal.toString());
                references.add(reference);
                literal.setLength(0);
                i = close;
            }
            literals.add(literal.toString());
            return new Template(literals.toArray(new String[0]),
                    references.stream().mapToInt(Integer::intValue).toArray());
        }

        /** The text when the template has no references, else {@code null}. */
        String constant(boolean sanitise) {
            return references.length > 0 ? null : sanitise ? sanitise(literals[0]) : literals[0];
        }

        String render(String topic, int[] spans, boolean sanitise) {
            StringBuilder out = new StringBuilder(topic.length() + 16);
            for (int i = 0; i < references.length; i++) {
                append(out, literals[i], 0, literals[i].length(), sanitise);
                int reference = references[i];
                if (reference == TOPIC) {
                    append(out, topic, 0, topic.length(), sanitise);
                } else {
                    append(out, topic, spans[2 * reference], spans[2 * reference + 1], sanitise);
                }
            }
            String last = literals[references.length];
            append(out, last, 0, last.length(), sanitise);
            return out.toString();
        }

        private static void append(StringBuilder out, String s, int from, int to, boolean sanitise) {
            if (sanitise) {
                appendSanitised(out, s, from, to);
            } else {
                out.append(s, from, to);
            }
        }
    }

    /** Builds the one-line messages, all starting with the setting, its value and the file. */
    private record Problems(String prefix) {

        Settings.Invalid of(String what) {
            // one line, whatever the YAML parser or the file name put in
            return new Settings.Invalid((prefix + what).replaceAll("\\s*\\R\\s*", " "));
        }

        Settings.Invalid at(Node node, String what) {
            return of(line(node).map(l -> "line " + l + ": ").orElse("") + what);
        }

        /** The line named is the one of the offending node, or of the rule when that one has no mark. */
        Settings.Invalid rule(int number, Node rule, Node where, String what) {
            Optional<Integer> line = line(where).or(() -> line(rule));
            return of("rule " + number + line.map(l -> " (line " + l + ")").orElse("") + ": " + what);
        }

        private static Optional<Integer> line(Node node) {
            return node.getStartMark().map(m -> m.getLine() + 1);
        }
    }
}

package dev.metamorphosis;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The rules of TOPIC_MAP: the file, its errors, and what a message's MQTT topic gets. */
class TopicMapTest {

    @TempDir
    Path dir;

    private TopicMap map(String yaml) throws IOException {
        return TopicMap.load("map.yaml", Files.writeString(dir.resolve("map.yaml"), yaml));
    }

    /** The message a bad file gives, without the prefix that names the setting and the file. */
    private String problem(String yaml) throws IOException {
        Path file = Files.writeString(dir.resolve("map.yaml"), yaml);
        String prefix = "TOPIC_MAP=\"map.yaml\" (" + file + "): ";
        try {
            TopicMap.load("map.yaml", file);
        } catch (Settings.Invalid e) {
            assertThat(e.getMessage()).startsWith(prefix).doesNotContain("\n");
            return e.getMessage().substring(prefix.length());
        }
        throw new AssertionError("loaded " + yaml);
    }

    @Test
    void should_let_the_first_matching_rule_decide() throws IOException {
        TopicMap map = map("""
                - filter: "alarms/fire/#"
                  topic: fire
                - filter: "alarms/#"
                  topic: alarms
                - filter: "#"
                  topic: everything
                """);
        assertThat(map.size()).isEqualTo(3);
        assertThat(map.match("alarms/fire/zone-2").rule()).isEqualTo(1);
        assertThat(map.match("alarms/fire/zone-2").topic()).isEqualTo("fire");
        assertThat(map.match("alarms/flood").rule()).isEqualTo(2);
        assertThat(map.match("alarms/flood").filter()).isEqualTo("alarms/#");
        assertThat(map.match("other").topic()).isEqualTo("everything");
    }

    @Test
    void should_match_nothing_when_no_rule_matches() throws IOException {
        TopicMap map = map("""
                - filter: "a/+"
                  topic: t
                - filter: "b/c"
                  topic: t
                """);
        assertThat(map.match("a")).isNull();
        assertThat(map.match("a/b/c")).isNull();
        assertThat(map.match("b")).isNull();
        assertThat(map.match("b/c/d")).isNull();
        assertThat(map.match("b/cc")).isNull();
        assertThat(map.match("B/c")).isNull();
        assertThat(map.match(null)).isNull();
        assertThat(map.match("b/c")).isNotNull();
    }

    @Test
    void should_match_one_level_with_plus_even_an_empty_one() throws IOException {
        TopicMap map = map("""
                - filter: "factory/+/line/+/temperature"
                  topic: "temperature-{1}"
                  key: "{1}/{2}"
                """);
        TopicMap.Match match = map.match("factory/berlin/line/7/temperature");
        assertThat(match.topic()).isEqualTo("temperature-berlin");
        assertThat(match.key()).isEqualTo("berlin/7");
        assertThat(map.match("factory//line/7/temperature").key()).isEqualTo("/7");
        assertThat(map.match("factory//line/7/temperature").topic()).isEqualTo("temperature-");
        assertThat(map.match("factory/a/b/line/7/temperature")).isNull();
        assertThat(map.match("factory/berlin/line/7")).isNull();
    }

    @Test
    void should_match_the_parent_level_and_everything_below_with_hash() throws IOException {
        TopicMap map = map("""
                - filter: "a/#"
                  topic: "t-{1}"
                  key: "[{1}]"
                """);
        assertThat(map.match("a").key()).isEqualTo("[]");
        assertThat(map.match("a/").key()).isEqualTo("[]");
        assertThat(map.match("a/b").key()).isEqualTo("[b]");
        assertThat(map.match("a/b/c").key()).isEqualTo("[b/c]");
        assertThat(map.match("a/b/c").topic()).isEqualTo("t-b_c");
        assertThat(map.match("ab")).isNull();
        assertThat(map.match("b/a")).isNull();
    }

    @Test
    void should_capture_plus_and_hash_together_and_the_whole_topic() throws IOException {
        TopicMap map = map("""
                - filter: "site/+/#"
                  topic: "{1}.{2}"
                  key: "{topic} {2} {1}"
                - filter: "#"
                  topic: "all-{topic}"
                """);
        TopicMap.Match match = map.match("site/s1/room/4");
        assertThat(match.topic()).isEqualTo("s1.room_4");
        assertThat(match.key()).isEqualTo("site/s1/room/4 room/4 s1");
        assertThat(map.match("x/y").topic()).isEqualTo("all-x_y");
    }

    @Test
    void should_not_match_dollar_topics_with_a_filter_that_starts_with_a_wildcard() throws IOException {
        TopicMap map = map("""
                - filter: "#"
                  topic: hash
                - filter: "+/broker/#"
                  topic: plus
                - filter: "$SYS/#"
                  topic: sys
                """);
        assertThat(map.match("$SYS/broker/load").topic()).isEqualTo("sys");
        assertThat(map.match("$other/broker")).isNull();
        assertThat(map.match("a/$SYS").topic()).isEqualTo("hash");
    }

    @Test
    void should_replace_what_kafka_does_not_allow_in_a_topic_name_and_keep_keys_as_they_are() throws IOException {
        TopicMap map = map("""
                - filter: "alarms/#"
                  topic: "alarms-{1}"
                  key: "{1}"
                - filter: "+"
                  topic: "fixed name/ü-{1}"
                  key: "{1}"
                """);
        TopicMap.Match match = map.match("alarms/fire/zone-2");
        assertThat(match.topic()).isEqualTo("alarms-fire_zone-2");
        assertThat(match.key()).isEqualTo("fire/zone-2");
        assertThat(match.valid()).isTrue();
        assertThat(match.invalid()).isNull();
        // one _ per character, a character outside the BMP included
        assertThat(map.match("A.b_c-9 ä\uD83D\uDD25#+").topic()).isEqualTo("fixed_name__-A.b_c-9_____");
        assertThat(map.match("A.b_c-9 ä\uD83D\uDD25#+").key()).isEqualTo("A.b_c-9 ä\uD83D\uDD25#+");
    }

    @Test
    void should_report_a_topic_name_that_is_still_invalid_instead_of_throwing() throws IOException {
        TopicMap map = map("""
                - filter: "x/+"
                  topic: "{1}"
                - filter: "long/+"
                  topic: "p-{1}"
                """);
        TopicMap.Match empty = map.match("x/");
        assertThat(empty.valid()).isFalse();
        assertThat(empty.rule()).isEqualTo(1);
        assertThat(empty.topic()).isEmpty();
        assertThat(empty.invalid()).isEqualTo("the Kafka topic name is empty");
        assertThat(map.match("x/.").invalid()).isEqualTo("the Kafka topic name is \".\", which Kafka does not allow");
        assertThat(map.match("x/..").valid()).isFalse();
        assertThat(map.match("x/...").valid()).isTrue();

        assertThat(map.match("long/" + "a".repeat(247)).valid()).isTrue();
        TopicMap.Match tooLong = map.match("long/" + "a".repeat(248));
        assertThat(tooLong.rule()).isEqualTo(2);
        assertThat(tooLong.topic()).hasSize(250);
        assertThat(tooLong.invalid()).isEqualTo("the Kafka topic name has 250 characters, more than the 249 Kafka "
                + "allows");
    }

    @Test
    void should_leave_the_key_null_without_a_key_template() throws IOException {
        TopicMap map = map("""
                - filter: "a"
                  topic: t
                - filter: "b"
                  topic: t
                  key: ""
                """);
        assertThat(map.match("a").key()).isNull();
        assertThat(map.match("b").key()).isEmpty();
    }

    @Test
    void should_default_to_the_envelope_without_headers_and_raw_with_headers() throws IOException {
        TopicMap map = map("""
                - filter: "envelope"
                  topic: t
                - filter: "raw"
                  topic: t
                  format: raw
                - filter: "raw-without"
                  topic: t
                  format: raw
                  headers: false
                - filter: "envelope-with"
                  topic: t
                  format: Envelope
                  headers: TRUE
                """);
        assertThat(map.match("envelope").format()).isEqualTo(TopicMap.Format.ENVELOPE);
        assertThat(map.match("envelope").headers()).isFalse();
        assertThat(map.match("raw").format()).isEqualTo(TopicMap.Format.RAW);
        assertThat(map.match("raw").headers()).isTrue();
        assertThat(map.match("raw-without").headers()).isFalse();
        assertThat(map.match("envelope-with").format()).isEqualTo(TopicMap.Format.ENVELOPE);
        assertThat(map.match("envelope-with").headers()).isTrue();
    }

    @Test
    void should_read_a_flow_style_list_and_name_the_file_by_its_path_when_given_no_setting() throws IOException {
        Path file = Files.writeString(dir.resolve("flow.yaml"), "[{filter: a, topic: b}]");
        assertThat(TopicMap.load(file).match("a").topic()).isEqualTo("b");
        Files.writeString(file, "[]");
        assertThatThrownBy(() -> TopicMap.load(file)).isInstanceOf(Settings.Invalid.class)
                .hasMessage("TOPIC_MAP=\"" + file + "\" (" + file + "): line 1: the list of rules is empty");
    }

    @Test
    void should_refuse_a_missing_file_or_a_folder() {
        Path missing = dir.resolve("missing.yaml");
        assertThatThrownBy(() -> TopicMap.load("maps/missing.yaml", missing)).isInstanceOf(Settings.Invalid.class)
                .hasMessage("TOPIC_MAP=\"maps/missing.yaml\" (" + missing + "): the file does not exist");
        assertThatThrownBy(() -> TopicMap.load("maps", dir))
                .hasMessage("TOPIC_MAP=\"maps\" (" + dir + "): is a folder, not a file");
    }

    @Test
    void should_refuse_a_file_it_cannot_read() {
        // a file that opens and then fails to read, for every user, root too (who runs CI, and reads a file without
        // read permission): this process's memory read from address 0, which is never mapped, fails with EIO
        Path file = Path.of("/proc/self/mem");
        assertThatThrownBy(() -> TopicMap.load("secret.yaml", file)).hasMessage("TOPIC_MAP=\"secret.yaml\" ("
                + file + "): the file cannot be read: IOException: Input/output error");
    }

    @Test
    void should_refuse_a_file_that_is_not_yaml_naming_the_line() throws IOException {
        assertThat(problem("""
                - filter: a
                  topic: b
                - filter: c
                  topic: [d
                """)).isEqualTo("line 5: not YAML: while parsing a flow sequence, expected ',' or ']', but got "
                + "<stream end>");
        assertThat(problem("""
                - filter: a
                   topic: b: c
                """)).isEqualTo("line 2: not YAML: mapping values are not allowed here");
        assertThat(problem("- a\n---\n- b\n"))
                .isEqualTo("line 2: not YAML: expected a single document in the stream, but found another document");
    }

    @Test
    void should_refuse_bytes_that_are_not_utf_8() throws IOException {
        Path file = Files.write(dir.resolve("map.yaml"), new byte[] {'-', ' ', (byte) 0xff, (byte) 0xfe, 'x'});
        assertThatThrownBy(() -> TopicMap.load("map.yaml", file))
                .hasMessage("TOPIC_MAP=\"map.yaml\" (" + file + "): not YAML: the file is not UTF-8 text");
    }

    @Test
    void should_refuse_an_empty_file_a_file_that_is_not_a_list_and_an_empty_list() throws IOException {
        assertThat(problem("")).isEqualTo("the file is empty; expected a list of rules (- filter: ... topic: ...)");
        assertThat(problem("# only a comment\n"))
                .isEqualTo("the file is empty; expected a list of rules (- filter: ... topic: ...)");
        assertThat(problem("\nfilter: a\ntopic: b\n"))
                .isEqualTo("line 2: expected a list of rules (- filter: ... topic: ...), found a map");
        assertThat(problem("just text"))
                .isEqualTo("line 1: expected a list of rules (- filter: ... topic: ...), found \"just text\"");
        assertThat(problem("# none yet\n[]\n")).isEqualTo("line 2: the list of rules is empty");
    }

    @Test
    void should_refuse_a_rule_that_is_not_a_map() throws IOException {
        assertThat(problem("""
                - filter: a
                  topic: b
                - "c/#"
                """)).isEqualTo("rule 2 (line 3): expected a map with filter and topic, found \"c/#\"");
        assertThat(problem("- [a, b]\n")).isEqualTo("rule 1 (line 1): expected a map with filter and topic, "
                + "found a list");
        assertThat(problem("-\n")).isEqualTo("rule 1 (line 1): expected a map with filter and topic, found nothing");
    }

    @Test
    void should_refuse_an_unknown_or_repeated_key_naming_it() throws IOException {
        assertThat(problem("""
                - filter: a
                  topic: b
                - filter: c
                  topic: d
                  partition: 3
                """)).isEqualTo("rule 2 (line 5): unknown key \"partition\"; a rule has filter, topic, key, format "
                + "and headers");
        assertThat(problem("""
                - filter: a
                  topic: b
                  topic: c
                """)).isEqualTo("rule 1 (line 3): topic is given twice");
    }

    @Test
    void should_refuse_a_rule_without_filter_or_topic() throws IOException {
        assertThat(problem("""
                - filter: a
                  topic: b

                - topic: c
                """)).isEqualTo("rule 2 (line 4): no filter; every rule needs filter and topic");
        assertThat(problem("- filter: a\n")).isEqualTo("rule 1 (line 1): no topic; every rule needs filter and topic");
        assertThat(problem("- filter: a\n  topic:\n"))
                .isEqualTo("rule 1 (line 2): topic must be a single value, not nothing");
        assertThat(problem("- filter: [a, b]\n  topic: c\n"))
                .isEqualTo("rule 1 (line 1): filter must be a single value, not a list");
    }

    @Test
    void should_refuse_a_bad_filter() throws IOException {
        assertThat(problem("""
                - filter: a
                  topic: b
                - filter: "a/#/b"
                  topic: c
                """)).isEqualTo("rule 2 (line 3): filter \"a/#/b\" is not an MQTT topic filter: '#' only as the "
                + "whole last level");
        assertThat(problem("- {filter: \"a+/b\", topic: c}"))
                .isEqualTo("rule 1 (line 1): filter \"a+/b\" is not an MQTT topic filter: '+' only as a whole level");
        assertThat(problem("- {filter: \"a/b#\", topic: c}"))
                .isEqualTo("rule 1 (line 1): filter \"a/b#\" is not an MQTT topic filter: '#' only as the whole "
                        + "last level");
        assertThat(problem("- {filter: \"\", topic: c}"))
                .isEqualTo("rule 1 (line 1): filter \"\" is not an MQTT topic filter: it is empty");
        assertThat(problem("- {filter: \"$share/g/a/#\", topic: c}"))
                .isEqualTo("rule 1 (line 1): filter \"$share/g/a/#\" is not an MQTT topic filter: a shared "
                        + "subscription; a rule matches topics: leave out $share/<group>/ (MQTT_SHARED_GROUP shares "
                        + "the subscriptions)");
    }

    @Test
    void should_refuse_a_template_naming_a_wildcard_the_filter_does_not_have() throws IOException {
        assertThat(problem("""
                - filter: "a/+/+"
                  topic: "t-{3}"
                """)).isEqualTo("rule 1 (line 2): topic \"t-{3}\" names {3}, but filter \"a/+/+\" has 2 wildcards");
        assertThat(problem("""
                - filter: "a/#"
                  topic: "t"
                  key: "{1}{2}"
                """)).isEqualTo("rule 1 (line 3): key \"{1}{2}\" names {2}, but filter \"a/#\" has 1 wildcard");
        assertThat(problem("- {filter: a, topic: \"{1}\"}"))
                .isEqualTo("rule 1 (line 1): topic \"{1}\" names {1}, but filter \"a\" has no wildcards");
    }

    @Test
    void should_refuse_unknown_names_and_stray_braces_in_a_template() throws IOException {
        assertThat(problem("- {filter: \"a/+\", topic: \"t-{name}\"}")).isEqualTo("rule 1 (line 1): topic "
                + "\"t-{name}\" has an unknown {name}; use {1}, {2}, ... for what the wildcards matched, or {topic}");
        assertThat(problem("- {filter: \"a/+\", topic: \"t-{0}\"}")).isEqualTo("rule 1 (line 1): topic "
                + "\"t-{0}\" has an unknown {0}; use {1}, {2}, ... for what the wildcards matched, or {topic}");
        assertThat(problem("- {filter: \"a/+\", topic: t, key: \"{{1}}\"}")).isEqualTo("rule 1 (line 1): key "
                + "\"{{1}}\" has an unknown {{1}; use {1}, {2}, ... for what the wildcards matched, or {topic}");
        assertThat(problem("- {filter: \"a/+\", topic: \"t}}\"}"))
                .isEqualTo("rule 1 (line 1): topic \"t}}\" has a '}' without '{'; use {1}, {2}, ... or {topic}");
        assertThat(problem("- {filter: \"a/+\", topic: \"t-{1\"}"))
                .isEqualTo("rule 1 (line 1): topic \"t-{1\" has a '{' without '}'; use {1}, {2}, ... or {topic}");
    }

    @Test
    void should_refuse_a_fixed_topic_that_cannot_be_a_kafka_topic_name() throws IOException {
        assertThat(problem("- {filter: a, topic: \"\"}"))
                .isEqualTo("rule 1 (line 1): topic \"\": the Kafka topic name is empty");
        assertThat(problem("- {filter: a, topic: \"..\"}"))
                .isEqualTo("rule 1 (line 1): topic \"..\": the Kafka topic name is \"..\", which Kafka does not allow");
        assertThat(problem("- {filter: a, topic: \"" + "t".repeat(250) + "\"}")).isEqualTo("rule 1 (line 1): topic \""
                + "t".repeat(250) + "\": the Kafka topic name has 250 characters, more than the 249 Kafka allows");
    }

    @Test
    void should_refuse_an_unknown_format_and_headers_that_are_not_a_boolean() throws IOException {
        assertThat(problem("""
                - filter: a
                  topic: b
                  format: json
                """)).isEqualTo("rule 1 (line 3): unknown format \"json\"; expected envelope or raw");
        assertThat(problem("""
                - filter: a
                  topic: b
                - filter: c
                  topic: d

                  headers: yes
                """)).isEqualTo("rule 2 (line 6): headers must be true or false, not \"yes\"");
    }

    @Test
    void should_keep_every_message_on_one_line() throws IOException {
        Path file = Files.writeString(dir.resolve("odd\nname.yaml"), "- {filter: a, topic: b, x: 1}",
                StandardCharsets.UTF_8);
        assertThatThrownBy(() -> TopicMap.load("odd\nname.yaml", file)).hasMessageNotContaining("\n")
                .hasMessageEndingWith("rule 1 (line 1): unknown key \"x\"; a rule has filter, topic, key, format and "
                        + "headers");
    }
}

package dev.metamorphosis;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The envelope escapes topics as Go's encoding/json does; expected strings are written out by hand. */
class EnvelopeTest {

    private static String wrap(String topic, byte[] payload) {
        return new String(Envelope.wrap(topic, payload), StandardCharsets.UTF_8);
    }

    @Test
    void should_match_the_samples_seen_from_the_go_version() {
        assertThat(wrap("test/env/<x>&ü", new byte[] {'z'}))
                .isEqualTo("{\"topic\":\"test/env/\\u003cx\\u003e\\u0026ü\",\"content\":\"eg==\"}");
        assertThat(wrap("t", new byte[] {0x00, 0x01, (byte) 0xff, (byte) 0xfe, 0x22, 0x3c, 0x3e, 0x26, 0x0a}))
                .isEqualTo("{\"topic\":\"t\",\"content\":\"AAH//iI8PiYK\"}");
    }

    @Test
    void should_write_an_empty_payload_as_empty_content() {
        assertThat(wrap("a", new byte[0])).isEqualTo("{\"topic\":\"a\",\"content\":\"\"}");
        assertThat(wrap("a", null)).isEqualTo("{\"topic\":\"a\",\"content\":\"\"}");
    }

    @Test
    void should_escape_control_characters_as_go_does() {
        assertThat(Envelope.escape("\n\r\t")).isEqualTo("\\n\\r\\t");
        assertThat(Envelope.escape("\u0000\u0001\b\f\u001f")).isEqualTo("\\u0000\\u0001\\u0008\\u000c\\u001f");
        assertThat(Envelope.escape("\"\\")).isEqualTo("\\\"\\\\");
        assertThat(Envelope.escape("\u007f/é")).isEqualTo("\u007f/é");
    }

    @Test
    void should_escape_line_and_paragraph_separators_and_lone_surrogates() {
        assertThat(Envelope.escape("a\u2028b\u2029c")).isEqualTo("a\\u2028b\\u2029c");
        assertThat(Envelope.escape("x\ud800y")).isEqualTo("x\\ufffdy");
        assertThat(Envelope.escape("\udc00")).isEqualTo("\\ufffd");
        assertThat(Envelope.escape("🌍<")).isEqualTo("🌍\\u003c");
    }

    @Test
    void should_not_break_long_base64_content_into_lines() {
        String envelope = wrap("a", new byte[3000]);
        assertThat(envelope.indexOf('\n')).isEqualTo(-1);
        assertThat(envelope.indexOf('\r')).isEqualTo(-1);
        assertThat(envelope.length()).isEqualTo("{\"topic\":\"a\",\"content\":\"\"}".length() + 4000);
    }
}

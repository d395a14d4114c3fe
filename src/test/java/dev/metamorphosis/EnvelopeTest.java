package dev.metamorphosis;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Random;

import dev.metamorphosis.it.Tools;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The envelope escapes topics as Go's encoding/json does (expected strings written out by hand), and its Base64 is the
 * JDK's byte for byte, whichever encoder writes it.
 */
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

    @Test
    void should_encode_content_exactly_as_the_jdk_encoder_at_every_length() {
        Random random = new Random(15);
        for (int length = 0; length <= 1_100; length++) {
            byte[] payload = new byte[length];
            random.nextBytes(payload);
            assertEncodedAsTheJdk(payload);
        }
        byte[] every = new byte[3 * 256 + 10_240];
        for (int i = 0; i < every.length; i++) {
            every[i] = (byte) (i < 768 ? i / 3 : i); // each byte value in each of the three positions, then 10 KiB
        }
        assertEncodedAsTheJdk(every);
    }

    @Test
    void should_carry_the_payload_whichever_encoder_the_jvm_favours() {
        byte[] payload = new byte[10_241];
        new Random(16).nextBytes(payload);
        String envelope = wrap("a/b", payload);
        String content = envelope.substring(envelope.indexOf("\"content\":\"") + 11, envelope.length() - 2);
        assertThat(Base64.getDecoder().decode(content)).isEqualTo(payload);
        assertThat(envelope).startsWith("{\"topic\":\"a/b\",\"content\":\"").endsWith("\"}");
    }

    @Test
    void should_take_the_jdk_encoder_exactly_where_this_jvm_vectorizes_it() {
        String flags = Tools.run(null, List.of(Tools.jdk("java").toString(), "-XX:+PrintFlagsFinal", "-version"));
        String flag = flags.lines().filter(l -> l.contains(" UseBASE64Intrinsics ")).findFirst().orElseThrow();
        assertThat(Envelope.JDK_ENCODER_VECTORIZED).as(flag).isEqualTo(flag.matches(".*= true\\b.*"));
    }

    private static void assertEncodedAsTheJdk(byte[] payload) {
        byte[] expected = Base64.getEncoder().encode(payload);
        byte[] out = new byte[3 + expected.length + 2];
        int end = Envelope.encode(payload, out, 3);
        assertThat(end).as("end, %d bytes", payload.length).isEqualTo(3 + expected.length);
        assertThat(Arrays.copyOfRange(out, 3, end)).as("%d bytes", payload.length).isEqualTo(expected);
        assertThat(out[end]).as("past the end, %d bytes", payload.length).isZero();
    }
}

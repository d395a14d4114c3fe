package dev.metamorphosis;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The Kafka record value: {@code {"topic":"<mqtt topic>","content":"<base64 of the payload>"}}, byte for byte as the
 * Go version's {@code encoding/json} writes it.
 * <p>
 * The topic is escaped as Go escapes strings: {@code "} and {@code \} with a backslash; {@code \n}, {@code \r} and
 * {@code \t} short; other control characters, {@code <}, {@code >}, {@code &}, U+2028 and U+2029 as {@code \}{@code
 * u00xx} (lower-case hex); a lone surrogate as {@code \}{@code ufffd}; everything else as raw UTF-8. The content is
 * standard base64 with padding and no line breaks.
 * <p>
 * {@link Mapping} makes it the value of every record but those of raw rules of {@code TOPIC_MAP}.
 */
public final class Envelope {

    private Envelope() {
    }

    private static final byte[] HEAD = "{\"topic\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] MIDDLE = "\",\"content\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TAIL = "\"}".getBytes(StandardCharsets.US_ASCII);
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /** Builds the envelope of one MQTT message. */
    public static byte[] wrap(String topic, byte[] payload) {
        byte[] name = escape(topic == null ? "" : topic).getBytes(StandardCharsets.UTF_8);
        byte[] content = Base64.getEncoder().encode(payload == null ? new byte[0] : payload);
        byte[] out = new byte[HEAD.length + name.length + MIDDLE.length + content.length + TAIL.length];
        int at = 0;
        System.arraycopy(HEAD, 0, out, at, HEAD.length);
        at += HEAD.length;
        System.arraycopy(name, 0, out, at, name.length);
        at += name.length;
        System.arraycopy(MIDDLE, 0, out, at, MIDDLE.length);
        at += MIDDLE.length;
        System.arraycopy(content, 0, out, at, content.length);
        at += content.length;
        System.arraycopy(TAIL, 0, out, at, TAIL.length);
        return out;
    }

    static String escape(String s) {
        StringBuilder out = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String escaped = null;
            if (c == '"' || c == '\\') {
                escaped = "\\" + c;
            } else if (c == '\n') {
                escaped = "\\n";
            } else if (c == '\r') {
                escaped = "\\r";
            } else if (c == '\t') {
                escaped = "\\t";
            } else if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == '\u2028' || c == '\u2029') {
                escaped = unicode(c);
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                if (out != null) {
                    out.append(c).append(s.charAt(i + 1));
                }
                i++;
                continue;
            } else if (Character.isSurrogate(c)) {
                escaped = "\\ufffd";
            }
            if (escaped != null && out == null) {
                out = new StringBuilder(s.length() + 16).append(s, 0, i);
            }
            if (out != null) {
                if (escaped != null) {
                    out.append(escaped);
                } else {
                    out.append(c);
                }
            }
        }
        return out == null ? s : out.toString();
    }

    private static String unicode(char c) {
        return new String(new char[] {'\\', 'u', HEX[c >> 12 & 0xf], HEX[c >> 8 & 0xf], HEX[c >> 4 & 0xf], HEX[c & 0xf]});
    }
}

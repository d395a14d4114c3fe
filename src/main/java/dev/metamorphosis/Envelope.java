package dev.metamorphosis;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.management.ManagementFactory;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

import com.sun.management.HotSpotDiagnosticMXBean;

/**
 * The Kafka record value: {@code {"topic":"<mqtt topic>","content":"<base64 of the payload>"}}, byte for byte as the
 * Go version's {@code encoding/json} writes it.
 * <p>
 * The topic is escaped as Go escapes strings: {@code "} and {@code \} with a backslash; {@code \n}, {@code \r} and
 * {@code \t} short; other control characters, {@code <}, {@code >}, {@code &}, U+2028 and U+2029 as {@code \}{@code
 * u00xx} (lower-case hex); a lone surrogate as {@code \}{@code ufffd}; everything else as raw UTF-8. The content is
 * standard base64 with padding and no line breaks, written in place by {@link #encode} unless the JVM compiles the
 * JDK's encoder to vector instructions.
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
    private static final byte[] NONE = new byte[0];

    private static final byte[] ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
            .getBytes(StandardCharsets.US_ASCII);
    /** The two base64 characters of each 12 bits, the first in the high byte. */
    private static final char[] PAIRS = new char[4096];
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);

    static {
        for (int bits = 0; bits < PAIRS.length; bits++) {
            PAIRS[bits] = (char) (ALPHABET[bits >> 6] << 8 | ALPHABET[bits & 63]);
        }
    }

    /**
     * Whether the JVM compiles the JDK's encoder to vector instructions (Java 17: on x86 with AVX-512, and on aarch64).
     * Elsewhere the JDK's encoder takes 3 bytes at a time, and {@link #encode} about half its time, with no copy.
     */
    static final boolean JDK_ENCODER_VECTORIZED = jdkEncoderVectorized();

    /** Builds the envelope of one MQTT message. */
    public static byte[] wrap(String topic, byte[] payload) {
        byte[] name = escape(topic == null ? "" : topic).getBytes(StandardCharsets.UTF_8);
        byte[] data = payload == null ? NONE : payload;
        byte[] out = new byte[HEAD.length + name.length + MIDDLE.length + (data.length + 2) / 3 * 4 + TAIL.length];
        int at = 0;
        System.arraycopy(HEAD, 0, out, at, HEAD.length);
        at += HEAD.length;
        System.arraycopy(name, 0, out, at, name.length);
        at += name.length;
        System.arraycopy(MIDDLE, 0, out, at, MIDDLE.length);
        at += MIDDLE.length;
        if (JDK_ENCODER_VECTORIZED) {
            byte[] content = Base64.getEncoder().encode(data);
            System.arraycopy(content, 0, out, at, content.length);
            at += content.length;
        } else {
            at = encode(data, out, at);
        }
        System.arraycopy(TAIL, 0, out, at, TAIL.length);
        return out;
    }

    /**
     * Writes the standard base64 of {@code data}, padded, into {@code out} from {@code at}; returns where it ends. Six
     * bytes at a time become eight characters, through a table of the two characters of each 12 bits.
     */
    static int encode(byte[] data, byte[] out, int at) {
        int i = 0;
        // reads 8 bytes to use 6, so it stops 8 before the end
        for (; i + 8 <= data.length; i += 6, at += 8) {
            long bits = (long) LONG.get(data, i);
            LONG.set(out, at, (long) PAIRS[(int) (bits >>> 52) & 0xfff] << 48
                              | (long) PAIRS[(int) (bits >>> 40) & 0xfff] << 32
                              | (long) PAIRS[(int) (bits >>> 28) & 0xfff] << 16
                              | PAIRS[(int) (bits >>> 16) & 0xfff]);
        }
        for (; i + 3 <= data.length; i += 3, at += 4) {
            int bits = (data[i] & 0xff) << 16 | (data[i + 1] & 0xff) << 8 | data[i + 2] & 0xff;
            INT.set(out, at, PAIRS[bits >>> 12] << 16 | PAIRS[bits & 0xfff]);
        }
        if (i < data.length) {
            int first = data[i] & 0xff;
            int second = i + 1 < data.length ? data[i + 1] & 0xff : 0;
            out[at++] = ALPHABET[first >> 2];
            out[at++] = ALPHABET[(first << 4 | second >> 4) & 63];
            out[at++] = i + 1 < data.length ? ALPHABET[second << 2 & 63] : (byte) '=';
            out[at++] = '=';
        }
        return at;
    }

    private static boolean jdkEncoderVectorized() {
        try {
            return Boolean.parseBoolean(ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
                    .getVMOption("UseBASE64Intrinsics").getValue());
        } catch (RuntimeException | LinkageError e) {
            return false; // not HotSpot, or without jdk.management: the bridge's own encoder
        }
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

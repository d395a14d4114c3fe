package dev.metamorphosis.bench;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

/**
 * What the benchmark's publisher writes at the start of every payload, in ASCII so that it survives any path: the
 * publishing connection, its sequence number and the wall-clock millisecond of the publish, then filler.
 */
record Stamp(int connection, int seq, long publishedMillis) {

    /** Bytes of the stamp: "cc sssssssss tttttttttttttt " */
    static final int LENGTH = 28;

    /** Writes the stamp over the first bytes of a payload (of at least {@link #LENGTH} bytes). */
    static void write(byte[] payload, int connection, int seq, long millis) {
        byte[] text = String.format("%2d %9d %14d ", connection, seq, millis).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(text, 0, payload, 0, LENGTH);
    }

    /** A payload of the given size, filled, ready for {@link #write}. */
    static byte[] payload(int size) {
        byte[] payload = new byte[Math.max(size, LENGTH)];
        Arrays.fill(payload, (byte) 'x');
        return payload;
    }

    static Stamp read(byte[] payload, int offset) {
        String text = new String(payload, offset, LENGTH, StandardCharsets.US_ASCII).strip();
        String[] parts = text.split(" +");
        return new Stamp(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]), Long.parseLong(parts[2]));
    }

    /** The stamp of a Kafka record value, an envelope {"topic":"...","content":"<base64>"}: decodes only the start. */
    static Stamp ofEnvelope(byte[] envelope, int contentAt) {
        // 40 base64 characters are 30 bytes, enough for the stamp
        byte[] head = Base64.getDecoder().decode(Arrays.copyOfRange(envelope, contentAt, contentAt + 40));
        return read(head, 0);
    }
}

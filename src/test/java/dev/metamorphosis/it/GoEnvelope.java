package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A record value as the bridge writes it by default, the Go version's envelope
 * {@code {"topic":"<MQTT topic>","content":"<payload in base64>"}}: the one parser of it the tests use. Strict: a JSON
 * object of exactly those two string fields, the content standard base64 without line breaks.
 */
public record GoEnvelope(String topic, byte[] content) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Parses a record value; fails (with the value) when it is not such an envelope. */
    public static GoEnvelope parse(byte[] value) {
        String text = new String(value, StandardCharsets.UTF_8);
        try {
            JsonNode node = JSON.readTree(value);
            List<String> fields = new java.util.ArrayList<>();
            node.fieldNames().forEachRemaining(fields::add);
            if (!fields.equals(List.of("topic", "content")) || !node.get("topic").isTextual()
                    || !node.get("content").isTextual()) {
                throw new AssertionError("not an envelope of topic and content: " + text);
            }
            return new GoEnvelope(node.get("topic").textValue(),
                    Base64.getDecoder().decode(node.get("content").textValue()));
        } catch (IOException | IllegalArgumentException e) {
            throw new AssertionError("not an envelope: " + text, e);
        }
    }

    /** The payload as UTF-8 text. */
    public String text() {
        return new String(content, StandardCharsets.UTF_8);
    }
}

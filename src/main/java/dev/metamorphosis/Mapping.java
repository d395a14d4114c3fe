package dev.metamorphosis;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.LongAdder;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.component.paho.mqtt5.PahoMqtt5Constants;
import org.apache.camel.spi.OnCamelContextStarting;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/**
 * Makes the Kafka record of an MQTT message (the ingest routes' first step): the first rule of {@code TOPIC_MAP}
 * whose filter matches the MQTT topic decides the record's Kafka topic, key, value (the Go envelope or the raw
 * payload) and headers (the message's MQTT metadata); a message no rule matches, and every message without
 * {@code TOPIC_MAP}, becomes the Go envelope for {@code KAFKA_TOPIC}, keyed as {@code KAFKA_KEY} says, without headers.
 * <p>
 * A rule whose Kafka topic comes out invalid for this message (empty, over 249 characters) sends the message to
 * {@code DEAD_LETTER_TOPIC} instead, naming the rule ({@link DeadLetter#redirect}), or drops it, counted and logged;
 * the stream goes on.
 */
public final class Mapping implements Processor, OnCamelContextStarting {

    static final String RETAINED = "CamelMqttRetained";

    private final LongAdder unmatched = new LongAdder();
    private volatile TopicMap map;
    private boolean keyByTopic;
    private DeadLetter deadLetter;

    @Override
    public void onContextStarting(CamelContext context) {
        String file = context.resolvePropertyPlaceholders("{{derived.topic-map}}");
        map = file.isEmpty() ? null
                : TopicMap.load(context.resolvePropertyPlaceholders("{{topic.map}}"), Path.of(file));
        keyByTopic = "topic".equals(context.resolvePropertyPlaceholders("{{kafka.key}}"));
    }

    public void setDeadLetter(DeadLetter deadLetter) {
        this.deadLetter = deadLetter;
    }

    @Override
    public void process(Exchange exchange) {
        Message message = exchange.getMessage();
        String topic = message.getHeader(PahoMqtt5Constants.MQTT_TOPIC, String.class);
        byte[] payload = message.getBody(byte[].class);
        TopicMap.Match match = map == null ? null : map.match(topic);
        try {
            record(exchange, message, topic, payload, match);
        } finally {
            // the MQTT metadata is not needed further: less memory for each message the spool holds (each removed by
            // its name: a pattern would be matched as a regular expression against every header)
            message.removeHeader(PahoMqtt5Constants.MQTT_QOS);
            message.removeHeader(PahoMqtt5Constants.CAMEL_PAHO_MSG_PROPERTIES);
            message.removeHeader(RETAINED);
        }
    }

    private void record(Exchange exchange, Message message, String topic, byte[] payload, TopicMap.Match match) {
        if (match == null) {
            if (map != null) {
                unmatched.increment();
            }
            message.setBody(Envelope.wrap(topic, payload));
            if (keyByTopic) {
                message.setHeader(KafkaConstants.KEY, topic);
            }
            return;
        }
        message.setBody(match.format() == TopicMap.Format.RAW ? payload == null ? new byte[0] : payload
                : Envelope.wrap(topic, payload));
        if (!match.valid()) {
            // to the dead-letter topic through the spool like any record (so never lost, never holding MQTT up while
            // Kafka is down), or dropped, counted and logged when DEAD_LETTER_TOPIC is not set
            if (!deadLetter.redirect(exchange, "TOPIC_MAP rule " + match.rule() + " (" + match.filter() + ") gives "
                    + "Kafka topic \"" + match.topic() + "\", which is not a valid name: " + match.invalid())) {
                Spool.runCompletions(exchange);
                exchange.setRouteStop(true);
            }
            return;
        }
        message.setHeader(KafkaConstants.OVERRIDE_TOPIC, match.topic());
        String key = match.key() != null ? match.key() : keyByTopic ? topic : null;
        if (key != null) {
            message.setHeader(KafkaConstants.KEY, key);
        }
        if (match.headers()) {
            headers(message, topic);
        }
    }

    /**
     * The MQTT metadata of the message as headers of its record, as UTF-8 bytes (camel-kafka would encode a String
     * in the JVM's default charset, which is ASCII where no locale is set).
     */
    private static void headers(Message message, String topic) {
        message.setHeader("mqtt.topic", utf8(topic));
        message.setHeader("mqtt.qos", utf8(String.valueOf(message.getHeader(PahoMqtt5Constants.MQTT_QOS))));
        message.setHeader("mqtt.retain", utf8(String.valueOf(Boolean.TRUE.equals(message.getHeader(RETAINED)))));
        MqttProperties p = message.getHeader(PahoMqtt5Constants.CAMEL_PAHO_MSG_PROPERTIES, MqttProperties.class);
        if (p == null) {
            return;
        }
        if (p.getContentType() != null) {
            message.setHeader("mqtt.content-type", utf8(p.getContentType()));
        }
        if (p.getCorrelationData() != null) {
            message.setHeader("mqtt.correlation-data", p.getCorrelationData());
        }
        if (p.getResponseTopic() != null) {
            message.setHeader("mqtt.response-topic", utf8(p.getResponseTopic()));
        }
        if (p.getPayloadFormat()) {
            message.setHeader("mqtt.payload-format", utf8("1"));
        }
        if (p.getMessageExpiryInterval() != null) {
            message.setHeader("mqtt.message-expiry", utf8(String.valueOf(p.getMessageExpiryInterval())));
        }
        if (p.getUserProperties() != null && !p.getUserProperties().isEmpty()) {
            message.setHeader(UserProperties.CARRIER, UserProperties.encode(p.getUserProperties()));
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Messages no rule of TOPIC_MAP matched, since start. */
    public long unmatched() {
        return unmatched.sum();
    }
}

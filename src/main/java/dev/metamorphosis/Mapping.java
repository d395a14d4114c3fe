package dev.metamorphosis;

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
 * A rule whose Kafka topic comes out invalid for this message (empty, over 249 characters) sets the message aside
 * ({@link DeadLetter}) naming the rule; its route stops there and the stream goes on.
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
        deadLetter = context.getRegistry().lookupByNameAndType("deadLetter", DeadLetter.class);
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
            deadLetter.setAside(exchange, "TOPIC_MAP rule " + match.rule() + " (" + match.filter() + ") gives "
                    + "Kafka topic \"" + match.topic() + "\", which is not a valid name: " + match.invalid());
            Spool.acknowledge(exchange);
            exchange.setRouteStop(true);
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

    /** The MQTT metadata of the message as headers of its record. */
    private static void headers(Message message, String topic) {
        message.setHeader("mqtt.topic", topic);
        message.setHeader("mqtt.qos", String.valueOf(message.getHeader(PahoMqtt5Constants.MQTT_QOS)));
        message.setHeader("mqtt.retain", String.valueOf(Boolean.TRUE.equals(message.getHeader(RETAINED))));
        MqttProperties p = message.getHeader(PahoMqtt5Constants.CAMEL_PAHO_MSG_PROPERTIES, MqttProperties.class);
        if (p == null) {
            return;
        }
        if (p.getContentType() != null) {
            message.setHeader("mqtt.content-type", p.getContentType());
        }
        if (p.getCorrelationData() != null) {
            message.setHeader("mqtt.correlation-data", p.getCorrelationData());
        }
        if (p.getResponseTopic() != null) {
            message.setHeader("mqtt.response-topic", p.getResponseTopic());
        }
        if (p.getPayloadFormat()) {
            message.setHeader("mqtt.payload-format", "1");
        }
        if (p.getMessageExpiryInterval() != null) {
            message.setHeader("mqtt.message-expiry", String.valueOf(p.getMessageExpiryInterval()));
        }
        if (p.getUserProperties() != null && !p.getUserProperties().isEmpty()) {
            message.setHeader(UserProperties.CARRIER, UserProperties.encode(p.getUserProperties()));
        }
    }

    /** Messages no rule of TOPIC_MAP matched, since start. */
    public long unmatched() {
        return unmatched.sum();
    }
}

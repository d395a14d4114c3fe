package dev.metamorphosis;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.kafka.KafkaConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Messages Kafka refuses for good (too large, invalid) are set aside here: counted, logged with their MQTT topic and
 * size, and written to {@code DEAD_LETTER_TOPIC} (route {@code kafka-dead-letter}, headers
 * {@code metamorphosis-mqtt-topic} and {@code metamorphosis-error}), or dropped when that is not set.
 */
public final class DeadLetter implements CamelContextAware {

    private static final Logger LOG = LoggerFactory.getLogger("kafka");

    private final AtomicLong count = new AtomicLong();
    private CamelContext context;
    private ProducerTemplate producer;
    private String topic = "";

    /** Sets the record (an envelope) aside, for the given reason. */
    public void setAside(Exchange record, String reason) {
        count.incrementAndGet();
        byte[] envelope = record.getMessage().getBody(byte[].class);
        String mqttTopic = record.getMessage().getHeader("CamelMqttTopic", String.class);
        int size = envelope == null ? 0 : envelope.length;
        if (topic.isEmpty()) {
            LOG.warn("Kafka refuses a message for good and it was dropped (DEAD_LETTER_TOPIC is not set): MQTT topic "
                     + "{}, envelope of {} bytes: {}", mqttTopic, size, reason);
            return;
        }
        Exception failed = producer().send("direct:kafka-dead-letter", e -> {
            e.getMessage().setBody(envelope);
            // UTF-8 bytes: camel-kafka would encode a String in the JVM's default charset
            e.getMessage().setHeader("metamorphosis-mqtt-topic", mqttTopic == null ? null
                    : mqttTopic.getBytes(StandardCharsets.UTF_8));
            e.getMessage().setHeader("metamorphosis-error", reason.getBytes(StandardCharsets.UTF_8));
        }).getException();
        if (failed == null) {
            LOG.warn("Kafka refuses a message for good; it went to dead-letter topic {}: MQTT topic {}, envelope of "
                     + "{} bytes: {}", topic, mqttTopic, size, reason);
        } else {
            LOG.error("Kafka refuses a message for good and the dead-letter topic {} did not take it either, so it "
                      + "was dropped: MQTT topic {}, envelope of {} bytes: {}; dead-letter write: {}", topic,
                    mqttTopic, size, reason, Bridge.causeOf(failed));
        }
    }

    /**
     * Sends a message that cannot go where it was meant to (see {@link Mapping}) on its way to
     * {@code DEAD_LETTER_TOPIC} instead, as a record like any other: through the spool, retried while Kafka is down.
     * Returns false when that topic is not set: the message is to be dropped (it is counted and logged here).
     */
    public boolean redirect(Exchange record, String reason) {
        count.incrementAndGet();
        String mqttTopic = record.getMessage().getHeader("CamelMqttTopic", String.class);
        if (topic.isEmpty()) {
            LOG.warn("A message was dropped (DEAD_LETTER_TOPIC is not set): MQTT topic {}: {}", mqttTopic, reason);
            return false;
        }
        record.getMessage().setHeader(KafkaConstants.OVERRIDE_TOPIC, topic);
        record.getMessage().setHeader("metamorphosis-mqtt-topic", mqttTopic.getBytes(StandardCharsets.UTF_8));
        record.getMessage().setHeader("metamorphosis-error", reason.getBytes(StandardCharsets.UTF_8));
        LOG.warn("A message goes to dead-letter topic {}: MQTT topic {}: {}", topic, mqttTopic, reason);
        return true;
    }

    /** Messages set aside since start. */
    public long count() {
        return count.get();
    }

    private ProducerTemplate producer() {
        if (producer == null) {
            producer = context.createProducerTemplate();
        }
        return producer;
    }

    public void setTopic(String topic) {
        this.topic = topic == null ? "" : topic;
    }

    @Override
    public void setCamelContext(CamelContext camelContext) {
        this.context = camelContext;
    }

    @Override
    public CamelContext getCamelContext() {
        return context;
    }
}

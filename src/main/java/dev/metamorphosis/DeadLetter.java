package dev.metamorphosis;

import java.util.concurrent.atomic.AtomicLong;

import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
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
            e.getMessage().setHeader("metamorphosis-mqtt-topic", mqttTopic);
            e.getMessage().setHeader("metamorphosis-error", reason);
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

package dev.metamorphosis;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs before each redelivery of a batch Kafka did not take (route configuration {@code kafka-retry}).
 * <p>
 * Kafka acknowledged the records before the first failed one (the producer reports them in order): they leave the
 * batch, so the retry does not write them twice. If the failed record is one Kafka refuses for good (too large,
 * invalid), it is set aside: counted, logged with its MQTT topic and size, and written to {@code DEAD_LETTER_TOPIC}
 * (route {@code kafka-dead-letter}) or dropped when that is not set; the rest of the batch goes on.
 */
public final class Redelivery implements Processor, CamelContextAware {

    private static final Logger LOG = LoggerFactory.getLogger("kafka");

    private final AtomicLong setAside = new AtomicLong();
    private CamelContext context;
    private ProducerTemplate producer;
    private String deadLetterTopic = "";

    @Override
    @SuppressWarnings("unchecked")
    public void process(Exchange batch) {
        List<Exchange> records = batch.getMessage().getBody(List.class);
        List<?> written = (List<?>) batch.getMessage().removeHeader(KafkaConstants.KAFKA_RECORD_META);
        if (records == null) {
            return;
        }
        int done = written == null ? 0 : Math.min(written.size(), records.size());
        if (done > 0) {
            List<Exchange> inKafka = new ArrayList<>(records.subList(0, done));
            records.subList(0, done).clear();
            spool().release(inKafka);
        }
        Throwable cause = batch.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        if (!records.isEmpty() && refusedForGood(cause)) {
            Exchange poison = records.remove(0);
            setAside(poison, cause);
            spool().release(List.of(poison));
        }
    }

    static boolean refusedForGood(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof RecordTooLargeException || t instanceof RecordBatchTooLargeException
                    || t instanceof InvalidRecordException) {
                return true;
            }
        }
        return false;
    }

    private void setAside(Exchange poison, Throwable cause) {
        setAside.incrementAndGet();
        byte[] envelope = poison.getMessage().getBody(byte[].class);
        String topic = poison.getMessage().getHeader("CamelMqttTopic", String.class);
        String reason = Bridge.causeOf(cause);
        int size = envelope == null ? 0 : envelope.length;
        if (deadLetterTopic.isEmpty()) {
            LOG.warn("Kafka refused a message for good and it was dropped (DEAD_LETTER_TOPIC is not set): MQTT topic "
                     + "{}, envelope of {} bytes: {}", topic, size, reason);
            return;
        }
        try {
            Exception failed = producer().send("direct:kafka-dead-letter", e -> {
                e.getMessage().setBody(envelope);
                e.getMessage().setHeader("metamorphosis-mqtt-topic", topic);
                e.getMessage().setHeader("metamorphosis-error", reason);
            }).getException();
            if (failed != null) {
                throw failed;
            }
            LOG.warn("Kafka refused a message for good; it went to dead-letter topic {}: MQTT topic {}, envelope of "
                     + "{} bytes: {}", deadLetterTopic, topic, size, reason);
        } catch (Exception e) {
            LOG.error("Kafka refused a message for good and the dead-letter topic {} did not take it either, so it "
                      + "was dropped: MQTT topic {}, envelope of {} bytes: {}; dead-letter write: {}", deadLetterTopic,
                    topic, size, reason, Bridge.causeOf(e));
        }
    }

    private Spool spool() {
        return context.getRegistry().lookupByNameAndType("spool", Spool.class);
    }

    private ProducerTemplate producer() {
        if (producer == null) {
            producer = context.createProducerTemplate();
        }
        return producer;
    }

    /** Messages Kafka refused for good, set aside since start. */
    public long setAside() {
        return setAside.get();
    }

    public void setDeadLetterTopic(String deadLetterTopic) {
        this.deadLetterTopic = deadLetterTopic == null ? "" : deadLetterTopic;
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

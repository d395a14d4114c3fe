package dev.metamorphosis;

import java.util.ArrayList;
import java.util.List;

import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.component.kafka.KafkaComponent;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;

/**
 * Runs before each redelivery of a batch Kafka did not take (route configuration {@code kafka-retry}).
 * <p>
 * The records Kafka acknowledged leave the batch, so the retry does not write them twice: camel-kafka marks those
 * before the first failed one with their record metadata, and {@link KafkaClients} those after it. If the failed
 * record is one Kafka refuses for good (too large, invalid), it is set aside (see {@link DeadLetter}) and the rest of
 * the batch goes on. A record's own Kafka topic and timestamp (headers {@code kafka.OVERRIDE_TOPIC},
 * {@code kafka.OVERRIDE_TIMESTAMP}, which camel-kafka takes off) are put back for the retry.
 */
public final class Redelivery implements Processor {

    private Spool spool;
    private Metrics metrics;
    private DeadLetter deadLetter;

    @Override
    @SuppressWarnings("unchecked")
    public void process(Exchange batch) {
        List<Exchange> records = batch.getMessage().getBody(List.class);
        if (records == null) {
            return;
        }
        // the producer marks each record Kafka acknowledged, up to the first that failed; the records after that one
        // Kafka acknowledged too (another partition) are marked the same way
        if (batch.getContext().getComponent("kafka", KafkaComponent.class).getKafkaClientFactory()
                instanceof KafkaClients kafka) {
            kafka.markWritten(records);
        }
        List<Exchange> inKafka = new ArrayList<>();
        records.removeIf(r -> r.getMessage().getHeader(KafkaConstants.KAFKA_RECORD_META) != null && inKafka.add(r));
        if (!inKafka.isEmpty()) {
            metrics.recordsWritten(inKafka);
            spool.release(inKafka);
        }
        for (Exchange record : records) {
            Object topic = record.getProperty(Batch.TOPIC);
            if (topic != null) {
                record.getMessage().setHeader(KafkaConstants.OVERRIDE_TOPIC, topic);
            }
            record.getMessage().setHeader(KafkaConstants.OVERRIDE_TIMESTAMP, Spool.arrived(record));
        }
        Throwable cause = batch.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        if (!records.isEmpty() && refusedForGood(cause)) {
            Exchange poison = records.remove(0);
            deadLetter.setAside(poison, Bridge.causeOf(cause));
            spool.release(List.of(poison));
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

    public void setSpool(Spool spool) {
        this.spool = spool;
    }

    public void setMetrics(Metrics metrics) {
        this.metrics = metrics;
    }

    public void setDeadLetter(DeadLetter deadLetter) {
        this.deadLetter = deadLetter;
    }
}

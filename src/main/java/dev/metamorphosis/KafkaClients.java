package dev.metamorphosis;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.camel.Exchange;
import org.apache.camel.component.kafka.DefaultKafkaClientFactory;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * The Kafka clients of camel-kafka (its {@code kafkaClientFactory}, set by {@link Settings}): Kafka's own producer,
 * which also keeps the results of the last writes that failed, so that a retry ({@link Redelivery}) leaves out every
 * record Kafka took, not only those before the first failure.
 * <p>
 * Why: a synchronous write of camel-kafka 4.17 sends all the records of a batch, then reads their results in order and
 * stops at the first failure; the records after it carry no record metadata, although Kafka may have them (another
 * partition). Were camel-kafka's {@code KafkaProducer.postProcessMetadata} to read every result before it fails the
 * exchange, this class would not be needed.
 * <p>
 * A write is the records one thread sends before it reads a result. A record is found by its value, the very object
 * sent: a record is taken as written only when a result of that object says so; anything uncertain is written again.
 */
public final class KafkaClients extends DefaultKafkaClientFactory {

    /** Failed writes kept for the next retry; one is enough unless another route's writes failed meanwhile. */
    private static final int KEPT = 8;

    /** Writes that failed, not yet looked at by a retry. */
    private final Deque<Write> failed = new ArrayDeque<>();

    @Override
    public Producer getProducer(Properties props) {
        return new Tracking(props);
    }

    /**
     * Of a failed batch's records that camel-kafka left without record metadata, marks those a failed write put in
     * Kafka all the same, as camel-kafka would have ({@link KafkaConstants#KAFKA_RECORD_META}). Waits for results not
     * known yet: a record sent is written or expires within the producer's delivery timeout, so at the latest that long
     * from now.
     */
    public void markWritten(List<Exchange> records) {
        Map<Object, List<Sent>> sent = new IdentityHashMap<>();
        long timeoutMs = 0;
        synchronized (failed) {
            for (Write write : failed) {
                timeoutMs = Math.max(timeoutMs, write.producer.deliveryTimeoutMs);
                for (Sent s : write.sends) {
                    sent.computeIfAbsent(s.value, v -> new ArrayList<>(1)).add(s);
                }
            }
            failed.clear();
        }
        if (sent.isEmpty()) {
            return;
        }
        long due = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        // a value object that two records of the batch share cannot tell them apart: both are written again
        Map<Object, Integer> shared = new IdentityHashMap<>();
        for (Exchange record : records) {
            shared.merge(record.getMessage().getBody(), 1, Integer::sum);
        }
        for (Exchange record : records) {
            Object value = record.getMessage().getBody();
            List<Sent> sends = sent.get(value);
            if (sends == null || shared.get(value) > 1
                    || record.getMessage().getHeader(KafkaConstants.KAFKA_RECORD_META) != null) {
                continue;
            }
            for (Sent s : sends) {
                RecordMetadata metadata = s.written(due);
                if (metadata != null) {
                    record.getMessage().setHeader(KafkaConstants.KAFKA_RECORD_META, List.of(metadata));
                    break;
                }
            }
        }
    }

    private void failed(Write write) {
        write.producer.careful = true;
        synchronized (failed) {
            if (!write.failed) {
                write.failed = true;
                failed.addLast(write);
                if (failed.size() > KEPT) {
                    failed.removeFirst();
                }
            }
        }
    }

    /**
     * Kafka's producer; a send without a callback (camel-kafka's synchronous write) is kept with its write.
     * <p>
     * After a write failed, the next write sends its first record alone and waits for its result: only once Kafka has
     * it are the others sent; if it failed, they are not sent at all (their results fail at once). Kafka's producer
     * goes on sending the requests behind one that failed for good, so a topic whose writes are allowed again (an ACL,
     * a quota) between two requests would take the second and refuse the first, which the retry would then write
     * after it: out of order (StalledPipelineIT saw it once).
     */
    private final class Tracking extends KafkaProducer<Object, Object> {

        private final ThreadLocal<Write> writing = new ThreadLocal<>();
        private final long deliveryTimeoutMs;
        /** The last write failed: the next one begins with a record alone. */
        private volatile boolean careful;

        Tracking(Properties props) {
            super(props);
            Object timeout = props.get(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG);
            deliveryTimeoutMs = timeout == null ? 120_000 : Long.parseLong(timeout.toString());
        }

        @Override
        public Future<RecordMetadata> send(ProducerRecord<Object, Object> record) {
            Write write = writing.get();
            boolean first = write == null;
            if (first) {
                write = new Write(this);
                writing.set(write);
            }
            if (write.refused != null) { // the first record of this careful write failed: this one is not sent
                return CompletableFuture.failedFuture(write.refused);
            }
            Future<RecordMetadata> result;
            try {
                result = super.send(record, null);
            } catch (RuntimeException e) {
                write.end(); // camel-kafka reads no result of it
                failed(write);
                throw e;
            }
            write.sends.add(new Sent(record.value(), result));
            if (first && careful) {
                try {
                    result.get(deliveryTimeoutMs + 1000, TimeUnit.MILLISECONDS);
                    careful = false;
                } catch (ExecutionException e) {
                    write.refused = new IllegalStateException("not sent: the record before it in this write failed ("
                            + e.getCause() + ")", e.getCause());
                } catch (TimeoutException e) {
                    write.refused = new IllegalStateException("not sent: the record before it in this write got no "
                            + "result", e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    write.refused = new IllegalStateException("not sent: interrupted", e);
                }
            }
            return new Result(write, result);
        }
    }

    /** The records one thread sent before it read a result. */
    private static final class Write {
        final List<Sent> sends = new ArrayList<>();
        /** The producer that sends it (its {@code delivery.timeout.ms}, the write under way on each thread). */
        final Tracking producer;
        private boolean ended;
        boolean failed;
        /** Why the records after the first are not sent (a careful write whose first record failed). */
        Exception refused;

        Write(Tracking producer) {
            this.producer = producer;
        }

        /** A result is read (on the thread that sent): the next send begins another write; this one is kept no more. */
        void end() {
            if (!ended) {
                ended = true;
                if (producer.writing.get() == this) {
                    producer.writing.remove();
                }
            }
        }
    }

    /** A record sent: its value and its result. */
    private record Sent(Object value, Future<RecordMetadata> result) {

        /** The record's metadata if Kafka has it; null if it failed, or no result came by {@code dueNanos}. */
        RecordMetadata written(long dueNanos) {
            try {
                return result.get(Math.max(0, dueNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (ExecutionException | TimeoutException e) {
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
    }

    /** A record's result as camel-kafka reads it: reading ends the write, and a failure keeps it for the retry. */
    private final class Result implements Future<RecordMetadata> {

        private final Write write;
        private final Future<RecordMetadata> result;

        Result(Write write, Future<RecordMetadata> result) {
            this.write = write;
            this.result = result;
        }

        @Override
        public RecordMetadata get() throws InterruptedException, ExecutionException {
            write.end();
            try {
                return result.get();
            } catch (ExecutionException | RuntimeException e) {
                failed(write);
                throw e;
            }
        }

        @Override
        public RecordMetadata get(long timeout, TimeUnit unit)
                throws InterruptedException, ExecutionException, TimeoutException {
            write.end();
            try {
                return result.get(timeout, unit);
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                failed(write);
                throw e;
            }
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            return result.cancel(mayInterruptIfRunning);
        }

        @Override
        public boolean isCancelled() {
            return result.isCancelled();
        }

        @Override
        public boolean isDone() {
            return result.isDone();
        }
    }
}

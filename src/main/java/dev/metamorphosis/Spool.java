package dev.metamorphosis;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongConsumer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.kafka.KafkaComponent;
import org.apache.camel.component.kafka.KafkaConfiguration;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.component.paho.mqtt5.PahoMqtt5Constants;
import org.apache.camel.component.seda.SedaEndpoint;
import org.apache.camel.spi.Synchronization;
import org.apache.camel.support.DefaultExchange;
import org.apache.kafka.common.record.AbstractRecords;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The spool: every envelope received from MQTT and not yet in Kafka, in the queue of {@code seda:spool} (in a
 * compact form, see {@link SpoolQueue}) or in the batch being filled or written. The ingest route's steps call it:
 * {@link #admit} (or {@link #append} to the disk spool), {@link #acknowledge} or {@link #holdAcknowledgement}, and
 * {@link #enqueue}; bean {@code batch} calls {@link #take} when it moves an envelope into the batch, and the write
 * route {@link #written} once Kafka has the batch.
 * <p>
 * The queue is bounded by {@code SPOOL_MAX_MESSAGES} and {@code SPOOL_MAX_BYTES} (the batch being filled or written
 * holds at most {@code KAFKA_MAX_BATCH_SIZE} more). When full, {@code block} holds the MQTT client until there is
 * room; {@code drop-oldest} and {@code drop-newest} (buffered delivery only) drop, count and log at most every 10 s.
 * In {@code buffered} delivery a message is acknowledged to MQTT when it is admitted; in {@code at-least-once} its
 * acknowledgement travels with it into its batch (see {@link Batch}). Once the bridge is closing, nothing is admitted
 * and nothing refused is acknowledged, so the broker delivers it again after a restart.
 * An envelope larger than the Kafka producer takes is not admitted but set aside at once (see {@link DeadLetter}).
 * <p>
 * In {@code durable} delivery the spool is on disk ({@link SpoolLog} in {@code SPOOL_DIR}), bounded by
 * {@code SPOOL_MAX_BYTES}: the ingest route's exchange ends at its admission, where its record is appended to the log.
 * Thread {@code spool-sync} syncs the log, one sync for every record appended meanwhile (a message waits for at most
 * the sync under way and its own), then acknowledges those messages to MQTT and moves their records into the queue,
 * as long as the records in memory stay within a window of two of the largest batches; what does not fit is read
 * back from disk, in order, once Kafka has taken the batches ahead of it. What the log holds at start-up goes first.
 */
public final class Spool implements CamelContextAware {

    static final String BYTES = "metamorphosis.bytes";
    /** Durable delivery: where the record ends in the log, its bytes there, and when its message arrived. */
    static final String END = "metamorphosis.end";
    static final String FRAME = "metamorphosis.frame";
    static final String ARRIVED = "metamorphosis.arrived";
    /** Durable delivery: the order in which records entered the queue, so they leave the log in that order. */
    static final String SEQ = "metamorphosis.seq";
    /** Bytes of records the durable spool holds in memory for Kafka at most (and records: two of the largest batches). */
    private static final long WINDOW_BYTES = 32L << 20;
    static final long DEFAULT_DISK_BYTES = 4L << 30;
    static final long DEFAULT_MEMORY_BYTES = 64L << 20;
    /**
     * Bytes of records appended and not yet written to disk beyond which an append waits for the next write (thread
     * {@code spool-sync} writes what was appended, then syncs it; during a slow sync the records wait in memory), or,
     * while writes fail, the durable spool counts as full.
     */
    private static final long UNWRITTEN_LIMIT = 16L << 20;
    private static final Logger LOG = LoggerFactory.getLogger("bridge");
    private static final long DROP_LOG_MILLIS = 10_000;
    /** Below this much under the limit, the record's framing cannot make it too large. */
    private static final int RECORD_OVERHEAD = 1024;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition room = lock.newCondition();
    private final AtomicLong dropped = new AtomicLong();
    private long messages;
    private long bytes;
    private long queued;
    private long queuedBytes;
    private long droppedSinceLog;
    private long lastDropLog;
    private volatile long batchOldest;
    private volatile boolean closing;
    private volatile SpoolQueue queue;
    private CamelContext context;
    private DeadLetter deadLetter;

    private boolean atLeastOnce = true;
    private boolean durable;
    private Path dir;
    private SpoolLog log;
    private Thread syncer;
    private final Condition work = lock.newCondition();
    private List<Pending> pending = new ArrayList<>();
    /** Position after the last record written (thread spool-sync). */
    private long written;
    private long inMemory;
    private long inMemoryBytes;
    /** Records waiting for their sync that keep their entry, for the window once synced (lock held), and its bytes. */
    private long waiting;
    private long waitingBytes;
    private volatile long fedTo;
    /** Records queued so far (thread spool-sync), and the first of them not yet acknowledged by Kafka. */
    private long fedSeq;
    private long ackedSeq;
    private final java.util.TreeMap<Long, Exchange> outOfOrder = new java.util.TreeMap<>();
    private volatile long syncedTo;
    private volatile boolean stopped;
    private volatile boolean failing;
    private long lastFailureLog;
    private final AtomicLong replayed = new AtomicLong();
    private final AtomicLong corrupt = new AtomicLong();
    private final AtomicLong writeErrors = new AtomicLong();
    private volatile LongConsumer syncNanos = n -> { };
    private boolean wroteKafkaTopic;
    private String kafkaTopic = "";
    private KafkaConfiguration kafka;
    private long maxMessages = Long.MAX_VALUE;
    private long maxBytes = -1;
    private String overflow = "block";
    private int batchSize = 1000;
    private int maxBatchSize = 8000;
    private int maxRequestSize = Integer.MAX_VALUE;

    /**
     * Whether Kafka's producer would refuse this envelope as a record (larger than its {@code max.request.size}): then
     * it is set aside at once ({@link #setAsideTooLarge}), not admitted. While the bridge is closing, nothing is.
     */
    public boolean tooLarge(Exchange exchange) {
        return !closing && tooLarge(exchange.getMessage().getBody(byte[].class));
    }

    /** Sets aside an envelope too large for Kafka's producer (see {@link DeadLetter}). */
    public void setAsideTooLarge(Exchange exchange) {
        deadLetter.setAside(exchange, "RecordTooLargeException: the record would be larger than the producer's "
                                      + "max.request.size of " + maxRequestSize + " bytes");
    }

    /**
     * Memory delivery ({@code at-least-once}, {@code buffered}): admits an envelope into the spool's count, waiting for
     * room or dropping as {@code SPOOL_OVERFLOW} says. When it is not admitted (dropped as the newest: acknowledged; the
     * bridge closing: never acknowledged, so the broker delivers it again) the exchange ends here.
     */
    public void admit(Exchange exchange) throws InterruptedException {
        byte[] envelope = exchange.getMessage().getBody(byte[].class);
        long size = envelope == null ? 0 : envelope.length;
        lock.lockInterruptibly();
        try {
            while (!closing && full(size)) {
                if ("drop-newest".equals(overflow)) {
                    dropped(1, "newest");
                    runCompletions(exchange);
                    exchange.setRouteStop(true);
                    return;
                }
                if ("drop-oldest".equals(overflow) && dropOldest()) {
                    continue;
                }
                room.await(1, TimeUnit.SECONDS);
            }
            if (closing) {
                Batch.detach(exchange); // never acknowledged: the broker delivers it again
                exchange.setRouteStop(true);
                return;
            }
            messages++;
            bytes += size;
            queued++;
            queuedBytes += size;
        } finally {
            lock.unlock();
        }
    }

    /** Acknowledges the message to MQTT now: the exchange's completion work is run at once. */
    public void acknowledge(Exchange exchange) {
        runCompletions(exchange);
    }

    /**
     * At-least-once delivery: takes the MQTT acknowledgement off the exchange; it travels with the envelope into its
     * batch, which sends it once Kafka has the batch ({@link Batch#acknowledge}).
     */
    public void holdAcknowledgement(Exchange exchange) {
        exchange.setProperty(Batch.HELD, Batch.detach(exchange));
    }

    /**
     * Puts an admitted envelope in the queue of {@code seda:spool} in its compact form ({@link SpoolQueue.Spooled}),
     * with the acknowledgement it holds, if any. The exchange ends here.
     */
    @SuppressWarnings("unchecked")
    public void enqueue(Exchange exchange) throws InterruptedException {
        List<Synchronization> acks = (List<Synchronization>) exchange.removeProperty(Batch.HELD);
        queue().put(spooled(entry(exchange, exchange.getMessage().getBody(byte[].class)), acks, -1, 0, 0));
    }

    /**
     * A record waiting for the sync that makes it durable, then for its MQTT acknowledgement: not its message's
     * exchange, which would keep the payload, the headers and the MQTT properties in memory until then. Its entry only
     * while the memory window has room for it once synced, else null: it is read back from the log when there is.
     */
    private record Pending(SpoolLog.Entry entry, int size, List<Synchronization> acks) {
    }

    /**
     * Durable delivery: appends the envelope's record to the log, waiting for room or dropping as
     * {@code SPOOL_OVERFLOW} says, and hands its MQTT acknowledgement to thread {@code spool-sync}, which sends it once
     * a sync covers the record. The exchange ends here: the record reaches the queue from the log.
     */
    public void append(Exchange exchange) throws InterruptedException {
        byte[] envelope = exchange.getMessage().getBody(byte[].class);
        SpoolLog.Entry entry = entry(exchange, envelope);
        long size = SpoolLog.FRAME + 64L + (envelope == null ? 0 : envelope.length);
        lock.lockInterruptibly();
        try {
            while (!closing) {
                if (diskFull(size)) {
                    if ("drop-newest".equals(overflow)) {
                        dropped(1, "newest");
                        runCompletions(exchange);
                        return;
                    }
                } else if (!unwrittenFull(size)) {
                    break;
                }
                room.await(1, TimeUnit.SECONDS); // signalled when records leave, and after each write
            }
            if (closing) {
                Batch.detach(exchange); // never acknowledged: the broker delivers it again
                return;
            }
            int framed = log.append(entry);
            // during a slow sync tens of thousands of records wait (UNWRITTEN_LIMIT): when Kafka is behind and the
            // window full, keeping each one's entry beside its frame in the log's buffer doubled what they held
            boolean keep = memoryRoom(waiting, waitingBytes);
            if (keep) {
                waiting++;
                waitingBytes += entry.value().length;
            }
            pending.add(new Pending(keep ? entry : null, framed, Batch.detach(exchange)));
            work.signal();
        } finally {
            lock.unlock();
        }
    }

    /** What the spool keeps of an envelope's exchange: the fields of its Kafka record, and when it arrived. */
    private SpoolLog.Entry entry(Exchange exchange, byte[] envelope) {
        Message message = exchange.getMessage();
        Object key = message.getHeader(KafkaConstants.KEY);
        return new SpoolLog.Entry(exchange.getClock().getCreated(),
                message.getHeader(PahoMqtt5Constants.MQTT_TOPIC, String.class),
                message.getHeader(KafkaConstants.OVERRIDE_TOPIC, String.class),
                key == null ? null : key.toString().getBytes(StandardCharsets.UTF_8), recordHeaders(exchange),
                envelope == null ? new byte[0] : envelope);
    }

    private static SpoolQueue.Spooled spooled(SpoolLog.Entry e, List<Synchronization> acks, long end, int frame,
                                              long seq) {
        return new SpoolQueue.Spooled(e.value(), e.mqttTopic(), e.kafkaTopic(), e.key(), e.headers(), e.arrived(),
                acks, end, frame, seq);
    }

    /**
     * The headers a route gave the message that camel-kafka would write with its record, as the bytes it would
     * write: they are kept with the record on disk (Camel's own and the {@code kafka.*} ones are not).
     */
    private List<Map.Entry<String, byte[]>> recordHeaders(Exchange exchange) {
        if (kafka == null) {
            kafka = context.getComponent("kafka", KafkaComponent.class).getConfiguration();
        }
        List<Map.Entry<String, byte[]>> headers = null;
        for (Map.Entry<String, Object> h : exchange.getMessage().getHeaders().entrySet()) {
            if (h.getValue() == null || kafka.getHeaderFilterStrategy().applyFilterToCamelHeaders(h.getKey(),
                    h.getValue(), exchange)) {
                continue;
            }
            byte[] value = kafka.getHeaderSerializer().serialize(h.getKey(), h.getValue());
            if (value != null) {
                if (headers == null) {
                    headers = new ArrayList<>();
                }
                headers.add(Map.entry(h.getKey(), value));
            }
        }
        return headers == null ? List.of() : headers;
    }

    /**
     * Durable delivery, writes to disk working: the records waiting for the next write already hold
     * {@code UNWRITTEN_LIMIT}. A sync of the disk can take a second or more on a busy machine, and without a bound the
     * records arriving meanwhile (up to {@code MQTT_RECEIVE_MAXIMUM}) all waited in memory: at 10 KiB, 256 MiB of write
     * buffer in the benchmark. One record always goes.
     */
    private boolean unwrittenFull(long size) {
        long unwritten = log.buffered();
        return !failing && unwritten > 0 && unwritten + size > UNWRITTEN_LIMIT;
    }

    /** Durable delivery: no room on disk for a record of about this size, or writes to disk fail. */
    private boolean diskFull(long size) {
        return log.records() > 0 && log.bytes() + size > maxBytes()
               || failing && log.buffered() > UNWRITTEN_LIMIT;
    }

    /** Whether Kafka's producer would refuse this envelope as a record, as it measures records. */
    private boolean tooLarge(byte[] envelope) {
        return envelope != null && envelope.length + RECORD_OVERHEAD > maxRequestSize
               && AbstractRecords.estimateSizeInBytesUpperBound(RecordBatch.CURRENT_MAGIC_VALUE, CompressionType.NONE,
                       null, ByteBuffer.wrap(envelope), Record.EMPTY_HEADERS) > maxRequestSize;
    }

    /**
     * Room for one more envelope of this size in the queue; one envelope always goes into an empty queue. The batch
     * being filled or written holds at most {@code KAFKA_MAX_BATCH_SIZE} more.
     */
    private boolean full(long size) {
        return queued >= maxMessages || queued > 0 && queuedBytes + size > maxBytes();
    }

    /** Drops the oldest envelope still in the queue (not one in the batch being written). */
    private boolean dropOldest() {
        SpoolQueue.Spooled oldest = queue().pollSpooled();
        if (oldest == null) {
            return false;
        }
        long size = oldest.value().length;
        messages--;
        bytes -= size;
        queued--;
        queuedBytes -= size;
        dropped(1, "oldest");
        return true;
    }

    private void dropped(long count, String which) {
        dropped.addAndGet(count);
        droppedSinceLog += count;
        long now = System.currentTimeMillis();
        if (now - lastDropLog >= DROP_LOG_MILLIS) {
            LOG.warn("Spool full ({} messages, {} bytes waiting; SPOOL_MAX_MESSAGES={}, SPOOL_MAX_BYTES={}): dropped "
                     + "the {} {} message(s) since the last report, {} in all", queued, queuedBytes, maxMessages,
                    maxBytes(), which,
                    droppedSinceLog, dropped.get());
            lastDropLog = now;
            droppedSinceLog = 0;
        }
    }

    /** Runs the exchange's completion work now: the MQTT acknowledgement. */
    static void runCompletions(Exchange exchange) {
        Batch.detach(exchange).forEach(s -> s.onComplete(exchange));
    }

    /**
     * The next envelope waiting in the queue, as an exchange, when the next item is one; else null (the queue is empty,
     * or the flush timer's exchange is next). For the thread of route {@code kafka-batch}.
     */
    public Exchange next() {
        return queue().nextSpooled();
    }

    /** An envelope leaves the queue for the open batch. */
    public void take(Exchange exchange) {
        Long size = exchange.getProperty(BYTES, Long.class);
        if (size == null) {
            return; // the flush marker
        }
        if (batchOldest == 0) {
            batchOldest = arrived(exchange);
        }
        lock.lock();
        try {
            queued--;
            queuedBytes -= size;
            room.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Kafka has acknowledged a batch (or its records were set aside): they leave the spool. */
    public void written(List<Exchange> records) {
        long newest = 0;
        for (Exchange record : records) {
            newest = Math.max(newest, arrived(record));
        }
        if (batchOldest <= newest) {
            batchOldest = 0; // unless the next batch has begun already
        }
        release(records);
    }

    /** Envelopes that left the spool other than by a batch write: set aside as poison, or in Kafka before a failure. */
    void release(List<Exchange> records) {
        if (durable) {
            acknowledged(records);
            return;
        }
        long size = 0;
        for (Exchange record : records) {
            size += record.getProperty(BYTES, 0L, Long.class);
        }
        lock.lock();
        try {
            messages -= records.size();
            bytes -= size;
            room.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Durable delivery: Kafka has these records (in log order), or they were set aside: they leave the log. */
    private void acknowledged(List<Exchange> records) {
        if (records.isEmpty()) {
            return;
        }
        long end = 0;
        long count = 0;
        long size = 0;
        long envelopes = 0;
        synchronized (outOfOrder) {
            // Kafka may acknowledge a later record before an earlier one (another partition, a retry): the log's
            // checkpoint only moves over records that are all acknowledged, in the order they were queued
            for (Exchange record : records) {
                outOfOrder.put(record.getProperty(SEQ, 0L, Long.class), record);
                envelopes += record.getProperty(BYTES, 0L, Long.class);
            }
            for (Exchange next = outOfOrder.remove(ackedSeq); next != null; next = outOfOrder.remove(ackedSeq)) {
                ackedSeq++;
                end = next.getProperty(END, 0L, Long.class);
                size += next.getProperty(FRAME, 0L, Long.class);
                count++;
            }
        }
        if (count > 0) {
            try {
                log.acknowledge(end, count, size);
            } catch (IOException e) {
                LOG.warn("Could not write the spool's checkpoint in SPOOL_DIR={}: {} (after a restart, records Kafka "
                         + "has may be written again)", dir, e.getMessage());
            }
        }
        if (!wroteKafkaTopic) {
            wroteKafkaTopic = true;
            markWritten();
        }
        lock.lock();
        try {
            inMemory -= records.size();
            inMemoryBytes -= envelopes;
            room.signalAll();
            work.signal();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Notes in SPOOL_DIR that Kafka took records of KAFKA_TOPIC from this spool, or the probe (see
     * {@link #wroteBefore}).
     */
    public void markWritten() {
        try {
            if (durable && !wroteBefore()) {
                Files.writeString(dir.resolve("kafka-topics"), kafkaTopic + "\n", StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
            }
        } catch (IOException e) {
            LOG.debug("Could not note the Kafka topic in SPOOL_DIR: {}", e.getMessage());
        }
    }

    /** Whether this spool has written records to KAFKA_TOPIC before: then Kafka failing at start-up is an outage. */
    public boolean wroteBefore() {
        try {
            Path file = dir.resolve("kafka-topics");
            return durable && Files.isRegularFile(file)
                   && Set.copyOf(Files.readAllLines(file, StandardCharsets.UTF_8)).contains(kafkaTopic);
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Durable delivery: opens the log in {@code SPOOL_DIR} and starts the thread that syncs it and feeds the queue.
     * What the log holds goes to Kafka first.
     *
     * @throws IOException naming what is wrong with the folder ({@link SpoolLog.Unusable}) or the failed read
     */
    public void open() throws IOException {
        if (!durable || log != null) {
            return;
        }
        log = SpoolLog.open(dir, SpoolLog.DEFAULT_SEGMENT_BYTES);
        for (SpoolLog.Corrupt c : log.corrupt()) {
            corrupt.incrementAndGet();
            LOG.warn("Spool {}: skipped a corrupt record at {} offset {} ({}), cutting off the {} byte(s) from there to "
                     + "the end of that file: torn before its sync, its message was never acknowledged and the broker "
                     + "delivers it again; damaged after, it is lost", dir, c.segment().getFileName(), c.offset(),
                    c.reason(), c.bytesCut());
        }
        replayed.set(log.recoveredRecords());
        if (log.recoveredRecords() > 0) {
            LOG.info("Spool {} holds {} record(s) ({} bytes) not yet in Kafka: writing them to Kafka first", dir,
                    log.recoveredRecords(), log.recoveredBytes());
        }
        fedTo = log.acked();
        syncedTo = log.end();
        written = log.end();
        syncer = new Thread(this::syncLoop, "spool-sync");
        syncer.setDaemon(true);
        syncer.start();
    }

    /** Thread spool-sync: writes and syncs what was appended, acknowledges it to MQTT, feeds the queue from the log. */
    private void syncLoop() {
        try {
            while (true) {
                List<Pending> group = null;
                long[] ends = null;
                long started;
                lock.lock();
                try {
                    while (pending.isEmpty() && !(fedTo < syncedTo && memoryRoom()) && !stopped) {
                        work.await();
                    }
                    if (stopped && pending.isEmpty()) {
                        return;
                    }
                    started = System.nanoTime();
                    if (!pending.isEmpty()) {
                        // under the lock, so the records written are exactly the ones pending
                        try {
                            ends = log.flush();
                            group = pending;
                            pending = new ArrayList<>();
                        } catch (IOException e) {
                            failed(e, pending.size());
                        }
                        room.signalAll(); // appends waiting for this write (UNWRITTEN_LIMIT)
                    }
                } finally {
                    lock.unlock();
                }
                if (group != null) {
                    sync(group, ends, started);
                }
                // also while writes fail: what Kafka takes from the disk is what gives the space back
                feedFromLog();
                if (group == null && !pendingEmpty()) {
                    Thread.sleep(1000); // the write failed: tried again in a second
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private boolean pendingEmpty() {
        lock.lock();
        try {
            return pending.isEmpty();
        } finally {
            lock.unlock();
        }
    }

    /** A write or sync of the disk spool failed: counted, and logged at most every 10 s. */
    private void failed(IOException e, int waiting) {
        writeErrors.incrementAndGet();
        failing = true;
        long now = System.currentTimeMillis();
        if (now - lastFailureLog >= DROP_LOG_MILLIS) {
            lastFailureLog = now;
            LOG.error("Could not write the spool to disk in SPOOL_DIR={}: {}; {} message(s) wait, unacknowledged, and "
                      + "the write is tried again every second", dir, e.getMessage(), waiting);
        }
    }

    /** Makes the written group durable (trying again while the disk fails), acknowledges it, queues what fits. */
    private void sync(List<Pending> group, long[] ends, long started) throws InterruptedException {
        while (true) {
            try {
                log.sync();
                break;
            } catch (IOException e) {
                failed(e, group.size());
                Thread.sleep(1000);
            }
        }
        if (failing) {
            failing = false;
            LOG.info("The spool is written to disk again in SPOOL_DIR={}", dir);
        }
        syncNanos.accept(System.nanoTime() - started);
        Exchange synced = new DefaultExchange(context); // what the acknowledgements are told completed: the sync
        for (Pending p : group) {
            p.acks().forEach(s -> s.onComplete(synced));
        }
        lock.lock();
        try {
            syncedTo = ends[ends.length - 1];
            for (Pending p : group) {
                if (p.entry() != null) {
                    waiting--;
                    waitingBytes -= p.entry().value().length;
                }
            }
            for (int i = 0; i < group.size(); i++) {
                long from = i == 0 ? written : ends[i - 1];
                if (fedTo != from || !memoryRoom() || group.get(i).entry() == null) {
                    break; // read back from the log, in order, when there is room
                }
                queue(group.get(i).entry(), ends[i], group.get(i).size());
            }
            written = syncedTo;
        } finally {
            lock.unlock();
        }
    }

    /** Queues records the log holds and memory did not, as far as the window allows. */
    private void feedFromLog() throws InterruptedException {
        long from;
        long upTo;
        long count;
        long bytesRoom;
        lock.lock();
        try {
            if (fedTo >= syncedTo || !memoryRoom()) {
                return;
            }
            from = fedTo;
            upTo = syncedTo;
            count = window() - inMemory;
            bytesRoom = WINDOW_BYTES - inMemoryBytes;
        } finally {
            lock.unlock();
        }
        List<SpoolLog.Stored> records;
        try {
            records = log.read(from, upTo, (int) Math.min(count, maxBatchSize), bytesRoom);
        } catch (IOException e) {
            LOG.error("Could not read the spool in SPOOL_DIR={}: {}; trying again in a second", dir, e.getMessage());
            Thread.sleep(1000);
            return;
        }
        lock.lock();
        try {
            for (SpoolLog.Stored r : records) {
                queue(r.entry(), r.end(), r.size());
            }
            if (records.isEmpty()) {
                // nothing readable up to there (a corrupt part cut off): do not look again
                LOG.warn("Spool {}: no record between positions {} and {}; going on after them", dir, from, upTo);
                fedTo = upTo;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Puts a record of the log into the queue (lock held). */
    private void queue(SpoolLog.Entry entry, long end, int size) {
        inMemory++;
        inMemoryBytes += entry.value().length;
        queued++;
        queuedBytes += entry.value().length;
        fedTo = end;
        queue().put(spooled(entry, null, end, size, fedSeq++));
    }

    /**
     * The exchange a spooled envelope leaves the queue as, for the route {@code kafka-batch}: like the one its message
     * came in after the mapping, with what the spool and the batch need to know of it as properties.
     */
    private Exchange exchange(SpoolQueue.Spooled spooled) {
        Exchange exchange = new DefaultExchange(context);
        Message message = exchange.getMessage();
        message.setBody(spooled.value());
        message.setHeader(PahoMqtt5Constants.MQTT_TOPIC, spooled.mqttTopic());
        if (spooled.key() != null) {
            message.setHeader(KafkaConstants.KEY, new String(spooled.key(), StandardCharsets.UTF_8));
        }
        if (spooled.kafkaTopic() != null) {
            message.setHeader(KafkaConstants.OVERRIDE_TOPIC, spooled.kafkaTopic());
        }
        for (Map.Entry<String, byte[]> h : spooled.headers()) {
            message.setHeader(h.getKey(), h.getValue());
        }
        exchange.setProperty(BYTES, (long) spooled.value().length);
        exchange.setProperty(ARRIVED, spooled.arrived());
        if (spooled.acks() != null) {
            exchange.setProperty(Batch.HELD, spooled.acks());
        }
        if (durable) {
            exchange.setProperty(END, spooled.end());
            exchange.setProperty(FRAME, (long) spooled.frame());
            exchange.setProperty(SEQ, spooled.seq());
        }
        return exchange;
    }

    private boolean memoryRoom() {
        return memoryRoom(0, 0);
    }

    /** Whether the memory window has room beyond what it holds and these records of these bytes (lock held). */
    private boolean memoryRoom(long records, long bytes) {
        return inMemory + records < window() && inMemoryBytes + bytes < WINDOW_BYTES;
    }

    /** Records the durable spool holds in memory at most: two of the largest batches, within SPOOL_MAX_MESSAGES. */
    private long window() {
        return Math.min(maxMessages, 2L * Math.max(batchSize, maxBatchSize));
    }

    /** The bean's destroy method: stops the sync thread once it has synced what was appended, and closes the log. */
    public void shutdown() throws IOException, InterruptedException {
        if (log == null) {
            return;
        }
        lock.lock();
        try {
            stopped = true;
            work.signalAll();
        } finally {
            lock.unlock();
        }
        syncer.join(TimeUnit.SECONDS.toMillis(30));
        log.close();
        log = null;
    }

    /** When the message of a spooled exchange arrived from MQTT. */
    static long arrived(Exchange exchange) {
        Long arrived = exchange.getProperty(ARRIVED, Long.class);
        return arrived != null ? arrived : exchange.getClock().getCreated();
    }

    /**
     * The open batch holds {@code joined} envelopes. In buffered delivery a batch waits to fill, so the thread that
     * builds it ({@code seda:spool}'s) is woken again once enough envelopes wait to fill it, or for the flush timer's
     * exchange ({@link SpoolQueue#wanted}); in the other modes a batch goes once nothing waits, and that thread is
     * woken for each envelope.
     */
    public void batchOpen(int joined) {
        queue().wanted(atLeastOnce || durable ? 1 : batchSize - joined);
    }

    /** The size a batch may reach: larger while a backlog waits behind it, up to {@code KAFKA_MAX_BATCH_SIZE}. */
    public int batchSize() {
        return queue().size() > batchSize ? Math.max(batchSize, maxBatchSize) : batchSize;
    }

    /**
     * In at-least-once delivery a batch is also complete when nothing more waits in the queue. The MQTT broker sends
     * only so many messages before it waits for their acknowledgements (HiveMQ 50, Mosquitto 20 to begin with), and
     * those wait for the batch: so the batch takes what came while the previous one was being written, and goes. In
     * durable delivery too, once every record a sync of the disk covers is in the queue: nothing waits for the batch
     * then, but a record need not wait for {@code KAFKA_INTERVAL} either.
     */
    public boolean drained() {
        return (atLeastOnce || durable && fedTo >= syncedTo) && queue().isEmpty();
    }

    /** From now on nothing is admitted; MQTT clients waiting for room are let go. */
    public void close() {
        lock.lock();
        try {
            closing = true;
            room.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits up to the given time for the spool to be empty; returns the envelopes still in it. */
    public long awaitEmpty(long millis) {
        long left = TimeUnit.MILLISECONDS.toNanos(millis);
        lock.lock();
        try {
            while (messages() > 0 && left > 0) {
                left = room.awaitNanos(left);
            }
            return messages();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return messages;
        } finally {
            lock.unlock();
        }
    }

    /** Durable delivery: the log on disk, once {@link #open}ed. */
    SpoolLog log() {
        return log;
    }

    /** Durable delivery: bytes of records appended and not yet written to disk (at most {@code UNWRITTEN_LIMIT}). */
    long unwritten() {
        return log.buffered();
    }

    /** Envelopes received and not yet in Kafka. */
    public long messages() {
        if (durable && log != null) {
            return log.records();
        }
        lock.lock();
        try {
            return messages;
        } finally {
            lock.unlock();
        }
    }

    /** Bytes of those envelopes. */
    public long bytes() {
        if (durable && log != null) {
            return log.bytes();
        }
        lock.lock();
        try {
            return bytes;
        } finally {
            lock.unlock();
        }
    }

    /** Whether acknowledgements wait for Kafka ({@code DELIVERY=at-least-once}). */
    public boolean atLeastOnce() {
        return atLeastOnce;
    }

    /** Whether the spool is on disk ({@code DELIVERY=durable}). */
    public boolean durable() {
        return durable;
    }

    /** The folder of the durable spool. */
    public Path dir() {
        return dir;
    }

    /** Bytes the durable spool's files take on disk; 0 in the other modes. */
    public long diskBytes() {
        SpoolLog l = log;
        return l == null ? 0 : l.diskBytes();
    }

    /** Records the durable spool held at start-up, written to Kafka first. */
    public long replayed() {
        return replayed.get();
    }

    /** Torn or corrupt records skipped at start-up. */
    public long corrupt() {
        return corrupt.get();
    }

    /** Failed writes or syncs of the durable spool, each tried again. */
    public long writeErrors() {
        return writeErrors.get();
    }

    /** Receives the time each sync of the durable spool took, in nanoseconds. */
    public void onSync(LongConsumer listener) {
        this.syncNanos = listener;
    }

    /** Envelopes dropped because the spool was full, since start. */
    public long dropped() {
        return dropped.get();
    }

    /** Milliseconds since the oldest envelope in the spool arrived from MQTT; 0 when the spool is empty. */
    public long oldestAgeMillis() {
        long oldest = batchOldest;
        if (oldest == 0) {
            oldest = queue().oldestArrived();
        }
        if (oldest == 0 && durable && log != null && log.records() > 0) {
            try {
                List<SpoolLog.Stored> first = log.read(log.acked(), log.end(), 1, Long.MAX_VALUE);
                oldest = first.isEmpty() ? 0 : first.get(0).entry().arrived();
            } catch (IOException e) {
                oldest = 0;
            }
        }
        return oldest == 0 ? 0 : Math.max(0, System.currentTimeMillis() - oldest);
    }

    private SpoolQueue queue() {
        if (queue == null) {
            if (!(endpoint().getQueue() instanceof SpoolQueue q)) {
                throw new IllegalStateException("the SEDA component's queue factory must be SpoolQueue.Factory, as "
                        + "Settings.configure sets it (camel.main.configurationClasses = dev.metamorphosis.Settings)");
            }
            q.exchanges(this::exchange);
            queue = q;
        }
        return queue;
    }

    private SedaEndpoint endpoint() {
        return context.getEndpoint("seda:spool", SedaEndpoint.class);
    }

    public void setDelivery(String delivery) {
        this.atLeastOnce = "at-least-once".equals(delivery);
        this.durable = "durable".equals(delivery);
    }

    public void setDir(String dir) {
        this.dir = Path.of(dir).toAbsolutePath();
    }

    public void setDeadLetter(DeadLetter deadLetter) {
        this.deadLetter = deadLetter;
    }

    public void setKafkaTopic(String kafkaTopic) {
        this.kafkaTopic = kafkaTopic;
    }

    public void setMaxMessages(long maxMessages) {
        this.maxMessages = maxMessages;
    }

    /** SPOOL_MAX_BYTES; empty: 4 GiB on disk in durable delivery, 64 MiB of envelopes in memory otherwise. */
    public void setMaxBytes(String maxBytes) {
        this.maxBytes = maxBytes == null || maxBytes.isBlank() ? -1 : Long.parseLong(maxBytes.strip());
    }

    /** The bound of SPOOL_MAX_BYTES in force. */
    public long maxBytes() {
        return maxBytes >= 0 ? maxBytes : durable ? DEFAULT_DISK_BYTES : DEFAULT_MEMORY_BYTES;
    }

    public void setOverflow(String overflow) {
        this.overflow = overflow;
    }

    public void setBatchSize(int batchSize) {
        this.batchSize = batchSize;
    }

    public void setMaxBatchSize(int maxBatchSize) {
        this.maxBatchSize = maxBatchSize;
    }

    public void setMaxRequestSize(int maxRequestSize) {
        this.maxRequestSize = maxRequestSize;
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

package dev.metamorphosis;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.main.Main;
import org.apache.camel.support.DefaultExchange;
import org.apache.camel.support.SynchronizationAdapter;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The durable spool, in Camel with the real routes (not started): a message is acknowledged to MQTT only once a sync
 * of the disk covers its record; records Kafka acknowledges out of order leave the disk in order; when records arrive
 * faster than the disk takes them, what waits in memory for thread {@code spool-sync}'s next write is bounded, and
 * everything is on disk; with Kafka behind, a record waiting for its sync is not kept in memory twice.
 */
class SpoolTest {

    private static final long UNWRITTEN_LIMIT = 16L << 20;
    private static final int THREADS = 2;
    private static final int EACH = 100;
    /** The durable spool's memory window with the default batch sizes: two of the largest batches (8,000). */
    private static final int WINDOW = 16_000;

    @TempDir
    Path dir;

    /**
     * The broker tests cannot see this: a bridge killed with SIGKILL leaves what it wrote in the page cache, so a
     * message acknowledged after the write and before the sync survives it. Here the sync is held instead.
     */
    @Test
    void should_acknowledge_a_message_to_mqtt_only_once_a_sync_of_the_disk_covers_its_record() throws Exception {
        Main main = RoutesTest.load(RoutesTest.routeFiles(), Map.of("delivery", "durable", "spool.dir",
                dir.toString()));
        CountDownLatch syncing = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        List<Integer> acknowledged = new CopyOnWriteArrayList<>();
        try {
            CamelContext context = main.getCamelContext();
            Spool spool = context.getRegistry().lookupByNameAndType("spool", Spool.class);
            spool.open();
            holdSyncs(spool, syncing, release);
            for (int i = 0; i < 3; i++) {
                int n = i;
                Exchange exchange = new DefaultExchange(context);
                exchange.getMessage().setBody(new byte[] {(byte) i});
                exchange.getMessage().setHeader("CamelMqttTopic", "spool-test");
                // as the MQTT consumer acknowledges: when the exchange's work is done
                exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
                    @Override
                    public void onComplete(Exchange done) {
                        acknowledged.add(n);
                    }
                });
                spool.append(exchange);
            }
            assertThat(syncing.await(30, TimeUnit.SECONDS)).as("a sync of the disk began").isTrue();
            assertThat(acknowledged).as("acknowledged while the sync is held").isEmpty();
            release.countDown();
            Awaitility.await("all three acknowledged").atMost(Duration.ofSeconds(30))
                    .until(() -> acknowledged.size() == 3);
            assertThat(acknowledged).as("in arrival order").containsExactly(0, 1, 2);
            spool.shutdown();
        } finally {
            release.countDown();
            main.stop();
        }
        try (SpoolLog log = SpoolLog.open(dir, SpoolLog.DEFAULT_SEGMENT_BYTES)) {
            assertThat(log.recoveredRecords()).as("records on disk").isEqualTo(3);
        }
    }

    @Test
    void should_move_past_records_kafka_acknowledged_out_of_order_only_once_those_before_them_are_acknowledged()
            throws Exception {
        Main main = RoutesTest.load(RoutesTest.routeFiles(), Map.of("delivery", "durable", "spool.dir",
                dir.toString()));
        try {
            CamelContext context = main.getCamelContext();
            Spool spool = context.getRegistry().lookupByNameAndType("spool", Spool.class);
            spool.open();
            for (int i = 0; i < 3; i++) {
                Exchange exchange = new DefaultExchange(context);
                exchange.getMessage().setBody(new byte[] {(byte) i});
                exchange.getMessage().setHeader("CamelMqttTopic", "spool-test");
                spool.append(exchange);
            }
            // each record leaves the queue for a batch once it is synced
            List<Exchange> queued = new ArrayList<>();
            Awaitility.await("3 records synced and queued").atMost(Duration.ofSeconds(30)).until(() -> {
                for (Exchange next = spool.next(); next != null; next = spool.next()) {
                    spool.take(next);
                    queued.add(next);
                }
                return queued.size() == 3;
            });
            assertThat(spool.messages()).isEqualTo(3);
            spool.release(List.of(queued.get(2)));
            assertThat(spool.messages()).as("after the third, before the first two").isEqualTo(3);
            spool.release(List.of(queued.get(0)));
            assertThat(spool.messages()).as("after the third and the first").isEqualTo(2);
            spool.release(List.of(queued.get(1)));
            assertThat(spool.messages()).as("after all three").isZero();
            spool.shutdown();
        } finally {
            main.stop();
        }
        try (SpoolLog log = SpoolLog.open(dir, SpoolLog.DEFAULT_SEGMENT_BYTES)) {
            assertThat(log.recoveredRecords()).as("records left on disk").isZero();
        }
    }

    @Test
    void should_hold_at_most_16_mib_for_the_next_write_when_records_come_faster_than_the_disk() throws Exception {
        Main main = RoutesTest.load(RoutesTest.routeFiles(), Map.of("delivery", "durable", "spool.dir",
                dir.toString()));
        byte[] envelope = new byte[1 << 20];
        AtomicLong most = new AtomicLong();
        try {
            CamelContext context = main.getCamelContext();
            Spool spool = context.getRegistry().lookupByNameAndType("spool", Spool.class);
            spool.open();
            // 200 MiB from two threads at the speed of memory: far faster than writes and syncs of a disk
            ExecutorService appenders = Executors.newFixedThreadPool(THREADS);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                done.add(appenders.submit(() -> {
                    for (int i = 0; i < EACH; i++) {
                        Exchange exchange = new DefaultExchange(context);
                        exchange.getMessage().setBody(envelope);
                        exchange.getMessage().setHeader("CamelMqttTopic", "spool-test");
                        spool.append(exchange);
                        most.accumulateAndGet(spool.unwritten(), Math::max);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(2, TimeUnit.MINUTES);
            }
            appenders.shutdown();
            spool.shutdown();
        } finally {
            main.stop();
        }
        assertThat(most.get()).as("bytes waiting for a write, at most").isPositive()
                .isLessThanOrEqualTo(UNWRITTEN_LIMIT);
        try (SpoolLog log = SpoolLog.open(dir, SpoolLog.DEFAULT_SEGMENT_BYTES)) {
            assertThat(log.recoveredRecords()).as("records on disk").isEqualTo(THREADS * EACH);
        }
    }

    /**
     * Kafka behind (nothing takes from the queue, whose window is full) and a sync of the disk held: the records that
     * arrive meanwhile wait in the log's buffer, and the spool keeps of each only what sends its acknowledgement once
     * synced, not its envelope a second time. Measured with the buffer already at its largest, so that only what the
     * spool keeps per record moves the heap: 20,000 records of 300 bytes. Then all of them reach the queue, read back
     * from the log, in order, each once.
     */
    @Test
    void should_not_keep_a_second_copy_of_the_records_waiting_for_a_sync_while_the_memory_window_is_full()
            throws Exception {
        Main main = RoutesTest.load(RoutesTest.routeFiles(), Map.of("delivery", "durable", "spool.dir",
                dir.toString()));
        CountDownLatch syncing = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicLong acknowledged = new AtomicLong();
        int measured = 20_000;
        int appended = 0;
        long perRecord;
        List<Integer> queued = new ArrayList<>();
        try {
            CamelContext context = main.getCamelContext();
            Spool spool = context.getRegistry().lookupByNameAndType("spool", Spool.class);
            spool.open();
            while (appended < WINDOW) {
                spool.append(numbered(context, appended++, acknowledged));
            }
            Awaitility.await("the window's records synced").atMost(Duration.ofSeconds(60))
                    .until(() -> acknowledged.get() == WINDOW);
            holdSyncs(spool, syncing, release);
            spool.append(numbered(context, appended++, acknowledged));
            assertThat(syncing.await(30, TimeUnit.SECONDS)).as("a sync of the disk began").isTrue();
            // past 8 MiB waiting, the log's buffer has grown to 16 MiB (UNWRITTEN_LIMIT), where it stays
            while (spool.unwritten() <= 8L << 20) {
                spool.append(numbered(context, appended++, acknowledged));
            }
            long before = SpoolLogTest.usedHeapAfterGc();
            for (int i = 0; i < measured; i++) {
                spool.append(numbered(context, appended++, acknowledged));
            }
            perRecord = (SpoolLogTest.usedHeapAfterGc() - before) / measured;
            assertThat(spool.unwritten()).as("still within the buffer as it was").isLessThanOrEqualTo(UNWRITTEN_LIMIT);
            assertThat(acknowledged.get()).as("none acknowledged while the sync is held").isEqualTo(WINDOW);
            release.countDown();
            int all = appended;
            Awaitility.await("all acknowledged").atMost(Duration.ofSeconds(60)).until(() -> acknowledged.get() == all);
            Awaitility.await("all queued").atMost(Duration.ofSeconds(60)).until(() -> {
                List<Exchange> taken = new ArrayList<>();
                for (Exchange next = spool.next(); next != null; next = spool.next()) {
                    spool.take(next);
                    taken.add(next);
                    queued.add(ByteBuffer.wrap(next.getMessage().getBody(byte[].class)).getInt());
                }
                spool.release(taken); // Kafka has them: room in the window for the rest, read back from the log
                return queued.size() >= all;
            });
            spool.shutdown();
        } finally {
            release.countDown();
            main.stop();
        }
        System.out.println("RESULT | spool | durable | heap per record waiting for a sync, window full | "
                           + perRecord + " bytes");
        // kept beside its frame, the record's entry and its envelope took about 360 bytes more
        assertThat(perRecord).as("bytes of heap per record waiting for its sync").isLessThanOrEqualTo(200);
        assertThat(queued).as("every record once, in order").hasSize(appended)
                .isEqualTo(IntStream.range(0, appended).boxed().toList());
    }

    /** An envelope of 300 bytes that starts with its number, acknowledged as the MQTT consumer does. */
    private static Exchange numbered(CamelContext context, int n, AtomicLong acknowledged) {
        Exchange exchange = new DefaultExchange(context);
        exchange.getMessage().setBody(ByteBuffer.allocate(300).putInt(n).array());
        exchange.getMessage().setHeader("CamelMqttTopic", "spool-test");
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onComplete(Exchange done) {
                acknowledged.incrementAndGet();
            }
        });
        return exchange;
    }

    /** From now on each sync of the spool's disk counts {@code syncing} down, then waits for {@code release}. */
    private static void holdSyncs(Spool spool, CountDownLatch syncing, CountDownLatch release) {
        spool.log().force = channel -> {
            syncing.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            channel.force(false);
        };
    }
}

package dev.metamorphosis;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The disk spool's file format: records come back as written, a torn or corrupt tail is cut off, bounds hold. */
class SpoolLogTest {

    @TempDir
    Path dir;

    private static SpoolLog.Entry entry(int n) {
        byte[] value = ("{\"topic\":\"t/" + n + "\",\"content\":\"" + "x".repeat(n % 300) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        return new SpoolLog.Entry(1_700_000_000_000L + n, "t/" + n, n % 2 == 0 ? null : "k-" + n,
                n % 3 == 0 ? null : ("key-" + n).getBytes(StandardCharsets.UTF_8),
                n % 5 == 0 ? List.of(Map.entry("traceparent", ("00-" + n).getBytes(StandardCharsets.UTF_8)),
                        Map.entry("empty", new byte[0])) : List.of(), value);
    }

    /** Appends entries from..from+count-1, writes and syncs them, returns the position after each. */
    private static List<Long> write(SpoolLog log, int from, int count) throws IOException {
        for (int n = from; n < from + count; n++) {
            log.append(entry(n));
        }
        List<Long> ends = new ArrayList<>();
        for (long end : log.flush()) {
            ends.add(end);
        }
        log.sync();
        assertThat(ends).hasSize(count).isSorted();
        return ends;
    }

    private static void assertSame(SpoolLog.Entry read, SpoolLog.Entry written) {
        assertThat(read.arrived()).isEqualTo(written.arrived());
        assertThat(read.mqttTopic()).isEqualTo(written.mqttTopic());
        assertThat(read.kafkaTopic()).isEqualTo(written.kafkaTopic());
        assertThat(read.key()).isEqualTo(written.key());
        assertThat(read.value()).isEqualTo(written.value());
        assertThat(read.headers()).hasSameSizeAs(written.headers());
        for (int i = 0; i < read.headers().size(); i++) {
            assertThat(read.headers().get(i).getKey()).isEqualTo(written.headers().get(i).getKey());
            assertThat(read.headers().get(i).getValue()).isEqualTo(written.headers().get(i).getValue());
        }
    }

    private List<Path> segments() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".log")).sorted().toList();
        }
    }

    @Test
    void should_read_back_every_record_as_written_after_a_reopen() throws IOException {
        try (SpoolLog log = SpoolLog.open(dir, SpoolLog.DEFAULT_SEGMENT_BYTES)) {
            write(log, 0, 1000);
        }
        try (SpoolLog log = SpoolLog.open(dir, SpoolLog.DEFAULT_SEGMENT_BYTES)) {
            assertThat(log.recoveredRecords()).isEqualTo(1000);
            assertThat(log.records()).isEqualTo(1000);
            assertThat(log.corrupt()).isEmpty();
            List<SpoolLog.Stored> read = log.read(log.acked(), log.end(), 5000, Long.MAX_VALUE);
            assertThat(read).hasSize(1000);
            for (int n = 0; n < 1000; n++) {
                assertSame(read.get(n).entry(), entry(n));
            }
            assertThat(read.stream().mapToLong(SpoolLog.Stored::size).sum()).isEqualTo(log.bytes());
        }
    }

    @Test
    void should_replay_only_what_kafka_has_not_acknowledged() throws IOException {
        List<Long> ends;
        try (SpoolLog log = SpoolLog.open(dir, SpoolLog.DEFAULT_SEGMENT_BYTES)) {
            ends = write(log, 0, 100);
            List<SpoolLog.Stored> first = log.read(log.acked(), log.end(), 60, Long.MAX_VALUE);
            log.acknowledge(first.get(59).end(), 60, first.stream().mapToLong(SpoolLog.Stored::size).sum());
            assertThat(log.records()).isEqualTo(40);
        }
        try (SpoolLog log = SpoolLog.open(dir, SpoolLog.DEFAULT_SEGMENT_BYTES)) {
            assertThat(log.acked()).isEqualTo(ends.get(59));
            assertThat(log.recoveredRecords()).isEqualTo(40);
            List<SpoolLog.Stored> rest = log.read(log.acked(), log.end(), 1000, Long.MAX_VALUE);
            assertThat(rest).hasSize(40);
            assertSame(rest.get(0).entry(), entry(60));
            assertSame(rest.get(39).entry(), entry(99));
        }
    }

    @Test
    void should_cut_off_a_torn_last_record_and_keep_the_others() throws IOException {
        try (SpoolLog log = SpoolLog.open(dir, SpoolLog.DEFAULT_SEGMENT_BYTES)) {
            write(log, 0, 50);
        }
        Path segment = segments().get(segments().size() - 1);
        long size = Files.size(segment);
        try (FileChannel channel = FileChannel.open(segment, StandardOpenOption.WRITE)) {
            channel.truncate(size - 7);
        }
        try (SpoolLog log = SpoolLog.open(dir, SpoolLog.DEFAULT_SEGMENT_BYTES)) {
            assertThat(log.corrupt()).hasSize(1);
            assertThat(log.corrupt().get(0).reason()).startsWith("torn");
            assertThat(log.recoveredRecords()).isEqualTo(49);
            // appends go on after the last whole record
            write(log, 50, 1);
        }
        try (SpoolLog log = SpoolLog.open(dir, SpoolLog.DEFAULT_SEGMENT_BYTES)) {
            assertThat(log.corrupt()).isEmpty();
            List<SpoolLog.Stored> read = log.read(log.acked(), log.end(), 1000, Long.MAX_VALUE);
            assertThat(read).hasSize(50);
            assertSame(read.get(48).entry(), entry(48));
            assertSame(read.get(49).entry(), entry(50));
        }
    }

    @Test
    void should_detect_a_changed_byte_by_its_checksum() throws IOException {
        List<Long> ends;
        try (SpoolLog log = SpoolLog.open(dir, SpoolLog.DEFAULT_SEGMENT_BYTES)) {
            ends = write(log, 0, 10);
        }
        Path segment = segments().get(0);
        byte[] bytes = Files.readAllBytes(segment);
        int inSixth = (int) (ends.get(5) - 3); // a byte of the sixth record's value
        bytes[inSixth] ^= 0x20;
        Files.write(segment, bytes);
        try (SpoolLog log = SpoolLog.open(dir, SpoolLog.DEFAULT_SEGMENT_BYTES)) {
            assertThat(log.corrupt()).singleElement().satisfies(c -> {
                assertThat(c.reason()).contains("checksum");
                assertThat(c.offset()).isEqualTo(ends.get(4));
            });
            assertThat(log.recoveredRecords()).isEqualTo(5);
        }
    }

    @Test
    void should_roll_segments_and_delete_those_kafka_has_wholly() throws IOException {
        long segmentBytes = 16 * 1024;
        try (SpoolLog log = SpoolLog.open(dir, segmentBytes)) {
            write(log, 0, 400);
            assertThat(segments().size()).isGreaterThan(3);
            assertThat(segments()).allSatisfy(s -> assertThat(Files.size(s)).isLessThanOrEqualTo(segmentBytes));
            List<SpoolLog.Stored> read = log.read(log.acked(), log.end(), 1000, Long.MAX_VALUE);
            assertThat(read).hasSize(400);
            for (int n = 0; n < 400; n++) {
                assertSame(read.get(n).entry(), entry(n));
            }
            log.acknowledge(read.get(299).end(), 300, read.subList(0, 300).stream()
                    .mapToLong(SpoolLog.Stored::size).sum());
            long left = read.subList(300, 400).stream().mapToLong(SpoolLog.Stored::size).sum();
            assertThat(log.bytes()).isEqualTo(left);
            assertThat(log.diskBytes()).isLessThan(left + 2 * segmentBytes);
        }
        try (SpoolLog log = SpoolLog.open(dir, segmentBytes)) {
            assertThat(log.recoveredRecords()).isEqualTo(100);
            assertSame(log.read(log.acked(), log.end(), 1, Long.MAX_VALUE).get(0).entry(), entry(300));
        }
    }

    @Test
    void should_give_back_the_space_of_a_segment_kafka_has_wholly_before_it_is_full() throws IOException {
        try (SpoolLog log = SpoolLog.open(dir, SpoolLog.DEFAULT_SEGMENT_BYTES)) {
            write(log, 0, 8000);
            assertThat(log.diskBytes()).isGreaterThan(1 << 20);
            List<SpoolLog.Stored> read = log.read(log.acked(), log.end(), 8000, Long.MAX_VALUE);
            log.acknowledge(read.get(7999).end(), 8000, log.bytes());
            List<Long> next = write(log, 8000, 1);
            assertThat(segments()).singleElement().satisfies(s -> assertThat(Files.size(s)).isLessThan(1024));
            assertThat(log.read(log.acked(), log.end(), 10, Long.MAX_VALUE)).singleElement()
                    .satisfies(r -> assertThat(r.end()).isEqualTo(next.get(0)));
        }
        try (SpoolLog log = SpoolLog.open(dir, SpoolLog.DEFAULT_SEGMENT_BYTES)) {
            assertThat(log.recoveredRecords()).isEqualTo(1);
            assertSame(log.read(log.acked(), log.end(), 10, Long.MAX_VALUE).get(0).entry(), entry(8000));
        }
    }

    @Test
    void should_write_40_mib_at_once_through_at_most_1_mib_of_direct_memory() throws Exception {
        BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(pool -> pool.getName().equals("direct")).findFirst().orElseThrow();
        byte[] value = new byte[1 << 20];
        try (SpoolLog log = SpoolLog.open(dir, SpoolLog.DEFAULT_SEGMENT_BYTES)) {
            for (int n = 0; n < 40; n++) {
                log.append(new SpoolLog.Entry(n, "t", null, null, List.of(), value));
            }
            // on a thread of its own, which holds none of the JDK's temporary direct buffers yet
            FutureTask<Long> flush = new FutureTask<>(() -> {
                long before = direct.getTotalCapacity();
                log.flush();
                return direct.getTotalCapacity() - before;
            });
            new Thread(flush, "spool-log-test-flush").start();
            assertThat(flush.get(1, TimeUnit.MINUTES)).as("direct memory the write took").isLessThanOrEqualTo(1 << 20);
            log.sync();
            assertThat(log.read(log.acked(), log.end(), 100, Long.MAX_VALUE)).hasSize(40)
                    .allSatisfy(r -> assertThat(r.entry().value()).isEqualTo(value));
        }
    }

    /**
     * A segment that filled at the end of one write goes into the next sync's list when the next write starts a new
     * one; Kafka may have its records by then (they were synced before) and the segment deleted. The sync has nothing
     * left to do for it: it must not fail on its closed file, and fail again at every try, for good.
     */
    @Test
    void should_sync_after_kafka_took_a_whole_segment_the_sync_still_listed() throws IOException {
        long segmentBytes = 16 * 1024;
        try (SpoolLog log = SpoolLog.open(dir, segmentBytes)) {
            long acknowledged = 0;
            long count = 0;
            long bytes = 0;
            int deleted = 0;
            for (int n = 0; n < 200; n++) {
                int before = segments().size();
                int size = log.append(entry(n));
                long[] ends = log.flush();
                if (segments().size() > before) {
                    // this write started a new segment: Kafka takes everything before it, the full segment goes
                    acknowledged = ends[0] - size;
                    log.acknowledge(acknowledged, count, bytes);
                    deleted++;
                    count = 0;
                    bytes = 0;
                }
                log.sync();
                count++;
                bytes += size;
            }
            assertThat(deleted).as("segments Kafka took wholly while the next sync still listed them").isPositive();
            assertThat(log.read(acknowledged, log.end(), 1000, Long.MAX_VALUE)).as("records after the last of them")
                    .hasSize((int) count);
        }
    }

    @Test
    void should_give_back_the_buffer_a_burst_grew_once_writes_are_small_again() throws IOException {
        byte[] value = new byte[1 << 20];
        long empty = usedHeapAfterGc();
        try (SpoolLog log = SpoolLog.open(dir, SpoolLog.DEFAULT_SEGMENT_BYTES)) {
            // 40 MiB waiting for one write, as through a slow sync: the buffer grows to 64 MiB to hold them
            for (int n = 0; n < 40; n++) {
                log.append(new SpoolLog.Entry(n, "t", null, null, List.of(), value));
            }
            log.flush();
            long grown = usedHeapAfterGc() - empty;
            for (int n = 0; n < 8; n++) {
                write(log, n, 1);
            }
            long after = usedHeapAfterGc() - empty;
            System.out.println("RESULT | spool log | heap held after a 40 MiB write: " + (grown >> 20)
                               + " MiB; after 8 small writes: " + (after >> 20) + " MiB");
            assertThat(grown).as("heap held while the burst's buffer is kept").isGreaterThan(40L << 20);
            assertThat(after).as("heap held after 8 small writes").isLessThanOrEqualTo(4L << 20);
            assertThat(log.read(log.acked(), log.end(), 100, Long.MAX_VALUE)).as("records kept").hasSize(48);
        }
    }

    /** Heap in use after a full collection, in bytes. */
    static long usedHeapAfterGc() {
        System.gc();
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    @Test
    void should_refuse_a_spool_of_another_format_version() throws IOException {
        Files.write(dir.resolve(SpoolLog.name(0)), ByteBuffer.allocate(12).put("MTMSPOOL".getBytes(
                StandardCharsets.US_ASCII)).putInt(99).array());
        assertThatThrownBy(() -> SpoolLog.open(dir, SpoolLog.DEFAULT_SEGMENT_BYTES))
                .isInstanceOf(SpoolLog.Unusable.class).hasMessageContaining("format version 99");
    }

    @Test
    void should_refuse_a_folder_another_spool_holds() throws IOException {
        try (SpoolLog ignored = SpoolLog.open(dir, SpoolLog.DEFAULT_SEGMENT_BYTES)) {
            assertThatThrownBy(() -> SpoolLog.open(dir, SpoolLog.DEFAULT_SEGMENT_BYTES))
                    .isInstanceOf(SpoolLog.Unusable.class).hasMessageContaining("in use by another bridge");
        }
        SpoolLog.open(dir, SpoolLog.DEFAULT_SEGMENT_BYTES).close(); // let go with the first
    }

    @Test
    void should_replay_everything_when_the_checkpoint_is_corrupt() throws IOException {
        try (SpoolLog log = SpoolLog.open(dir, SpoolLog.DEFAULT_SEGMENT_BYTES)) {
            write(log, 0, 20);
            List<SpoolLog.Stored> read = log.read(log.acked(), log.end(), 10, Long.MAX_VALUE);
            log.acknowledge(read.get(9).end(), 10, read.stream().mapToLong(SpoolLog.Stored::size).sum());
        }
        byte[] checkpoint = Files.readAllBytes(dir.resolve("acked"));
        checkpoint[6] ^= 1;
        Files.write(dir.resolve("acked"), checkpoint);
        try (SpoolLog log = SpoolLog.open(dir, SpoolLog.DEFAULT_SEGMENT_BYTES)) {
            assertThat(log.recoveredRecords()).as("duplicates rather than a loss").isEqualTo(20);
        }
    }
}

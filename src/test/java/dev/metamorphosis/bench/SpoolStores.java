package dev.metamorphosis.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

import org.h2.mvstore.Cursor;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

import dev.metamorphosis.it.Folders;

/**
 * The evidence for the durable spool's storage (docs/spool-storage.md): the spool's workload on each candidate, on
 * this machine's disk. One thread appends records of 250 random bytes (a 200-byte payload in its JSON envelope) and
 * makes them durable in groups (group commit: one fsync per group, as the bridge acknowledges MQTT only after it);
 * then the records are read back in order and removed from the head in batches of 1000, as Kafka acknowledges them.
 * <p>
 * Per candidate and group size: durable appends per second, the commit's latency (p50, p99), reads+removals per
 * second, the CPU time per record, the bytes the process had written per record ({@code write_bytes} of
 * /proc/self/io: a page counts each time it is dirtied again after a sync, so it sees rewrites), the bytes the whole
 * disk took meanwhile (/proc/diskstats: adds the file system's journal, and anyone else's writes on a shared machine)
 * and the size of the files. Not a test: nothing passes or fails on a figure.
 * <p>
 * {@code ./mvnw -q -Pbench test-compile exec:exec@spool-stores}; a Markdown table on stdout. Settings, as system
 * properties: {@code stores.count} records a run (200,000), {@code stores.count.single} for group size 1 (5,000: a
 * sync per record is slow), {@code stores.repeat} runs of each case, the median one reported (3),
 * {@code stores.only} a comma-separated list of candidates (segment, segment-prealloc, sqlite, mvstore, rocksdb),
 * {@code stores.dir} the folder (target/spool-stores: on the disk, where /tmp may be memory).
 */
public final class SpoolStores {

    private static final int RECORD = 250;
    private static final int REMOVE_BATCH = 1000;
    private static final int[] GROUPS = {1, 32, 1000};

    private final int count = Integer.getInteger("stores.count", 200_000);
    private final int countSingle = Integer.getInteger("stores.count.single", 5_000);
    private final int repeat = Integer.getInteger("stores.repeat", 3);
    private final List<String> only = List.of(System.getProperty("stores.only", "").split(","));
    private final Path root = Path.of(System.getProperty("stores.dir", "target/spool-stores")).toAbsolutePath();
    /** Incompressible: a window of it is a record, so no two records are alike and no store gains by compressing. */
    private final byte[] noise = new byte[1 << 20];

    public static void main(String[] args) throws Exception {
        new SpoolStores().run();
    }

    private void run() throws Exception {
        new SplittableRandom(42).nextBytes(noise);
        Files.createDirectories(root);
        System.out.printf("Machine: %d CPUs, %s at %s (%s), Java %s; load average %s%n",
                Runtime.getRuntime().availableProcessors(), Files.getFileStore(root).type(), root,
                Files.getFileStore(root).name(), System.getProperty("java.version"), Proc.loadAverage());
        List<String> table = new ArrayList<>();
        table.add("| store | group | records | appended rec/s, best (range) of " + repeat + " | commit p50 ms "
                + "| commit p99 ms | read+remove rec/s | CPU µs/rec | process B/rec (append) | process B/rec (all) "
                + "| disk B/rec (all) | files after append MiB | files at end MiB |");
        table.add("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        List<String> names = new ArrayList<>();
        for (String name : new String[] {"segment", "segment-prealloc", "sqlite", "mvstore", "rocksdb"}) {
            if (!(only.size() == 1 && only.get(0).isEmpty() || only.contains(name))) {
                continue;
            }
            try {
                // warm-up, not reported: the JIT compiler and the native libraries' loading out of the figures
                measure(name, 1000, 20_000);
                names.add(name);
            } catch (Throwable e) {
                System.out.println(name + ": skipped, " + e);
                table.add("| " + name + " | skipped: " + e + " |");
            }
        }
        for (int group : GROUPS) {
            // the machine is shared: several rounds, the candidates in turn within each so that a busy moment
            // falls on all alike; others' load only ever slows a run, so the fastest is reported, with the range
            List<List<Result>> results = new ArrayList<>();
            names.forEach(name -> results.add(new ArrayList<>()));
            for (int r = 0; r < repeat; r++) {
                for (int c = 0; c < names.size(); c++) {
                    Result result = measure(names.get(c), group, group == 1 ? countSingle : count);
                    results.get(c).add(result);
                    System.out.println(result.row(""));
                }
            }
            for (List<Result> runs : results) {
                runs.sort(Comparator.comparingDouble(Result::appendRate));
                table.add(runs.get(runs.size() - 1).row(String.format(Locale.ROOT, " (%,.0f-%,.0f)",
                        runs.get(0).appendRate, runs.get(runs.size() - 1).appendRate)));
            }
        }
        System.out.println("\nLoad average at the end: " + Proc.loadAverage() + "\n");
        table.forEach(System.out::println);
    }

    private Result measure(String name, int group, int n) throws Exception {
        Path dir = root.resolve(name + "-" + group);
        Folders.delete(dir);
        Files.createDirectories(dir);
        long[] commits = new long[(n + group - 1) / group];
        double appendRate;
        double removeRate;
        long io0;
        long[] disk0;
        double cpu0;
        long io1;
        long sizeAfterAppend;
        try (Store store = open(name, dir)) {
            // from here: a preallocated segment's zeros are a one-off per file (none once files are recycled)
            disk0 = diskWritten(dir);
            io0 = processWritten();
            cpu0 = cpuSeconds();
            long start = System.nanoTime();
            int c = 0;
            for (int i = 0; i < n; i++) {
                store.append(i, noise, (int) ((long) i * 4099 % (noise.length - RECORD)), RECORD);
                if ((i + 1) % group == 0 || i == n - 1) {
                    long t = System.nanoTime();
                    store.commit();
                    commits[c++] = System.nanoTime() - t;
                }
            }
            appendRate = n / ((System.nanoTime() - start) / 1e9);
            io1 = processWritten();
            sizeAfterAppend = size(dir);
            start = System.nanoTime();
            long next = 0;
            while (next < n) {
                long last = store.readAndRemove(next, REMOVE_BATCH);
                if (last < next) {
                    throw new IllegalStateException(name + " lost records from " + next);
                }
                next = last + 1;
            }
            removeRate = n / ((System.nanoTime() - start) / 1e9);
        }
        long io2 = processWritten();
        double cpu = cpuSeconds() - cpu0;
        long[] disk1 = diskWritten(dir);
        Arrays.sort(commits);
        Result result = new Result(name, group, n, appendRate, commits[commits.length / 2] / 1e6,
                commits[(int) Math.ceil(commits.length * 0.99) - 1] / 1e6, removeRate, cpu * 1e6 / n,
                (io1 - io0) / (double) n, (io2 - io0) / (double) n,
                disk0 == null ? Double.NaN : (disk1[0] - disk0[0]) / (double) n, sizeAfterAppend / 1048576.0,
                size(dir) / 1048576.0);
        Folders.delete(dir);
        return result;
    }

    /**
     * One run's figures: rates per second, latencies in ms, CPU (user + system, all threads) and bytes per record
     * (append, read and removal), sizes in MiB.
     */
    record Result(String store, int group, int records, double appendRate, double commitP50, double commitP99,
                  double removeRate, double cpuPerRecord, double processAppend, double processAll, double diskAll,
                  double filesAfterAppend, double filesAtEnd) {

        String row(String spread) {
            String disk = Double.isNaN(diskAll) ? "?" : String.format(Locale.ROOT, "%,.0f", diskAll);
            return String.format(Locale.ROOT, "| %s | %d | %,d | %,.0f%s | %.2f | %.2f | %,.0f | %.1f | %,.0f | %,.0f "
                    + "| %s | %.1f | %.1f |", store, group, records, appendRate, spread, commitP50, commitP99,
                    removeRate, cpuPerRecord, processAppend, processAll, disk, filesAfterAppend, filesAtEnd);
        }
    }

    private static Store open(String name, Path dir) throws Exception {
        return switch (name) {
            case "segment" -> new SegmentLog(dir, 64L << 20, false);
            case "segment-prealloc" -> new SegmentLog(dir, 64L << 20, true);
            case "sqlite" -> new Sqlite(dir);
            case "mvstore" -> new MvStore(dir);
            case "rocksdb" -> new Rocks(dir);
            default -> throw new IllegalArgumentException(name);
        };
    }

    /** The spool as the benchmark uses it: records numbered from 0, appended in order, removed from the head. */
    interface Store extends AutoCloseable {
        /** Adds a record; durable only after the next {@link #commit}. */
        void append(long seq, byte[] body, int offset, int length) throws Exception;

        /** Makes every record appended so far durable. */
        void commit() throws Exception;

        /**
         * Reads up to {@code max} records from {@code first} (the head) in order, then removes them; returns the
         * number of the last one. The removal need not be synced: lost, it sends Kafka again what it has.
         */
        long readAndRemove(long first, int max) throws Exception;
    }

    /**
     * A plain append-only log: 64 MiB segment files named by the position of their first byte, a 12-byte header,
     * then records [int length][int CRC32C][payload]; force(false) per group. Removal advances a 16-byte checkpoint,
     * overwritten and not synced, and deletes the segments wholly before it. No index: a FIFO reads in file order.
     */
    static final class SegmentLog implements Store {
        private static final byte[] HEADER = {'M', 'T', 'M', 'S', 'P', 'O', 'O', 'L', 0, 0, 0, 1};
        private final Path dir;
        private final long segmentBytes;
        private final ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
        private final CRC32C crc = new CRC32C();
        private final ArrayDeque<Long> segments = new ArrayDeque<>();
        /**
         * Fill each new segment with zeros (written and synced) before appending: an append then overwrites blocks
         * the file already has, so its fsync changes no metadata and needs no commit of the file system's journal
         * (ext4). The end of the log is then the first record of length 0, not the end of the file.
         */
        private final boolean preallocate;
        private final FileChannel checkpoint;
        private final ByteBuffer checkpointBuffer = ByteBuffer.allocate(16);
        private FileChannel out;
        /** Position of the next byte to append, over all segments. */
        private long end;
        // the reader: its own channel, so reading never moves the writer's position
        private FileChannel in;
        private long inSegment = -1;
        private long inPosition;
        private final ByteBuffer readBuffer = ByteBuffer.allocate(256 << 10).flip();

        SegmentLog(Path dir, long segmentBytes, boolean preallocate) throws IOException {
            this.dir = dir;
            this.segmentBytes = segmentBytes;
            this.preallocate = preallocate;
            checkpoint = FileChannel.open(dir.resolve("acked"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            roll();
        }

        private Path segment(long start) {
            return dir.resolve(String.format("%020d.log", start));
        }

        private void roll() throws IOException {
            if (out != null) {
                flush();
                out.force(false);
                out.close();
            }
            segments.add(end);
            out = FileChannel.open(segment(end), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            if (preallocate) {
                // page-sized writes: Linux 6.18's ext4 caches a 1 MiB write as large folios, and write_bytes then
                // counts a whole folio for each later 250-byte append into it, where the disk gets 4 KiB blocks
                ByteBuffer zeros = ByteBuffer.allocateDirect(4096);
                for (long p = 0; p < segmentBytes; p += zeros.capacity()) {
                    out.write(zeros.clear(), p);
                }
                out.force(false);
            }
            buffer.put(HEADER);
            end += HEADER.length;
            flush();
            out.force(false);
            // the new file's name must be durable too, or a crash loses the segment with its synced records
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            }
        }

        @Override
        public void append(long seq, byte[] body, int offset, int length) throws IOException {
            if (end + 8 + length - segments.peekLast() > segmentBytes) {
                roll();
            }
            if (buffer.remaining() < 8 + length) {
                flush();
            }
            crc.reset();
            crc.update(body, offset, length);
            buffer.putInt(length).putInt((int) crc.getValue()).put(body, offset, length);
            end += 8 + length;
        }

        private void flush() throws IOException {
            buffer.flip();
            while (buffer.hasRemaining()) {
                out.write(buffer);
            }
            buffer.clear();
        }

        @Override
        public void commit() throws IOException {
            flush();
            out.force(false);
        }

        @Override
        public long readAndRemove(long first, int max) throws IOException {
            long seq = first - 1;
            for (int i = 0; i < max; i++) {
                if (!fill(8) || !fill(8 + Math.min(RECORD, readBuffer.getInt(readBuffer.position())))) {
                    break;
                }
                if (readBuffer.getInt(readBuffer.position()) == 0) {
                    break; // a preallocated segment: the zeros after the last record
                }
                int length = readBuffer.getInt();
                int sum = readBuffer.getInt();
                if (length != RECORD) {
                    throw new IllegalStateException("corrupt record " + (seq + 1) + ": length " + length);
                }
                crc.reset();
                crc.update(readBuffer.array(), readBuffer.arrayOffset() + readBuffer.position(), length);
                if ((int) crc.getValue() != sum) {
                    throw new IllegalStateException("corrupt record " + (seq + 1));
                }
                readBuffer.position(readBuffer.position() + length);
                inPosition += 8 + length;
                seq++;
            }
            checkpointBuffer.clear();
            checkpointBuffer.putLong(inSegment + inPosition).putLong(seq).flip();
            checkpoint.write(checkpointBuffer, 0);
            // whole segments behind the checkpoint go (the reader has moved past them); the one being written stays
            while (segments.size() > 1) {
                Iterator<Long> starts = segments.iterator();
                starts.next();
                if (starts.next() > inSegment) {
                    break;
                }
                Files.delete(segment(segments.poll()));
            }
            return seq;
        }

        /** Refills the read buffer until it holds {@code need} bytes; moves to the next segment at a file's end. */
        private boolean fill(int need) throws IOException {
            while (readBuffer.remaining() < need) {
                if (in == null) {
                    Long next = segments.stream().filter(s -> s > inSegment).findFirst().orElse(null);
                    if (next == null) {
                        return false;
                    }
                    in = FileChannel.open(segment(next), StandardOpenOption.READ);
                    inSegment = next;
                    inPosition = HEADER.length;
                    in.position(HEADER.length);
                    readBuffer.clear().flip();
                }
                readBuffer.compact();
                int read = in.read(readBuffer);
                readBuffer.flip();
                if (read < 0) {
                    if (readBuffer.hasRemaining() || inSegment == segments.peekLast()) {
                        return false; // the writer's segment ends here (or with a torn record)
                    }
                    in.close();
                    in = null;
                }
            }
            return true;
        }

        @Override
        public void close() throws IOException {
            commit();
            out.close();
            checkpoint.close();
            if (in != null) {
                in.close();
            }
        }
    }

    /** SQLite (sqlite-jdbc): WAL journal, synchronous=FULL, a transaction per group; DELETE per removal batch. */
    static final class Sqlite implements Store {
        private final Connection db;
        private final PreparedStatement insert;
        private final PreparedStatement select;
        private final PreparedStatement delete;
        private boolean removing;

        Sqlite(Path dir) throws SQLException {
            db = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("spool.db"));
            try (Statement s = db.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("PRAGMA synchronous=FULL");
                s.execute("CREATE TABLE spool (seq INTEGER PRIMARY KEY, body BLOB)");
            }
            db.setAutoCommit(false);
            insert = db.prepareStatement("INSERT INTO spool (seq, body) VALUES (?, ?)");
            select = db.prepareStatement("SELECT seq, body FROM spool WHERE seq >= ? ORDER BY seq LIMIT ?");
            delete = db.prepareStatement("DELETE FROM spool WHERE seq <= ?");
        }

        @Override
        public void append(long seq, byte[] body, int offset, int length) throws SQLException {
            insert.setLong(1, seq);
            insert.setBytes(2, Arrays.copyOfRange(body, offset, offset + length));
            insert.executeUpdate();
        }

        @Override
        public void commit() throws SQLException {
            db.commit();
        }

        @Override
        public long readAndRemove(long first, int max) throws SQLException {
            if (!removing) {
                // like the other candidates, removals are not synced: NORMAL in WAL mode syncs only at checkpoints
                removing = true;
                db.setAutoCommit(true);
                try (Statement s = db.createStatement()) {
                    s.execute("PRAGMA synchronous=NORMAL");
                }
                db.setAutoCommit(false);
            }
            long seq = first - 1;
            select.setLong(1, first);
            select.setInt(2, max);
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    seq = rows.getLong(1);
                    if (rows.getBytes(2).length != RECORD) {
                        throw new IllegalStateException("bad record " + seq);
                    }
                }
            }
            delete.setLong(1, seq);
            delete.executeUpdate();
            db.commit();
            return seq;
        }

        @Override
        public void close() throws SQLException {
            db.close();
        }
    }

    /** H2's MVStore: an MVMap of Long to byte[], commit() and sync() per group; remove per key, commit unsynced. */
    static final class MvStore implements Store {
        private final MVStore store;
        private final MVMap<Long, byte[]> map;

        MvStore(Path dir) {
            // no background writer: the benchmark commits itself, and a commit is then written before it returns
            store = new MVStore.Builder().fileName(dir.resolve("spool.mv.db").toString()).autoCommitDisabled().open();
            map = store.openMap("spool");
        }

        @Override
        public void append(long seq, byte[] body, int offset, int length) {
            map.put(seq, Arrays.copyOfRange(body, offset, offset + length));
        }

        @Override
        public void commit() {
            store.commit();
            store.sync();
        }

        @Override
        public long readAndRemove(long first, int max) {
            long seq = first - 1;
            List<Long> keys = new ArrayList<>(max);
            Cursor<Long, byte[]> cursor = map.cursor(first);
            while (keys.size() < max && cursor.hasNext()) {
                seq = cursor.next();
                if (cursor.getValue().length != RECORD) {
                    throw new IllegalStateException("bad record " + seq);
                }
                keys.add(seq);
            }
            keys.forEach(map::remove);
            store.commit();
            return seq;
        }

        @Override
        public void close() {
            store.close();
        }
    }

    /** RocksDB: a write batch per group written with sync; a range delete per removal batch, unsynced. */
    static final class Rocks implements Store {
        private final org.rocksdb.Options options;
        private final RocksDB db;
        private final WriteOptions sync;
        private final WriteOptions noSync;
        private final WriteBatch batch;

        Rocks(Path dir) throws Exception {
            // the native library first: every RocksDB object is a handle into it
            RocksDB.loadLibrary();
            sync = new WriteOptions().setSync(true);
            noSync = new WriteOptions();
            batch = new WriteBatch();
            options = new org.rocksdb.Options().setCreateIfMissing(true);
            db = RocksDB.open(options, dir.toString());
        }

        /** Big-endian, so the keys sort as the numbers do. */
        private static byte[] key(long seq) {
            return ByteBuffer.allocate(8).putLong(seq).array();
        }

        @Override
        public void append(long seq, byte[] body, int offset, int length) throws Exception {
            batch.put(key(seq), Arrays.copyOfRange(body, offset, offset + length));
        }

        @Override
        public void commit() throws Exception {
            db.write(sync, batch);
            batch.clear();
        }

        @Override
        public long readAndRemove(long first, int max) throws Exception {
            long seq = first - 1;
            try (ReadOptions read = new ReadOptions(); RocksIterator it = db.newIterator(read)) {
                int n = 0;
                for (it.seek(key(first)); it.isValid() && n < max; it.next(), n++) {
                    seq = ByteBuffer.wrap(it.key()).getLong();
                    if (it.value().length != RECORD) {
                        throw new IllegalStateException("bad record " + seq);
                    }
                }
            }
            db.deleteRange(noSync, key(first), key(seq + 1));
            return seq;
        }

        @Override
        public void close() {
            batch.close();
            db.close();
            options.close();
            sync.close();
            noSync.close();
        }
    }

    /** CPU seconds of the whole process so far, its native threads (RocksDB's flushes) included. */
    private static double cpuSeconds() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime() / 1e9;
    }

    /** Bytes this process has had written to storage so far (counted when a page is dirtied). */
    private static long processWritten() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/io"))) {
            if (line.startsWith("write_bytes:")) {
                return Long.parseLong(line.substring(12).strip());
            }
        }
        throw new IllegalStateException("no write_bytes in /proc/self/io");
    }

    /** {bytes written} so far to the block device holding {@code dir}, from /proc/diskstats; null if not found. */
    private static long[] diskWritten(Path dir) {
        try {
            long dev = (Long) Files.getAttribute(dir, "unix:dev");
            long major = (dev >>> 8) & 0xfff | (dev >>> 32) & ~0xfffL;
            long minor = dev & 0xff | (dev >>> 12) & ~0xffL;
            for (String line : Files.readAllLines(Path.of("/proc/diskstats"))) {
                String[] f = line.strip().split("\\s+");
                if (Long.parseLong(f[0]) == major && Long.parseLong(f[1]) == minor) {
                    return new long[] {Long.parseLong(f[9]) * 512};
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or a file system on no block device (overlay, tmpfs)
        }
        return null;
    }

    private static long size(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }
}

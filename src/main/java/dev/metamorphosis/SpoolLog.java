package dev.metamorphosis;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * The disk spool of {@code DELIVERY=durable}: an append-only log of records in segment files, in the folder
 * {@code SPOOL_DIR}. Chosen over SQLite, MVStore and RocksDB on the figures of docs/spool-storage.md: a FIFO needs no
 * index, and a plain log writes each record once.
 * <p>
 * A segment is named by the position of its first byte (20 digits, {@code .log}) and begins with a 12-byte header,
 * {@code MTMSPOOL} and the format version. A record is its payload's length, the CRC32C of that length and the
 * payload, then the payload: arrival time, MQTT topic, Kafka topic, key, headers, value. A position is a segment's
 * name plus an offset in it. File {@code acked} holds the position up to which Kafka has every record (written on
 * each acknowledgement, not synced: a process that dies keeps it, a machine that loses power may write the last
 * seconds' records again); segments wholly before it are deleted. File {@code lock} is held while a bridge uses the
 * folder.
 * <p>
 * {@link #append} buffers a record; {@link #flush} writes what is buffered, which gives each record its position, and
 * {@link #sync} makes it durable, so one sync covers every record appended before the flush. At {@link #open}, every record after {@code acked} is checked
 * against its CRC; the first that fails (a torn tail after a crash, or a corrupt sector) ends its segment there: it is
 * counted, reported and cut off, and the segments after it are read on.
 */
final class SpoolLog implements AutoCloseable {

    static final int VERSION = 1;
    static final int HEADER = 12;
    /** Length and CRC in front of each payload. */
    static final int FRAME = 8;
    static final long DEFAULT_SEGMENT_BYTES = 64L << 20;
    private static final byte[] MAGIC = "MTMSPOOL".getBytes(StandardCharsets.US_ASCII);
    private static final Pattern SEGMENT = Pattern.compile("\\d{20}\\.log");
    private static final int CHECKPOINT_MAGIC = 0x4d544d41;
    private static final int BUFFER = 1 << 20;
    /** Size from which a segment Kafka has wholly is given up for a new one, though not full. */
    private static final long RECLAIM_AT = 1 << 20;
    /** A length above this is taken for a corrupt one (the largest Kafka record the bridge writes is far smaller). */
    private static final int MAX_PAYLOAD = 1 << 30;

    /** Makes what was written to a segment's channel durable. */
    interface Force {
        void force(FileChannel channel) throws IOException;
    }

    /** What the spool keeps of a message: the Kafka record to write, and when the message arrived. */
    record Entry(long arrived, String mqttTopic, String kafkaTopic, byte[] key, List<Map.Entry<String, byte[]>> headers,
                 byte[] value) {
    }

    /** A record read back: its entry, where it ends, and the bytes it takes in its segment. */
    record Stored(Entry entry, long end, int size) {
    }

    /** A spool folder that cannot be used; the message is the one line a user sees (after {@code SPOOL_DIR=...}). */
    static final class Unusable extends IOException {
        Unusable(String message) {
            super(message);
        }
    }

    /** A corrupt record found at open: where, why, and the bytes cut off from there to the end of its segment. */
    record Corrupt(Path segment, long offset, String reason, long bytesCut) {
    }

    private static final class Segment {
        final long base;
        final Path file;
        final FileChannel channel;
        volatile long size;

        Segment(long base, Path file, FileChannel channel, long size) {
            this.base = base;
            this.file = file;
            this.channel = channel;
            this.size = size;
        }
    }

    private final Path dir;
    private final long segmentBytes;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final FileChannel checkpoint;
    private final ConcurrentSkipListMap<Long, Segment> segments = new ConcurrentSkipListMap<>();
    private final ReentrantLock appendLock = new ReentrantLock();
    /** How {@link #sync} makes a segment's records durable; a test holds it to see what waits for the sync. */
    volatile Force force = channel -> channel.force(false);
    private final List<Segment> rolled = new ArrayList<>();
    private final List<Corrupt> corrupt = new ArrayList<>();
    private final CRC32C crc = new CRC32C();
    private ByteBuffer buffer = ByteBuffer.allocate(BUFFER);
    private volatile Segment active;
    private volatile long acked;
    private volatile long records;
    private volatile long bytes;
    private boolean newSegment;
    private long recoveredRecords;
    private long recoveredBytes;

    private SpoolLog(Path dir, long segmentBytes, FileChannel lockChannel, FileLock lock, FileChannel checkpoint) {
        this.dir = dir;
        this.segmentBytes = segmentBytes;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.checkpoint = checkpoint;
    }

    /**
     * Opens the spool in {@code dir}, a folder that exists: takes its lock, checks every record after the checkpoint
     * and cuts off a corrupt tail.
     *
     * @throws Unusable when another process holds the folder or a segment is of another format
     */
    static SpoolLog open(Path dir, long segmentBytes) throws IOException {
        FileChannel lockChannel = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = lockChannel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            lockChannel.close();
            throw new Unusable("is in use by another bridge (its file lock is held): give each bridge a folder of "
                               + "its own");
        }
        FileChannel checkpoint = FileChannel.open(dir.resolve("acked"), StandardOpenOption.CREATE,
                StandardOpenOption.READ, StandardOpenOption.WRITE);
        SpoolLog log = new SpoolLog(dir, segmentBytes, lockChannel, lock, checkpoint);
        try {
            log.recover();
        } catch (IOException | RuntimeException e) {
            log.close();
            throw e;
        }
        return log;
    }

    private void recover() throws IOException {
        List<Long> bases = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path file : files) {
                if (SEGMENT.matcher(file.getFileName().toString()).matches()) {
                    bases.add(Long.parseLong(file.getFileName().toString().substring(0, 20)));
                }
            }
        }
        bases.sort(null);
        acked = readCheckpoint(bases.isEmpty() ? 0 : bases.get(0));
        for (int i = 0; i < bases.size(); i++) {
            long base = bases.get(i);
            Path file = dir.resolve(name(base));
            boolean last = i == bases.size() - 1;
            long size = Files.size(file);
            if (size < HEADER) {
                // created, and the machine stopped before its header was written: it never held a record
                if (last) {
                    Files.delete(file);
                }
                continue;
            }
            checkHeader(file);
            if (!last && bases.get(i + 1) <= acked) {
                Files.delete(file); // Kafka has all of it
                continue;
            }
            FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
            Segment segment = new Segment(base, file, channel, size);
            segments.put(base, segment);
            scan(segment);
        }
        if (segments.isEmpty()) {
            roll(Math.max(acked, 0));
        } else {
            active = segments.lastEntry().getValue();
        }
        long first = segments.firstKey() + HEADER; // where the first record there is begins
        if (acked > end() || acked < first) {
            acked = first; // a new spool, or a checkpoint from another folder's life: read everything there is
        }
        records = recoveredRecords;
        bytes = recoveredBytes;
    }

    /** Counts the records after the checkpoint; cuts the segment at the first record that fails its check. */
    private void scan(Segment segment) throws IOException {
        long offset = Math.max(HEADER, acked - segment.base);
        ByteBuffer frame = ByteBuffer.allocate(FRAME);
        while (offset < segment.size) {
            String problem = null;
            int length = -1;
            frame.clear();
            if (segment.size - offset < FRAME) {
                problem = "torn: " + (segment.size - offset) + " byte(s) where a record's length and checksum belong";
            } else {
                readFully(segment.channel, frame, offset);
                frame.flip();
                length = frame.getInt();
                int expected = frame.getInt();
                if (length < 0 || length > MAX_PAYLOAD) {
                    problem = "a length of " + length + " bytes";
                } else if (segment.size - offset - FRAME < length) {
                    problem = "torn: " + (segment.size - offset - FRAME) + " of its " + length + " bytes written";
                } else {
                    ByteBuffer payload = ByteBuffer.allocate(length);
                    readFully(segment.channel, payload, offset + FRAME);
                    if (checksum(length, payload.array(), 0, length) != expected) {
                        problem = "its checksum does not match";
                    }
                }
            }
            if (problem != null) {
                corrupt.add(new Corrupt(segment.file, offset, problem, segment.size - offset));
                segment.channel.truncate(offset);
                segment.channel.force(true);
                segment.size = offset;
                return;
            }
            recoveredRecords++;
            recoveredBytes += FRAME + length;
            offset += FRAME + length;
        }
    }

    private static void checkHeader(Path file) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(HEADER);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            readFully(channel, header, 0);
        }
        header.flip();
        byte[] magic = new byte[MAGIC.length];
        header.get(magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            throw new Unusable("holds " + file.getFileName() + ", which is not a spool segment");
        }
        int version = header.getInt();
        if (version != VERSION) {
            throw new Unusable("holds a spool of format version " + version + " (" + file.getFileName()
                               + "), which this version of the bridge does not read (it reads version " + VERSION
                               + "): let the version that wrote it write it to Kafka, or move the folder away");
        }
    }

    private long readCheckpoint(long otherwise) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16);
        if (checkpoint.size() < 16) {
            return otherwise;
        }
        readFully(checkpoint, b, 0);
        b.flip();
        int magic = b.getInt();
        long position = b.getLong();
        int check = b.getInt();
        CRC32C c = new CRC32C();
        c.update(b.array(), 4, 8);
        return magic == CHECKPOINT_MAGIC && (int) c.getValue() == check ? position : otherwise;
    }

    /**
     * Appends a record to the buffer, to be written by the next {@link #flush}; returns the bytes it takes there. It
     * gets its position when it is written.
     */
    int append(Entry entry) {
        appendLock.lock();
        try {
            int start = buffer.position();
            encode(entry);
            int size = buffer.position() - start;
            records++;
            bytes += size;
            return size;
        } finally {
            appendLock.unlock();
        }
    }

    private void encode(Entry entry) {
        byte[] mqttTopic = utf8(entry.mqttTopic());
        byte[] kafkaTopic = utf8(entry.kafkaTopic());
        int length = 8 + 2 + mqttTopic.length + 2 + kafkaTopic.length + 4 + (entry.key() == null ? 0
                : entry.key().length) + 4 + 4 + entry.value().length;
        for (Map.Entry<String, byte[]> h : entry.headers()) {
            length += 2 + utf8(h.getKey()).length + 4 + (h.getValue() == null ? 0 : h.getValue().length);
        }
        ensure(FRAME + length);
        int start = buffer.position();
        buffer.putInt(length).putInt(0);
        buffer.putLong(entry.arrived());
        buffer.putShort((short) mqttTopic.length).put(mqttTopic);
        buffer.putShort((short) kafkaTopic.length).put(kafkaTopic);
        putBytes(entry.key());
        buffer.putInt(entry.headers().size());
        for (Map.Entry<String, byte[]> h : entry.headers()) {
            byte[] name = utf8(h.getKey());
            buffer.putShort((short) name.length).put(name);
            putBytes(h.getValue());
        }
        putBytes(entry.value());
        buffer.putInt(start + 4, checksum(length, buffer.array(), start + FRAME, length));
    }

    private void putBytes(byte[] b) {
        if (b == null) {
            buffer.putInt(-1);
        } else {
            buffer.putInt(b.length).put(b);
        }
    }

    private void ensure(int more) {
        if (buffer.remaining() < more) {
            ByteBuffer bigger = ByteBuffer.allocate(Math.max(buffer.capacity() * 2, buffer.position() + more));
            buffer.flip();
            bigger.put(buffer);
            buffer = bigger;
        }
    }

    private int checksum(int length, byte[] payload, int offset, int count) {
        CRC32C c = new CRC32C();
        c.update(ByteBuffer.allocate(4).putInt(0, length));
        c.update(payload, offset, count);
        return (int) c.getValue();
    }

    /** Bytes appended and not yet written. */
    long buffered() {
        appendLock.lock();
        try {
            return buffer.position();
        } finally {
            appendLock.unlock();
        }
    }

    /**
     * Writes the records appended since the last flush to their segments, starting a new segment where one is full,
     * and returns the position after each, in order; they are durable after the next {@link #sync}. When a write
     * fails nothing of it counts: the records stay buffered and the next flush writes them again, at the same place.
     */
    long[] flush() throws IOException {
        appendLock.lock();
        try {
            reclaim();
            buffer.flip();
            int count = 0;
            for (int at = 0; at < buffer.limit(); at += FRAME + buffer.getInt(at)) {
                count++;
            }
            long[] ends = new long[count];
            Segment first = active;
            long firstSize = active.size;
            List<Segment> started = new ArrayList<>();
            try {
                int at = 0;
                for (int i = 0; i < count; ) {
                    if (active.size + FRAME + buffer.getInt(at) > segmentBytes && active.size > HEADER) {
                        started.add(active);
                        roll(active.base + active.size);
                    }
                    // as many records as fit in this segment
                    int from = at;
                    long size = active.size;
                    do {
                        size += FRAME + buffer.getInt(at);
                        at += FRAME + buffer.getInt(at);
                        ends[i++] = active.base + size;
                    } while (i < count && size + FRAME + buffer.getInt(at) <= segmentBytes);
                    // in slices of at most BUFFER: the JDK copies a heap buffer into a direct one of the same size
                    // to write it, and keeps the largest for the thread (a 64 MiB write kept 64 MiB off the heap)
                    long position = active.size;
                    for (int slice = from; slice < at; ) {
                        ByteBuffer run = buffer.duplicate().position(slice).limit(Math.min(at, slice + BUFFER));
                        while (run.hasRemaining()) {
                            position += active.channel.write(run, position);
                        }
                        slice = run.limit();
                    }
                    active.size = position;
                }
            } catch (IOException e) {
                // back to where this flush began: what it wrote is cut off again and written by the next one
                first.size = firstSize;
                truncate(first);
                for (Segment s : started.subList(Math.min(1, started.size()), started.size())) {
                    s.size = HEADER;
                    truncate(s);
                }
                if (active != first) {
                    active.size = HEADER;
                    truncate(active);
                }
                buffer.position(buffer.limit()).limit(buffer.capacity());
                throw e;
            }
            rolled.addAll(started);
            int flushed = buffer.limit();
            buffer.clear();
            // grown for what waited through a slow sync (up to Spool's 16 MiB), it would stay that size for good in
            // the old generation, and the heap sized around it: halved at each write that filled under a quarter
            if (buffer.capacity() > BUFFER && flushed < buffer.capacity() / 4) {
                buffer = ByteBuffer.allocate(Math.max(BUFFER, buffer.capacity() / 2));
            }
            return ends;
        } finally {
            appendLock.unlock();
        }
    }

    /**
     * When Kafka has everything written and the active segment has grown, the next records go to a new segment and
     * the old one is deleted: space comes back without waiting for a segment to fill (on a full disk, the old one goes
     * first to make room).
     */
    private void reclaim() throws IOException {
        Segment old = active;
        if (acked < old.base + old.size || old.size < RECLAIM_AT) {
            return;
        }
        try {
            roll(old.base + old.size);
        } catch (IOException e) {
            segments.remove(old.base, old);
            old.channel.close();
            Files.deleteIfExists(old.file);
            roll(old.base + old.size); // should this fail too, the next flush fails on the closed one and tries again
            return;
        }
        if (segments.remove(old.base, old)) {
            old.channel.close();
            Files.deleteIfExists(old.file);
        }
    }

    private static void truncate(Segment segment) {
        try {
            segment.channel.truncate(segment.size);
        } catch (IOException e) {
            // the file keeps a tail past its size, which the next write overwrites
        }
    }

    /** Makes everything written so far durable: the segments written since the last sync, and new segments' names. */
    void sync() throws IOException {
        List<Segment> toSync;
        boolean created;
        Segment current;
        appendLock.lock();
        try {
            toSync = new ArrayList<>(rolled);
            rolled.clear();
            created = newSegment;
            newSegment = false;
            current = active;
        } finally {
            appendLock.unlock();
        }
        try {
            for (Segment s : toSync) {
                force(s);
            }
            force(current);
            if (created) {
                try (FileChannel folder = FileChannel.open(dir, StandardOpenOption.READ)) {
                    folder.force(true); // a new file's name is durable once its folder is synced
                }
            }
        } catch (IOException e) {
            appendLock.lock();
            try {
                rolled.addAll(0, toSync);
                newSegment |= created;
            } finally {
                appendLock.unlock();
            }
            throw e;
        }
    }

    /**
     * Syncs a segment's file, unless Kafka has had all of it and it was deleted meanwhile: a segment that filled at the
     * end of one write is in the next sync's list, though its records were synced before, and Kafka may take them
     * first. Before, its closed file failed that sync and, put back in the list, every sync after it.
     */
    private void force(Segment segment) throws IOException {
        try {
            force.force(segment.channel);
        } catch (ClosedChannelException e) {
            if (segments.get(segment.base) == segment) {
                throw e;
            }
        }
    }

    private void roll(long base) throws IOException {
        Path file = dir.resolve(name(base));
        Files.deleteIfExists(file); // a segment of a roll that failed: it never held a record
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        try {
            ByteBuffer header = ByteBuffer.allocate(HEADER).put(MAGIC).putInt(VERSION).flip();
            while (header.hasRemaining()) {
                channel.write(header, HEADER - header.remaining());
            }
        } catch (IOException e) {
            channel.close();
            Files.deleteIfExists(file);
            throw e;
        }
        Segment segment = new Segment(base, file, channel, HEADER);
        segments.put(base, segment);
        active = segment;
        newSegment = true;
    }

    /**
     * Reads records that begin at or after {@code from} and end at or before {@code upTo}, at most {@code max} of them
     * and about {@code maxBytes}, in order.
     */
    List<Stored> read(long from, long upTo, int max, long maxBytes) throws IOException {
        List<Stored> out = new ArrayList<>();
        long position = from;
        long taken = 0;
        ByteBuffer frame = ByteBuffer.allocate(FRAME);
        while (out.size() < max && taken < maxBytes && position < upTo) {
            Map.Entry<Long, Segment> at = segments.floorEntry(position);
            if (at == null) {
                at = segments.ceilingEntry(position);
                if (at == null) {
                    break;
                }
                position = at.getKey();
            }
            Segment segment = at.getValue();
            long offset = Math.max(HEADER, position - segment.base);
            if (offset >= segment.size) {
                Map.Entry<Long, Segment> next = segments.higherEntry(segment.base);
                if (next == null) {
                    break;
                }
                position = next.getKey();
                continue;
            }
            frame.clear();
            readFully(segment.channel, frame, offset);
            int length = frame.getInt(0);
            if (segment.base + offset + FRAME + length > upTo) {
                break;
            }
            ByteBuffer payload = ByteBuffer.allocate(length);
            readFully(segment.channel, payload, offset + FRAME);
            position = segment.base + offset + FRAME + length;
            out.add(new Stored(decode(payload.flip()), position, FRAME + length));
            taken += FRAME + length;
        }
        return out;
    }

    private static Entry decode(ByteBuffer b) {
        long arrived = b.getLong();
        String mqttTopic = string(b);
        String kafkaTopic = string(b);
        byte[] key = bytes(b);
        int count = b.getInt();
        List<Map.Entry<String, byte[]>> headers = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            headers.add(Map.entry(string(b), bytes(b)));
        }
        return new Entry(arrived, mqttTopic, kafkaTopic.isEmpty() ? null : kafkaTopic, key, headers, bytes(b));
    }

    private static String string(ByteBuffer b) {
        byte[] s = new byte[Short.toUnsignedInt(b.getShort())];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    private static byte[] bytes(ByteBuffer b) {
        int length = b.getInt();
        if (length < 0) {
            return null;
        }
        byte[] out = new byte[length];
        b.get(out);
        return out;
    }

    /**
     * Kafka has every record up to {@code upTo}: {@code count} records of {@code size} bytes leave the spool. Writes
     * the checkpoint and deletes the segments wholly before it.
     */
    void acknowledge(long upTo, long count, long size) throws IOException {
        appendLock.lock();
        try {
            if (upTo <= acked) {
                return;
            }
            acked = upTo;
            records -= count;
            bytes -= size;
            if (buffer.position() == 0) {
                try {
                    reclaim(); // nothing waits to be written: an idle spool gives its space back now
                } catch (IOException e) {
                    // the next flush tries again
                }
            }
        } finally {
            appendLock.unlock();
        }
        ByteBuffer b = ByteBuffer.allocate(16).putInt(CHECKPOINT_MAGIC).putLong(upTo);
        CRC32C c = new CRC32C();
        c.update(b.array(), 4, 8);
        b.putInt((int) c.getValue()).flip();
        synchronized (checkpoint) {
            while (b.hasRemaining()) {
                checkpoint.write(b, 16 - b.remaining());
            }
        }
        for (Map.Entry<Long, Segment> e = segments.firstEntry(); e != null; e = segments.firstEntry()) {
            Map.Entry<Long, Segment> next = segments.higherEntry(e.getKey());
            if (next == null || next.getKey() > upTo) {
                break;
            }
            if (segments.remove(e.getKey(), e.getValue())) {
                e.getValue().channel.close();
                Files.deleteIfExists(e.getValue().file);
            }
        }
    }

    /** Position up to which Kafka has every record. */
    long acked() {
        return acked;
    }

    /** Position after the last record written. */
    long end() {
        Segment a = active;
        return a.base + a.size;
    }

    /** Records in the spool that Kafka has not acknowledged. */
    long records() {
        return records;
    }

    /** Their bytes, framing included. */
    long bytes() {
        return bytes;
    }

    /** Bytes the segment files take. */
    long diskBytes() {
        long total = 0;
        for (Segment s : segments.values()) {
            total += s.size;
        }
        return total;
    }

    /** Records found after the checkpoint at open (corrupt ones not counted). */
    long recoveredRecords() {
        return recoveredRecords;
    }

    long recoveredBytes() {
        return recoveredBytes;
    }

    /** Corrupt records cut off at open. */
    List<Corrupt> corrupt() {
        return corrupt;
    }

    /** Writes and syncs what is buffered, and the checkpoint; closes the files and lets go of the folder. */
    @Override
    public void close() throws IOException {
        try {
            if (active != null) { // else it failed to open: nothing was written
                flush();
                sync();
                checkpoint.force(false);
            }
        } finally {
            for (Segment s : segments.values()) {
                s.channel.close();
            }
            checkpoint.close();
            lock.release();
            lockChannel.close();
        }
    }

    static String name(long base) {
        return String.format("%020d.log", base);
    }

    private static byte[] utf8(String s) {
        return s == null ? new byte[0] : s.getBytes(StandardCharsets.UTF_8);
    }

    private static void readFully(FileChannel channel, ByteBuffer into, long position) throws IOException {
        long at = position;
        while (into.hasRemaining()) {
            int n = channel.read(into, at);
            if (n < 0) {
                throw new IOException("unexpected end of spool file at " + at);
            }
            at += n;
        }
    }
}

package dev.metamorphosis;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;

/**
 * A socket's output written by a thread of its own. Paho's sender writes and flushes every packet on its own: at
 * 40,000 messages a second, 40,000 system calls of a 4-byte PUBACK each, and as many TCP segments the broker wakes up
 * for. Here {@link #flush} hands what was written to the writer thread and returns; the writer sends everything that
 * gathered meanwhile in one call, so a burst of acknowledgements (a batch that reached Kafka) goes out in a few writes.
 * <p>
 * The bridge writes its own PUBACKs here too ({@link #writePackets}), between two of Paho's packets: Paho flushes
 * after each packet, so a flush marks where one ends.
 * <p>
 * Bytes go out in the order they were written. A write that fails fails every later write and flush with its cause
 * (Paho then closes the connection, as it would have); {@link #drain} sends what is left before the socket closes.
 */
final class SocketWriter extends OutputStream {

    /** Writes wait once this much waits for the socket. */
    private static final int MAX_PENDING = 1 << 20;
    /** What {@link #drain} waits at most: a healthy socket takes what is left at once, a dead one never. */
    private static final long DRAIN_MILLIS = 500;

    private final OutputStream socket;
    private final Thread writer;
    private byte[] pending = new byte[8192];
    private int length;
    private boolean flushed;
    private boolean waiting;
    private boolean closed;
    private IOException failed;
    /** Paho has written part of a packet: its flush ends it. */
    private boolean midPacket;
    /** Paho has sent its first packet (CONNECT): packets of the bridge's own may follow. */
    private boolean opened;
    private int awaitingBoundary;

    SocketWriter(OutputStream socket, String name) {
        this.socket = socket;
        this.writer = new Thread(this::run, name);
        writer.setDaemon(true);
        writer.start();
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
        check();
        midPacket = true;
        append(b, off, len);
    }

    /**
     * Writes whole packets of the bridge's own (the QoS 1 acknowledgements, see {@link Acknowledgements}) between two
     * of Paho's: waits while Paho is in the middle of one. Returns false, writing nothing, before Paho has sent its
     * CONNECT.
     */
    synchronized boolean writePackets(byte[] b, int len) throws IOException {
        check();
        if (!opened) {
            return false;
        }
        awaitingBoundary++;
        try {
            // both in one loop: a wait for room lets Paho begin a packet, so the boundary is looked at again after it
            while (midPacket || length > 0 && length + len > MAX_PENDING) {
                if (!midPacket) {
                    flushed = true;
                    notifyAll();
                }
                wait();
                check();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while Paho was writing a packet");
        } finally {
            awaitingBoundary--;
        }
        append(b, 0, len); // does not wait: there is room
        flushed = true;
        if (waiting) {
            notifyAll();
        }
        return true;
    }

    private void append(byte[] b, int off, int len) throws IOException {
        while (length > 0 && length + len > MAX_PENDING) { // the socket is behind: wait for the writer
            flushed = true;
            notifyAll();
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while the socket was behind");
            }
            check();
        }
        if (length + len > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(length + len, pending.length * 2));
        }
        System.arraycopy(b, off, pending, length, len);
        length += len;
    }

    @Override
    public synchronized void flush() throws IOException {
        check();
        if (midPacket) {
            midPacket = false;
            opened = true;
            if (awaitingBoundary > 0) {
                notifyAll();
            }
        }
        if (length > 0) {
            flushed = true;
            if (waiting) {
                notifyAll();
            }
        }
    }

    private void check() throws IOException {
        if (failed != null) {
            throw new IOException("writing to the socket failed: " + failed.getMessage(), failed);
        }
        if (closed) {
            throw new IOException("socket closed");
        }
    }

    /** Sends what was written, then ends the writer; waits up to half a second for it. */
    void drain() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        try {
            writer.join(DRAIN_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() throws IOException {
        drain();
        socket.close();
    }

    private void run() {
        byte[] spare = new byte[8192];
        try {
            while (true) {
                byte[] out;
                int n;
                synchronized (this) {
                    while (!closed && !(flushed && length > 0)) {
                        waiting = true;
                        wait();
                        waiting = false;
                    }
                    if (length == 0) {
                        return; // closed, and everything sent
                    }
                    out = pending;
                    n = length;
                    pending = spare;
                    length = 0;
                    flushed = false;
                    notifyAll(); // a write waiting for room
                }
                socket.write(out, 0, n);
                spare = out;
            }
        } catch (IOException e) {
            fail(e);
        } catch (InterruptedException | RuntimeException e) {
            fail(new IOException(e));
        }
    }

    private synchronized void fail(IOException e) {
        failed = e;
        notifyAll();
    }
}

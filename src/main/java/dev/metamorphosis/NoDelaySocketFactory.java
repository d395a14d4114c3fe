package dev.metamorphosis;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;

import javax.net.SocketFactory;

/**
 * Plain sockets with {@code TCP_NODELAY} on, for the MQTT client. Paho leaves Nagle's algorithm on, so each small
 * PUBACK waits for the broker's delayed TCP ACK: measured against an MQTT 5 broker on loopback, a QoS 1 subscriber
 * received about 1,100 messages/s with it and about 20,000 without.
 * <p>
 * Their input is buffered: Paho reads each packet's first byte, its length and its body in separate reads, each a
 * system call on a plain socket stream (TLS sockets buffer by themselves). Their output is written by a thread of its
 * own ({@link SocketWriter}): Paho flushes after every packet, and so wrote each PUBACK in a system call of its own.
 */
public final class NoDelaySocketFactory extends SocketFactory implements ClientSockets {

    /** The output of the socket made last, once Paho has asked for it. */
    private volatile SocketWriter writer;
    /** The input of the socket made last, once Paho has asked for it. */
    private volatile ReadAhead reader;
    private volatile Runnable beforeRead = () -> {
    };

    /**
     * The output of the socket this factory made last (its connection's, when each MQTT client has a factory of its
     * own), or null before Paho has written to one.
     */
    @Override
    public SocketWriter writer() {
        return writer;
    }

    @Override
    public SocketFactory forOneClient() {
        return new NoDelaySocketFactory();
    }

    @Override
    public boolean moreBuffered() {
        ReadAhead in = reader;
        return in != null && in.moreBuffered();
    }

    @Override
    public void beforeSocketRead(Runnable hook) {
        beforeRead = hook;
    }

    @Override
    public Socket createSocket() throws IOException {
        Socket socket = new BufferedSocket();
        socket.setTcpNoDelay(true);
        return socket;
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return connected(host == null ? null : InetAddress.getByName(host), port, null, 0);
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return connected(host == null ? null : InetAddress.getByName(host), port, localHost, localPort);
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return connected(host, port, null, 0);
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
            throws IOException {
        return connected(address, port, localAddress, localPort);
    }

    private Socket connected(InetAddress address, int port, InetAddress localAddress, int localPort)
            throws IOException {
        Socket socket = createSocket();
        if (localAddress != null || localPort != 0) {
            socket.bind(new InetSocketAddress(localAddress, localPort));
        }
        socket.connect(new InetSocketAddress(address, port));
        return socket;
    }

    /** A socket whose input stream is buffered, and whose output is written by a thread of its own. */
    private final class BufferedSocket extends Socket {
        private InputStream in;
        private SocketWriter out;

        @Override
        public synchronized InputStream getInputStream() throws IOException {
            if (in == null) {
                ReadAhead ahead = new ReadAhead(super.getInputStream(), beforeRead);
                reader = ahead;
                in = ahead;
            }
            return in;
        }

        @Override
        public synchronized OutputStream getOutputStream() throws IOException {
            if (out == null) {
                out = new SocketWriter(super.getOutputStream(), "MQTT Out: " + getRemoteSocketAddress());
                writer = out;
            }
            return out;
        }

        @Override
        public void close() throws IOException {
            SocketWriter writer;
            synchronized (this) {
                writer = out;
            }
            if (writer != null) {
                writer.drain(); // what was written before the close goes out first (a DISCONNECT)
            }
            super.close();
        }
    }

    /**
     * The socket's input, read 64 KiB ahead. Paho's receiver asks how much can be read before every packet
     * ({@code CommsReceiver.run}: {@code in.available()}), and {@link BufferedInputStream} adds what the socket holds,
     * a system call ({@code ioctl FIONREAD}) a message: 4 % of the bridge's CPU at 200 B (docs/performance.md, run
     * perf2). While bytes are buffered they are the answer; the socket is asked only once they have all been read.
     * <p>
     * Before each read from the socket, the thread reading runs a hook: the bridge sends then the acknowledgements it
     * held while more packets were buffered ({@link Acknowledgements}).
     */
    static final class ReadAhead extends BufferedInputStream {
        private final Runnable beforeRead;
        private volatile Thread reading;

        ReadAhead(InputStream in) {
            this(in, () -> {
            });
        }

        ReadAhead(InputStream in, Runnable beforeRead) {
            super(in, 1 << 16);
            this.beforeRead = beforeRead;
        }

        /** True on the thread reading this stream while bytes it read ahead are still to be read. */
        boolean moreBuffered() {
            return Thread.currentThread() == reading && count > pos; // fields the reading thread alone moves
        }

        @Override
        public int read() throws IOException {
            if (pos >= count) {
                emptied();
            }
            return super.read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (pos >= count) {
                emptied();
            }
            return super.read(b, off, len);
        }

        /** All that was read ahead has been read: the socket is next. */
        private void emptied() {
            reading = Thread.currentThread();
            beforeRead.run();
        }

        @Override
        public synchronized int available() throws IOException {
            int buffered = count - pos;
            return buffered > 0 && buf != null ? buffered : super.available();
        }
    }
}

package dev.metamorphosis.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A test tool: a TCP proxy on loopback between the bridge and a broker, which can reset every connection, refuse new
 * ones, hang (accept and forward nothing, like a broker that answers nothing) and add latency.
 */
public final class TcpProxy implements AutoCloseable {

    private final ServerSocket server;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private volatile int target;
    private volatile boolean refusing;
    private volatile boolean hanging;
    private volatile int latencyMillis;
    private volatile int holdRepliesMillis;

    public TcpProxy() {
        try {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Thread acceptor = new Thread(this::accept, "proxy-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public TcpProxy(int target) {
        this();
        this.target = target;
    }

    public int port() {
        return server.getLocalPort();
    }

    public void target(int port) {
        this.target = port;
    }

    /** Closes every open connection with a TCP reset; returns how many sockets it closed (two per connection). */
    public int reset() {
        int n = 0;
        for (Socket s : sockets) {
            abort(s);
            n++;
        }
        return n;
    }

    /** While on, new connections are reset at once and open ones too. */
    public void refuse(boolean on) {
        refusing = on;
        if (on) {
            reset();
        }
    }

    /** While on, bytes are taken and not passed on, in both directions. */
    public void hang(boolean on) {
        hanging = on;
    }

    public void latency(int millis) {
        latencyMillis = millis;
    }

    /**
     * While above 0, what the broker sends in the first {@code millis} of a new connection is held and passed on in
     * one write: an MQTT broker's CONNACK and the messages a resumed session sends right after it reach the client
     * together, as a slow network can deliver them, instead of whenever the broker's writes happen to fall.
     */
    public void holdReplies(int millis) {
        holdRepliesMillis = millis;
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                if (refusing) {
                    abort(client);
                    continue;
                }
                Socket upstream = new Socket(InetAddress.getLoopbackAddress(), target);
                client.setTcpNoDelay(true);
                upstream.setTcpNoDelay(true);
                sockets.add(client);
                sockets.add(upstream);
                pump(client, upstream, 0);
                pump(upstream, client, holdRepliesMillis);
            } catch (IOException e) {
                if (server.isClosed()) {
                    return;
                }
            }
        }
    }

    private void pump(Socket from, Socket to, int holdMillis) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[64 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                if (holdMillis > 0) {
                    out.write(readFor(from, in, holdMillis));
                    out.flush();
                }
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    while (hanging && !from.isClosed()) {
                        Thread.sleep(10);
                    }
                    if (latencyMillis > 0) {
                        Thread.sleep(latencyMillis);
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // connection closed or reset
            } finally {
                abort(from);
                abort(to);
            }
        }, "proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    /** What arrives on {@code from} within {@code millis}. */
    private static byte[] readFor(Socket from, InputStream in, int millis) throws IOException {
        ByteArrayOutputStream held = new ByteArrayOutputStream();
        byte[] buffer = new byte[64 * 1024];
        long deadline = System.nanoTime() + millis * 1_000_000L;
        for (long left = millis; left > 0; left = (deadline - System.nanoTime()) / 1_000_000L) {
            from.setSoTimeout((int) left);
            try {
                int n = in.read(buffer);
                if (n < 0) {
                    break;
                }
                held.write(buffer, 0, n);
            } catch (SocketTimeoutException e) {
                break;
            }
        }
        from.setSoTimeout(0);
        return held.toByteArray();
    }

    private void abort(Socket s) {
        sockets.remove(s);
        try {
            s.setSoLinger(true, 0);
        } catch (SocketException e) {
            // already closed
        }
        try {
            s.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        reset();
    }
}

package dev.metamorphosis.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * A real Mosquitto broker as a child process on a free loopback port, in one of two configurations.
 * <p>
 * {@link #start}: stock limits except two, for tests that measure the bridge and its share of a stream rather than
 * the broker's queue: no bound on the messages it queues per client ({@code max_queued_messages 0}, default 1000), so
 * a subscriber that falls behind a fast publisher gets every message late instead of losing some; and 1,000 QoS 1
 * messages in flight per client ({@code max_inflight_messages}, default 20), which Mosquitto advertises as its
 * receive maximum, so the publisher pipelines more than 20 publishes per connection. (A subscriber that gives its own
 * receive maximum, as the bridge does, gets as many in flight as it asks for either way.)
 * <p>
 * {@link #startStock}: Mosquitto as a package installs it, neither setting in its file. It queues at most 1,000 QoS 1
 * messages for a client beyond those in flight and drops the rest without telling anyone, and lets a publisher have
 * 20 unacknowledged. A bridge that acknowledges late (or is away longer than 1,000 messages take to arrive) loses
 * messages at such a broker however carefully it treats what it received, so this is the broker the durable delivery
 * tests run against: they prove that the bridge keeps up with a broker its users did not tune.
 */
public final class Mosquitto implements AutoCloseable {

    private final Process process;
    private final int port;
    private final Path log;
    public final String version;

    private Mosquitto(Process process, int port, Path log, String version) {
        this.process = process;
        this.port = port;
        this.log = log;
        this.version = version;
    }

    /**
     * The mosquitto executable, for a test that cannot run without a real Mosquitto: skipped when none is installed,
     * failed under {@code CI=true}, where {@code .ci/run} installs it ({@link Tools#required}).
     */
    public static Path required() {
        return Tools.required("mosquitto", "apt-get install mosquitto; this test needs a real Mosquitto");
    }

    /** Starts Mosquitto with two limits lifted: unbounded queues, 1,000 in flight (see the class comment). */
    public static Mosquitto start(Path executable, Path dir) {
        return launch(executable, dir, List.of("max_queued_messages 0", "max_inflight_messages 1000"));
    }

    /**
     * Starts Mosquitto as {@link #start} does, with a second listener on {@code tlsPort} that takes clients over mutual
     * TLS: its certificate {@code server}, clients' certificates signed by {@code ca}.
     */
    public static Mosquitto startWithTls(Path executable, Path dir, int tlsPort, Certs ca, Certs.Identity server) {
        return launch(executable, dir, List.of("max_queued_messages 0", "max_inflight_messages 1000",
                "listener " + tlsPort + " 127.0.0.1", "cafile " + ca.ca(), "certfile " + server.cert(),
                "keyfile " + server.key(), "require_certificate true"));
    }

    /**
     * Starts Mosquitto with its stock limits (see the class comment): at most 20 messages in flight per client and
     * 1,000 queued per client, the rest dropped.
     */
    public static Mosquitto startStock(Path executable, Path dir) {
        return launch(executable, dir, List.of());
    }

    /**
     * Starts Mosquitto as {@link #start} does, also logging every MQTT packet it sends or receives (see
     * {@link #packets}) and publishing its {@code $SYS} topics every second ({@code $SYS/broker/clients/expired}: the
     * sessions it has let expire).
     */
    public static Mosquitto startLoggingPackets(Path executable, Path dir) {
        return launch(executable, dir, List.of("max_queued_messages 0", "max_inflight_messages 1000", "log_type debug",
                "sys_interval 1"));
    }

    private static Mosquitto launch(Path executable, Path dir, List<String> limits) {
        try {
            int port = Ports.free();
            Files.createDirectories(dir);
            List<String> lines = new ArrayList<>(List.of(
                    "allow_anonymous true",
                    "user root", // when started as root, stay root
                    "listener " + port + " 127.0.0.1"));
            lines.addAll(limits);
            lines.addAll(List.of(
                    "persistence false",
                    "log_type error",
                    "log_type warning",
                    "log_type notice", "")); // notice: "Outgoing messages are being dropped for client ..."
            Path conf = Files.writeString(dir.resolve("mosquitto.conf"), String.join("\n", lines));
            Process process = new ProcessBuilder(executable.toString(), "-c", conf.toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("mosquitto.log").toFile()).start();
            await("mosquitto on port " + port).atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                    .until(() -> {
                        if (!process.isAlive()) {
                            throw new IllegalStateException("mosquitto exited: " + Files.readString(
                                    dir.resolve("mosquitto.log")));
                        }
                        try (Socket ignored = new Socket("127.0.0.1", port)) {
                            return true;
                        } catch (IOException e) {
                            return false;
                        }
                    });
            Process v = new ProcessBuilder(executable.toString(), "-h").redirectErrorStream(true).start();
            String version = new String(v.getInputStream().readAllBytes()).lines().findFirst().orElse("mosquitto")
                    .replace("mosquitto version", "Mosquitto").strip();
            v.waitFor(10, TimeUnit.SECONDS);
            return new Mosquitto(process, port, dir.resolve("mosquitto.log"), version);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public int port() {
        return port;
    }

    /** The lines of its log that say it dropped messages for a client (queue full), if any. */
    public List<String> drops() {
        try {
            return Files.readAllLines(log).stream().filter(l -> l.contains("messages are being dropped")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Bytes the connections of process {@code pid} have sent this broker and it has not read yet: the receive queues
     * of the broker's ends of those connections, from Linux's {@code /proc/net/tcp} and {@code tcp6} (0 elsewhere).
     * Mosquitto 2.0 reads one packet of a connection a turn of its loop, so a subscriber's acknowledgements can wait
     * here while the broker counts their messages as unacknowledged.
     */
    public long unreadFrom(long pid) {
        Set<String> sockets = new HashSet<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : fds) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        sockets.add(target.substring(8, target.length() - 1));
                    }
                } catch (IOException e) {
                    // closed meanwhile
                }
            }
        } catch (IOException e) {
            return 0;
        }
        List<String[]> connections = new ArrayList<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            try {
                Files.readAllLines(Path.of(table)).stream().skip(1).map(l -> l.trim().split("\\s+"))
                        .filter(f -> f.length > 9).forEach(connections::add);
            } catch (IOException e) {
                // no such table
            }
        }
        Set<Integer> theirPorts = new HashSet<>();
        for (String[] c : connections) {
            if (sockets.contains(c[9]) && tcpPort(c[2]) == port) {
                theirPorts.add(tcpPort(c[1]));
            }
        }
        long unread = 0;
        for (String[] c : connections) {
            if (tcpPort(c[1]) == port && theirPorts.contains(tcpPort(c[2]))) {
                unread += Long.parseLong(c[4].substring(c[4].indexOf(':') + 1), 16); // tx_queue:rx_queue
            }
        }
        return unread;
    }

    /** The port of an address of /proc/net/tcp: hex, after the colon. */
    private static int tcpPort(String address) {
        return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1), 16);
    }

    /**
     * The lines of its log about packets to or from one client, started with {@link #startLoggingPackets}, as
     * Mosquitto writes them: {@code Sending PUBLISH to <id> (d0, q2, r0, m1, '<topic>', ... (5 bytes))},
     * {@code Received PUBREC from <id> (Mid: 1)}, {@code Sending CONNACK to <id> (0, 0)} (session present, reason).
     */
    public List<String> packets(String clientId) {
        try {
            return Files.readAllLines(log).stream().map(l -> l.substring(l.indexOf(": ") + 2))
                    .filter(l -> l.contains(" to " + clientId + " (") || l.contains(" from " + clientId + " (")
                                 || l.equals("Received SUBSCRIBE from " + clientId)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The address for a client: {@code tcp://127.0.0.1:<port>}. */
    public String url() {
        return "tcp://127.0.0.1:" + port;
    }

    public long pid() {
        return process.pid();
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

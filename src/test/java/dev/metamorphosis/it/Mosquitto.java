package dev.metamorphosis.it;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * A real Mosquitto broker as a child process on a free loopback port, with its stock limits except two: no bound on
 * the messages it queues per client ({@code max_queued_messages 0}, default 1000), so a subscriber that falls behind
 * a fast publisher gets every message late instead of losing some; and 1,000 QoS 1 messages in flight per client
 * ({@code max_inflight_messages}, default 20), which Mosquitto advertises as its receive maximum, so the publisher
 * pipelines more than 20 publishes per connection. (A subscriber that gives its own receive maximum, as the bridge
 * does, gets as many in flight as it asks for either way.)
 */
public final class Mosquitto implements AutoCloseable {

    private final Process process;
    private final int port;
    public final String version;

    private Mosquitto(Process process, int port, String version) {
        this.process = process;
        this.port = port;
        this.version = version;
    }

    /** The mosquitto executable on the PATH or in /usr/sbin, if installed. */
    public static Optional<Path> executable() {
        String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/sbin";
        for (String folder : path.split(File.pathSeparator)) {
            Path candidate = Path.of(folder, "mosquitto");
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    public static Mosquitto start(Path executable, Path dir) {
        try {
            int port = Ports.free();
            Files.createDirectories(dir);
            Path conf = Files.writeString(dir.resolve("mosquitto.conf"), String.join("\n",
                    "allow_anonymous true",
                    "user root", // when started as root, stay root
                    "listener " + port + " 127.0.0.1",
                    "max_queued_messages 0",
                    "max_inflight_messages 1000",
                    "persistence false",
                    "log_type error",
                    "log_type warning", ""));
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
            return new Mosquitto(process, port, version);
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

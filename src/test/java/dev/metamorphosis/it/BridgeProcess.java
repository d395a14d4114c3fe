package dev.metamorphosis.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The built bridge ({@code target/metamorphosis.jar}) as a child process, as a user runs it: its own working
 * directory, only the environment given, stdout and stderr captured apart.
 */
public final class BridgeProcess implements AutoCloseable {

    /** The delivery modes, the default first: the fault scenarios run a bridge in each. */
    public static final List<String> DELIVERIES = List.of("durable", "at-least-once", "buffered");

    private static final AtomicInteger RUNS = new AtomicInteger();
    private static final String SUBSCRIBED = "Subscribed to MQTT topic filter";
    private final Process process;
    private final Path out;
    private final Path err;
    private final String healthPort;
    private final Path workDir;
    private int subscriptions;

    private BridgeProcess(Process process, Path workDir, Path out, Path err, String healthPort) {
        this.process = process;
        this.workDir = workDir;
        this.out = out;
        this.err = err;
        this.healthPort = healthPort;
    }

    /** The jar failsafe built, or {@code target/metamorphosis.jar} when run from an IDE after a package. */
    public static Path jar() {
        return Path.of(System.getProperty("metamorphosis.jar", "target/metamorphosis.jar")).toAbsolutePath();
    }

    /**
     * A jar without classes whose manifest puts the Paho jar before {@link #jar()}: run through the entrypoint (as
     * {@code METAMORPHOSIS_JAR}), the bridge reads MQTT payloads with Paho's own {@code CountingInputStream}, a byte
     * per call, as before the bridge had its own. Written to {@code dir}.
     */
    public static Path pahoFirstJar(Path dir) {
        Path jar = dir.resolve("paho-first.jar");
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "dev.metamorphosis.Main");
        try (Stream<Path> lib = Files.list(jar().resolveSibling("lib"))) {
            Path paho = lib.filter(p -> p.getFileName().toString().startsWith("org.eclipse.paho.mqttv5.client-"))
                    .findFirst().orElseThrow();
            manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, paho.toUri() + " " + jar().toUri());
            new JarOutputStream(Files.newOutputStream(jar), manifest).close();
            return jar;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The repository root, which holds routes/ and application.properties. */
    public static Path repo() {
        return Path.of("").toAbsolutePath();
    }

    /** The container's entrypoint script, which starts the jar as the image does. */
    public static Path entrypoint() {
        return repo().resolve("src/main/docker/entrypoint.sh");
    }

    /**
     * Starts the jar through the entrypoint script, with its JVM settings, with only the environment given, plus
     * {@code HEALTH_PORT} on a free port unless given.
     */
    public static BridgeProcess start(Path workDir, Map<String, String> environment, String... args) {
        List<String> command = new ArrayList<>(List.of("sh", entrypoint().toString()));
        command.addAll(List.of(args));
        return run(workDir, environment, command);
    }

    /** Another command that runs the bridge, such as {@code camel run}, started the same way. */
    public static BridgeProcess run(Path workDir, Map<String, String> environment, List<String> command) {
        try {
            int run = RUNS.incrementAndGet();
            Path logs = Files.createDirectories(repo().resolve("target/bridge-runs"));
            Path out = logs.resolve("run-" + run + ".out");
            Path err = logs.resolve("run-" + run + ".err");
            ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile())
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
            builder.environment().clear();
            builder.environment().put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
            builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
            builder.environment().put("METAMORPHOSIS_JAR", jar().toString());
            // the launcher's JVM settings, and in the broker tests the JAVA_OPTS failsafe gives them (pom.xml); a
            // test may set its own
            String testOpts = System.getProperty("bridge.java.opts");
            if (testOpts != null) {
                builder.environment().put("JAVA_OPTS", testOpts);
            }
            // a free port, unless the test sets one: bridges of tests running at the same time must not share 8080
            builder.environment().put("HEALTH_PORT", Integer.toString(Ports.free()));
            builder.environment().putAll(environment);
            return new BridgeProcess(builder.start(), workDir, out, err, builder.environment().get("HEALTH_PORT"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The environment of a bridge on the given brokers, with the Go version's variables (Kafka written every second,
     * retried every second) plus the delivery mode; a map to add to.
     */
    public static Map<String, String> environment(int mqttPort, String kafkaBootstrap, String prefix, String delivery) {
        Map<String, String> env = environment(mqttPort, kafkaBootstrap, prefix);
        env.put("DELIVERY", delivery);
        return env;
    }

    /**
     * The environment of a bridge on the given brokers in the default delivery mode, with the Go version's variables:
     * topic filter {@code prefix/#}, client id and Kafka topic {@code prefix}, Kafka written and retried every
     * second, the configuration of this repository; a map to add to. The one place tests build it.
     */
    public static Map<String, String> environment(int mqttPort, String kafkaBootstrap, String prefix) {
        return new java.util.HashMap<>(Map.of(
                "MQTT_BROKER", "127.0.0.1",
                "MQTT_PORT", Integer.toString(mqttPort),
                "MQTT_TLS", "false",
                "MQTT_TOPIC", prefix + "/#",
                "MQTT_CLIENT_ID", prefix,
                "KAFKA_BROKER", kafkaBootstrap,
                "KAFKA_TOPIC", prefix,
                "KAFKA_INTERVAL", "1",
                "KAFKA_RETRY_INTERVAL", "1",
                "CONFIG_DIR", repo().toString()));
    }

    /** Waits until the bridge has subscribed to MQTT once more than it had (a restart of its subscription). */
    public BridgeProcess awaitSubscribed(Duration atMost) {
        int before = subscriptions;
        awaitRunning("bridge subscribed", atMost, () -> count(SUBSCRIBED) > before);
        subscriptions = count(SUBSCRIBED);
        return this;
    }

    /** Waits until the bridge says it subscribed to {@code filter}; fails at once when it exits first. */
    public BridgeProcess awaitSubscribed(String filter, Duration atMost) {
        awaitRunning("subscribed to " + filter, atMost, () -> stdout().contains(SUBSCRIBED + " " + filter));
        return this;
    }

    private void awaitRunning(String what, Duration atMost, Callable<Boolean> done) {
        org.awaitility.Awaitility.await(what).atMost(atMost).pollInterval(Duration.ofMillis(200)).until(() -> {
            if (!process.isAlive()) {
                throw new AssertionError("bridge exited: " + stderr());
            }
            return done.call();
        });
    }

    private int count(String text) {
        return stdout().split(Pattern.quote(text), -1).length - 1;
    }

    /** Waits for the process to end and returns its exit code. */
    public int exitCode(Duration atMost) {
        try {
            if (!process.waitFor(atMost.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("bridge still running after " + atMost + "; stderr: " + stderr());
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The working directory it runs in: its disk spool is {@code spool/} there, unless SPOOL_DIR says otherwise. */
    public Path workDir() {
        return workDir;
    }

    /** The port of /healthz, /readyz and /metrics. */
    public int healthPort() {
        return Integer.parseInt(healthPort);
    }

    /**
     * The sum of the samples of a metric on {@code /metrics} now (every label set), or NaN when the bridge does not
     * answer or has no such metric (so a wait for a value goes on and an assertion on one fails showing NaN).
     */
    public double metric(String name) {
        Http.Response metrics = Http.get(healthPort(), "/metrics");
        Double value = metrics == null || metrics.status() != 200 ? null : new Scrape(metrics.body()).value(name);
        return value == null ? Double.NaN : value;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    public String stdout() {
        return read(out);
    }

    public String stderr() {
        return read(err);
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** SIGTERM, as Kubernetes stops a pod; fails unless kill exits 0. */
    public void terminate() {
        Signs.signal("TERM", process.pid());
    }

    /** SIGKILL: no shutdown at all. Fails unless kill exits 0 and the bridge ends by the signal. */
    public void kill() {
        Signs.signal("KILL", process.pid());
        assertThat(exitCode(Duration.ofSeconds(30))).as("the bridge's exit status after SIGKILL")
                .isEqualTo(Signs.KILLED);
    }

    @Override
    public void close() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}

package dev.metamorphosis.it;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.Uuid;

import kafka.tools.StorageTool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A real Apache Kafka broker in KRaft mode (broker and controller in one), in a child JVM, so a test can kill it
 * ({@code SIGKILL}), freeze it ({@code SIGSTOP}) and start it again on the same port and log directory.
 */
public final class KafkaBroker implements AutoCloseable {

    /**
     * The class archive of Kafka's classes that the brokers of this JVM map ({@link #archive}), where failsafe names
     * one (pom.xml): the broker tests start some 30 brokers; the demo and the benchmark one, which would only wait
     * for the archive's own broker.
     */
    private static final String ARCHIVE = System.getProperty("kafka.class.archive");
    /** The JVM options for the class archive, once made; empty before, or if it could not be made. */
    private static List<String> archiveOptions;
    /**
     * Broker settings where failsafe gives some (pom.xml), before each test's own: the broker tests start some 30
     * brokers, up to 9 of them at once, and most of the time they wait; the demo and the benchmark keep Kafka's
     * defaults.
     */
    private static final String SETTINGS = System.getProperty("kafka.broker.settings", "");

    private final Path dir;
    private final int port;
    private final int controllerPort;
    private final Map<String, String> extra;
    private final Map<String, String> listeners;
    private final Map<String, Integer> listenerPorts = new LinkedHashMap<>();
    private final TcpProxy proxy;
    private Process process;

    private KafkaBroker(Path dir, Map<String, String> extra, Map<String, String> listeners, TcpProxy proxy) {
        this.dir = dir;
        this.port = Ports.free();
        this.controllerPort = Ports.free();
        this.extra = extra;
        this.listeners = listeners;
        listeners.keySet().forEach(name -> listenerPorts.put(name, Ports.free()));
        this.proxy = proxy;
    }

    /** Starts a new broker with a fresh log directory under {@code target/}, extra server properties on top. */
    public static KafkaBroker start(String name, Map<String, String> extra) {
        return start(name, extra, Map.of());
    }

    /**
     * Starts a new broker that also listens on further listeners, by name to security protocol ({@code SSL},
     * {@code SASL_SSL}, {@code SASL_PLAINTEXT}), each on a free port; their settings go in {@code extra}
     * ({@code listener.name.<name>.ssl.keystore.location}, ...). PLAINTEXT stays for the tests' own clients.
     */
    public static KafkaBroker start(String name, Map<String, String> extra, Map<String, String> listeners) {
        return start(name, extra, listeners, null);
    }

    /**
     * Starts a broker with a second listener that clients reach through the given proxy: it advertises the proxy's
     * port, so every connection of a client that bootstraps from {@link #proxied()} goes through the proxy.
     */
    public static KafkaBroker startBehind(String name, TcpProxy proxy) {
        return start(name, Map.of(), Map.of(), proxy);
    }

    private static KafkaBroker start(String name, Map<String, String> extra, Map<String, String> listeners,
                                     TcpProxy proxy) {
        archive();
        try {
            for (int attempt = 1; ; attempt++) {
                KafkaBroker broker = formatted(name, extra, listeners, proxy);
                try {
                    broker.launch();
                    return broker;
                } catch (IllegalStateException e) {
                    // a port found free was taken by another test's process before Kafka bound it (the scenarios
                    // run side by side): start again on other ports
                    if (attempt == 3
                        || !Files.readString(broker.dir.resolve("broker.log")).contains("Address already in use")) {
                        throw e;
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("Kafka broker did not start", e);
        }
    }

    /** A broker not started yet, its storage formatted in a new folder {@code target/kafka-<name>-*}. */
    private static KafkaBroker formatted(String name, Map<String, String> extra, Map<String, String> listeners,
                                         TcpProxy proxy) throws IOException {
        KafkaBroker broker = new KafkaBroker(Files.createTempDirectory(Path.of("target").toAbsolutePath(),
                "kafka-" + name + "-"), extra, listeners, proxy);
        broker.format();
        return broker;
    }

    public String bootstrap() {
        return "127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    /** The address of the listener behind the proxy. */
    public String proxied() {
        return "127.0.0.1:" + proxy.port();
    }

    /** The port of a listener given to {@link #start(String, Map, Map)}. */
    public int port(String listener) {
        return listenerPorts.get(listener);
    }

    /** Adds or replaces a SCRAM user (KRaft keeps it in the metadata log). */
    public void addScramUser(String mechanism, String user, String password) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        try (Admin admin = Admin.create(p)) {
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(user,
                    new ScramCredentialInfo(ScramMechanism.fromMechanismName(mechanism), 4096), password)))
                    .all().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("SCRAM user " + user + " not added", e);
        }
    }

    private Path config() {
        return dir.resolve("server.properties");
    }

    private void format() throws IOException {
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        StringBuilder more = new StringBuilder();
        StringBuilder protocols = new StringBuilder();
        listeners.forEach((name, protocol) -> {
            more.append(',').append(name).append("://127.0.0.1:").append(listenerPorts.get(name));
            protocols.append(',').append(name).append(':').append(protocol);
        });
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort + more);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port + more);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT" + protocols);
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("log.dirs", dir.resolve("data").toString());
        p.put("num.partitions", "1");
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "1");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("log.flush.interval.messages", Long.toString(Long.MAX_VALUE));
        p.putAll(settings(SETTINGS));
        if (proxy != null) {
            int externalPort = Ports.free();
            proxy.target(externalPort);
            p.put("listeners", p.get("listeners") + ",EXTERNAL://127.0.0.1:" + externalPort);
            p.put("advertised.listeners", p.get("advertised.listeners") + ",EXTERNAL://127.0.0.1:" + proxy.port());
            p.put("listener.security.protocol.map", p.get("listener.security.protocol.map") + ",EXTERNAL:PLAINTEXT");
        }
        p.putAll(extra);
        try (var out = Files.newBufferedWriter(config())) {
            p.store(out, "test broker");
        }
        // in this JVM, which has Kafka's classes already: a JVM of its own took a second of CPU for each broker
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        int exit;
        try (PrintStream out = new PrintStream(log, true, StandardCharsets.UTF_8)) {
            exit = StorageTool.execute(new String[] {"format", "-t", Uuid.randomUuid().toString(), "-c",
                config().toString()}, out);
        } catch (RuntimeException e) {
            log.writeBytes(e.toString().getBytes(StandardCharsets.UTF_8));
            exit = -1;
        }
        Files.write(dir.resolve("format.log"), log.toByteArray());
        if (exit != 0) {
            throw new IllegalStateException("kafka storage format failed, see " + dir.resolve("format.log"));
        }
    }

    /**
     * Once in this JVM, before its first broker, when an archive is named: starts a broker and stops it, and the JVM
     * writes the classes it loaded to the archive as it exits; every later broker maps them from it, instead of loading
     * and verifying them from the jars. A start then takes about a third less CPU (1.8-2.5 s against 3.0-3.7 on the
     * 2-core machine). Without the archive (none named, or the training broker failed), brokers start as before.
     */
    private static synchronized void archive() {
        if (archiveOptions != null) {
            return;
        }
        archiveOptions = List.of();
        if (ARCHIVE == null) {
            return;
        }
        try {
            Files.deleteIfExists(Path.of(ARCHIVE));
            KafkaBroker training = formatted("class-archive", Map.of(), Map.of(), null);
            try {
                training.launch(List.of("-XX:ArchiveClassesAtExit=" + ARCHIVE));
            } finally {
                training.close(); // the JVM writes the archive as it exits, and close() waits for that
            }
        } catch (IOException | RuntimeException e) {
            System.err.println("Kafka's class archive not made, brokers start without it: " + e);
        }
        if (Files.isReadable(Path.of(ARCHIVE))) {
            archiveOptions = List.of("-XX:SharedArchiveFile=" + ARCHIVE, "-Xlog:cds=off", "-Xlog:cds+dynamic=off");
        }
    }

    private void launch() throws IOException {
        launch(archiveOptions);
    }

    private void launch(List<String> jvmOptions) throws IOException {
        process = java("kafka.Kafka", jvmOptions, config().toString())
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("broker.log").toFile()))
                .redirectErrorStream(true).start();
        await("Kafka broker on " + bootstrap()).atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                .until(this::ready);
    }

    private boolean ready() {
        if (!process.isAlive()) {
            throw new IllegalStateException("Kafka broker exited, see " + dir.resolve("broker.log"));
        }
        try (Socket ignored = new Socket("127.0.0.1", port)) {
            // listening; now ask it something
        } catch (IOException e) {
            return false;
        }
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "3000");
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
        try (Admin admin = Admin.create(p)) {
            return !admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).isEmpty();
        } catch (Exception e) {
            return false;
        }
    }

    private static ProcessBuilder java(String mainClass, List<String> jvmOptions, String... args) {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xms256m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
        command.addAll(jvmOptions);
        // the jars of this JVM's class path, Kafka's among them: a class archive refuses a class path with a
        // folder in it (target/classes), and Kafka needs nothing from those
        String jars = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(entry -> !Files.isDirectory(Path.of(entry))).collect(Collectors.joining(File.pathSeparator));
        command.addAll(List.of(
                "-Dlog4j2.configurationFile=" + Path.of("src/test/resources/kafka-log4j2.properties").toAbsolutePath(),
                "-cp", jars, mainClass));
        command.addAll(List.of(args));
        return new ProcessBuilder(command);
    }

    /** Kill -9: a crash, the log directory stays. Fails unless kill exits 0 and the broker ends by the signal. */
    public void kill() {
        Signs.signal("KILL", process.pid());
        try {
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("Kafka ended after SIGKILL").isTrue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        assertThat(process.exitValue()).as("Kafka's exit status after SIGKILL").isEqualTo(Signs.KILLED);
    }

    /** Starts the broker again on the same port and log directory. */
    public void restart() {
        try {
            launch();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** SIGSTOP: the broker keeps its connections and answers nothing. Fails unless kill exits 0. */
    public void freeze() {
        Signs.signal("STOP", process.pid());
    }

    /** SIGCONT: the frozen broker goes on. Fails unless kill exits 0. */
    public void thaw() {
        Signs.signal("CONT", process.pid());
    }

    /** The broker process's state ({@link Signs#state}: T while frozen), or X once it has ended. */
    public char state() {
        return process.isAlive() ? Signs.state(process.pid()) : 'X';
    }

    /**
     * Stops the broker and deletes its records ({@code data/}; a benchmark leaves gigabytes there); its logs stay in
     * its folder for a failure to be read.
     */
    @Override
    public void close() {
        Records.forget(bootstrap());
        if (process != null && process.isAlive()) {
            thaw();
            process.destroy();
            try {
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (process == null || !process.isAlive()) {
            try {
                Folders.delete(dir.resolve("data"));
            } catch (IOException e) {
                System.err.println("Kafka's records in " + dir + " not deleted: " + e);
            }
        }
    }

    /**
     * {@code key=value} settings separated by commas, in order, each side stripped; a part without {@code =} is
     * ignored. For failsafe's {@code kafka.broker.settings}, and the benchmark's variants.
     */
    public static Map<String, String> settings(String commaSeparated) {
        Map<String, String> settings = new LinkedHashMap<>();
        for (String setting : commaSeparated.split(",")) {
            int eq = setting.indexOf('=');
            if (eq >= 0) {
                settings.put(setting.substring(0, eq).strip(), setting.substring(eq + 1).strip());
            }
        }
        return settings;
    }
}

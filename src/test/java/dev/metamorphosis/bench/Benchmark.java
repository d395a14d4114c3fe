package dev.metamorphosis.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import dev.metamorphosis.it.BridgeProcess;
import dev.metamorphosis.it.KafkaBroker;
import dev.metamorphosis.it.MqttBroker;

/**
 * The benchmark ({@code ./mvnw -Pbench}): real brokers on this machine (Mosquitto when it is installed, else the
 * embedded HiveMQ; Kafka in a child JVM), the raw limits (a plain MQTT subscriber, a plain Kafka producer), and the
 * built bridge as its own process, for QoS 0 and 1, payloads of 200 B and 10 KiB, 1 and 100 topics, both delivery
 * modes, 1 and 2 replicas; then latency at a steady 1,000 msg/s and the idle memory. Prints a table and writes it as
 * CSV to {@code target/benchmark/}. Not a test: nothing here passes or fails on a figure.
 * <p>
 * Settings (system properties, {@code -Dbench.count=...} on the Maven command line): {@code bench.count} messages
 * per run at 200 B (100,000), {@code bench.count.large} at 10 KiB (20,000), {@code bench.only} a comma-separated
 * list of case names to run (all), {@code bench.broker} {@code mosquitto} or {@code hivemq} (mosquitto when
 * installed), {@code bench.connections} publisher connections (4), {@code bench.window} QoS 1 publishes in flight
 * per connection at most (1000, never above the broker's receive maximum).
 */
public final class Benchmark {

    /** Messages published and bridged before each measured run, so the JIT has compiled the hot path. */
    private static final int WARM_UP = 20_000;
    private static final String[] COLUMNS = {"run", "subscriber", "delivery", "replicas", "published", "delivered",
        "lost", "duplicated", "reordered", "msg_per_s", "raw_msg_per_s", "ratio", "latency_p50_ms", "latency_p99_ms",
        "bridge_cpu_s", "bridge_peak_rss_mib", "broker_cpu_pct", "machine_cpu_pct", "limited_by"};

    private final int count = Integer.getInteger("bench.count", 100_000);
    private final int countLarge = Integer.getInteger("bench.count.large", 20_000);
    private final int connections = Integer.getInteger("bench.connections", 4);
    private final int window = Integer.getInteger("bench.window", 1000);
    private final List<String> only = List.of(System.getProperty("bench.only", "").split(","));
    private final List<Map<String, String>> rows = new ArrayList<>();
    private final Map<String, Double> raw = new HashMap<>();
    private final Path out;
    private KafkaBroker kafka;
    private KafkaSide kafkaSide;
    private int mqttPort;
    private long brokerPid = -1;
    private String brokerName;
    private int runs;

    private Benchmark(Path out) {
        this.out = out;
    }

    public static void main(String[] args) throws Exception {
        org.apache.logging.log4j.core.config.Configurator.setRootLevel(org.apache.logging.log4j.Level.WARN);
        Path out = Files.createDirectories(Path.of("target/benchmark").toAbsolutePath());
        new Benchmark(out).run();
        System.exit(0);
    }

    private void run() throws Exception {
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Optional<Path> mosquittoExecutable = "hivemq".equals(System.getProperty("bench.broker"))
                ? Optional.empty() : Mosquitto.executable();
        Mosquitto mosquitto = null;
        MqttBroker hivemq = null;
        if (mosquittoExecutable.isPresent()) {
            mosquitto = Mosquitto.start(mosquittoExecutable.get(), out.resolve("mosquitto-" + stamp));
            mqttPort = mosquitto.port();
            brokerPid = mosquitto.pid();
            brokerName = mosquitto.version;
        } else {
            hivemq = MqttBroker.start("bench", false);
            mqttPort = hivemq.port();
            brokerName = "HiveMQ CE (embedded, in the benchmark's JVM)";
        }
        kafka = KafkaBroker.start("bench", Map.of());
        kafkaSide = new KafkaSide(kafka.bootstrap());
        String machine = machine();
        System.out.println("Machine: " + machine);
        System.out.println("MQTT broker: " + brokerName + "; Kafka 3.9 (KRaft, child JVM); load average at start "
                + Proc.loadAverage());
        System.out.printf("Publisher: %d connections, up to %d QoS 1 publishes in flight each; %,d messages a run "
                + "(%,d at 10 KiB), after %,d to warm up%n%n", connections, window, count, countLarge, WARM_UP);
        try {
            double producer = kafkaSide.producerRate("bench-producer-" + stamp, count, 300);
            System.out.printf("Plain Kafka producer, 300 B records, acks=all: %,.0f msg/s%n%n", producer);
            row("kafka producer 300 B", "-", "-", 0, count, count, 0, 0, 0, producer, Double.NaN, null, 0, 0, -1,
                    -1, "-");
            for (int qos : new int[] {1, 0}) {
                for (int size : new int[] {200, 10240}) {
                    for (int topics : new int[] {1, 100}) {
                        throughput(qos, size, topics);
                    }
                }
            }
            replicas();
            latency();
            idleMemory();
        } finally {
            Path csv = out.resolve("benchmark-" + stamp + ".csv");
            writeCsv(csv);
            Files.copy(csv, out.resolve("benchmark.csv"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            System.out.println();
            System.out.println("Machine: " + machine + "; MQTT broker: " + brokerName + "; load average now "
                    + Proc.loadAverage());
            printTable();
            System.out.println("CSV: " + csv);
            kafkaSide.close();
            kafka.close();
            if (mosquitto != null) {
                mosquitto.close();
            }
            if (hivemq != null) {
                hivemq.stop();
            }
        }
    }

    private boolean selected(String name) {
        return only.size() == 1 && only.get(0).isEmpty() || only.stream().anyMatch(name::startsWith);
    }

    private static String caseName(int qos, int size, int topics) {
        return "qos" + qos + " " + (size >= 1024 ? size / 1024 + " KiB" : size + " B") + " " + topics
                + (topics == 1 ? " topic" : " topics");
    }

    /** One case: the plain subscriber, then the bridge in each delivery mode. */
    private void throughput(int qos, int size, int topics) throws Exception {
        String name = caseName(qos, size, topics);
        if (!selected(name)) {
            return;
        }
        int n = size > 1024 ? countLarge : count;
        double limit = plain(name, qos, size, topics, n);
        raw.put(name, limit);
        for (String delivery : new String[] {"at-least-once", "buffered"}) {
            bridge(name, qos, size, topics, n, delivery, 1, Map.of());
        }
    }

    /** The raw limit: a plain subscriber's rate for this case. */
    private double plain(String name, int qos, int size, int topics, int n) throws Exception {
        String prefix = "bench/" + ++runs;
        try (PlainSubscriber subscriber = new PlainSubscriber("127.0.0.1", mqttPort, prefix + "/#", qos, 65535)) {
            Load load = new Load("127.0.0.1", mqttPort, connections, window);
            int warm = Math.min(WARM_UP, n);
            load.publish(prefix + "/warmup", topics, warm, size, qos, 0);
            awaitPlain(subscriber, warm);
            subscriber.tally.clear();
            double broker0 = brokerCpu();
            long[] machine0 = Proc.machineTicks();
            Load.Run run = load.publish(prefix + "/m", topics, n, size, qos, 0);
            awaitPlain(subscriber, n);
            long[] machine1 = Proc.machineTicks();
            Tally t = subscriber.tally;
            double seconds = (t.lastArrival - run.startMillis()) / 1000.0;
            double rate = t.distinct() / seconds;
            row(name, "plain", "-", 0, n, t.delivered, n - t.distinct(), t.duplicated, t.reordered, rate,
                    Double.NaN, null, -1, -1, brokerShare(broker0, seconds), Proc.busy(machine0, machine1),
                    limitedBy(run, t.lastArrival, "subscriber"));
            System.out.printf("%-22s plain subscriber      %,8.0f msg/s  (publisher %,.0f msg/s)%n", name, rate,
                    run.rate());
            return rate;
        }
    }

    private static void awaitPlain(PlainSubscriber subscriber, long expected) throws InterruptedException {
        long seen = -1;
        long lastChange = System.nanoTime();
        while (subscriber.tally.distinct() < expected && System.nanoTime() - lastChange < 10_000_000_000L) {
            if (subscriber.failure() != null) {
                throw new IllegalStateException("plain subscriber failed", subscriber.failure());
            }
            Thread.sleep(20);
            long now = subscriber.tally.delivered;
            if (now != seen) {
                seen = now;
                lastChange = System.nanoTime();
            }
        }
    }

    /**
     * The bridge (one or more replicas, in one shared group when more) on this case: warm-up, then {@code n}
     * messages as fast as the publisher goes, then the tally from Kafka's append times.
     */
    private void bridge(String name, int qos, int size, int topics, int n, String delivery, int replicas,
                        Map<String, String> extra) throws Exception {
        String id = "bench-" + ++runs;
        kafkaSide.createTopic(id, 1);
        List<BridgeProcess> bridges = new ArrayList<>();
        try {
            for (int r = 0; r < replicas; r++) {
                Map<String, String> env = BridgeProcess.environment(mqttPort, kafka.bootstrap(), id, delivery);
                env.put("MQTT_QOS", Integer.toString(qos));
                env.put("MQTT_CLIENT_ID", id + "-" + r);
                if (replicas > 1) {
                    env.put("MQTT_SHARED_GROUP", id);
                }
                env.putAll(extra);
                bridges.add(BridgeProcess.start(Files.createDirectories(out.resolve("runs").resolve(id + "-" + r)),
                        env));
            }
            for (BridgeProcess b : bridges) {
                b.awaitSubscribed(Duration.ofSeconds(120));
            }
            Load load = new Load("127.0.0.1", mqttPort, connections, window);
            int warm = Math.min(WARM_UP, n);
            load.publish(id + "/warmup", topics, warm, size, qos, 0);
            kafkaSide.await(id, warm, Duration.ofSeconds(30));
            long before = kafkaSide.count(id);
            double cpu0 = bridges.stream().mapToDouble(b -> Proc.cpuSeconds(b.pid())).sum();
            double broker0 = brokerCpu();
            long[] machine0 = Proc.machineTicks();
            profile(bridges, "start", id);
            Load.Run run = load.publish(id + "/m", topics, n, size, qos, 0);
            kafkaSide.await(id, before + n, Duration.ofSeconds(20));
            long[] machine1 = Proc.machineTicks();
            profile(bridges, "stop", id);
            double cpu = bridges.stream().mapToDouble(b -> Proc.cpuSeconds(b.pid())).sum() - cpu0;
            double rss = bridges.stream().mapToDouble(b -> Proc.peakRssMiB(b.pid())).max().orElse(0);
            Tally t = kafkaSide.tally(id, "/m/");
            double seconds = (t.lastArrival - run.startMillis()) / 1000.0;
            double rate = t.distinct() * 1000.0 / Math.max(1, t.lastArrival - run.startMillis());
            row(name, "bridge", delivery, replicas, n, t.delivered, n - t.distinct(), t.duplicated, t.reordered, rate,
                    raw.getOrDefault(name, Double.NaN), null, cpu, rss, brokerShare(broker0, seconds),
                    Proc.busy(machine0, machine1), limitedBy(run, t.lastArrival, "bridge"));
            System.out.printf("%-22s bridge %-13s x%d %,8.0f msg/s  lost %d, duplicated %d, CPU %.1f s%n", name,
                    delivery, replicas, rate, n - t.distinct(), t.duplicated, cpu);
        } finally {
            stop(bridges);
        }
    }

    private void replicas() throws Exception {
        String name = caseName(1, 200, 100);
        if (!selected("replicas")) {
            return;
        }
        for (String delivery : new String[] {"at-least-once", "buffered"}) {
            bridge(name, 1, 200, 100, count, delivery, 2, Map.of());
        }
    }

    /** Latency at a steady 1,000 msg/s, QoS 1, 200 B, 1 topic, batches by time (KAFKA_INTERVAL=1). */
    private void latency() throws Exception {
        if (!selected("latency")) {
            return;
        }
        int rate = 1000;
        int n = 20 * rate;
        for (String delivery : new String[] {"at-least-once", "buffered"}) {
            String id = "bench-" + ++runs;
            kafkaSide.createTopic(id, 1);
            Map<String, String> env = BridgeProcess.environment(mqttPort, kafka.bootstrap(), id, delivery);
            env.put("KAFKA_BATCH_SIZE", "10000");
            BridgeProcess b = BridgeProcess.start(Files.createDirectories(out.resolve("runs").resolve(id)), env);
            try {
                b.awaitSubscribed(Duration.ofSeconds(120));
                Load load = new Load("127.0.0.1", mqttPort, connections, window);
                load.publish(id + "/warmup", 1, 2 * rate, 200, 1, rate);
                double cpu0 = Proc.cpuSeconds(b.pid());
                long before = kafkaSide.count(id);
                long[] machine0 = Proc.machineTicks();
                Load.Run run = load.publish(id + "/m", 1, n, 200, 1, rate);
                kafkaSide.await(id, before + n, Duration.ofSeconds(20));
                long[] machine1 = Proc.machineTicks();
                Tally t = kafkaSide.tally(id, "/m/");
                String name = "latency qos1 200 B @1000/s";
                row(name, "bridge", delivery, 1, n, t.delivered, n - t.distinct(), t.duplicated, t.reordered,
                        t.distinct() * 1000.0 / Math.max(1, t.lastArrival - run.startMillis()), Double.NaN,
                        t, Proc.cpuSeconds(b.pid()) - cpu0, Proc.peakRssMiB(b.pid()), -1,
                        Proc.busy(machine0, machine1), "rate");
                System.out.printf("%-22s bridge %-13s p50 %d ms, p99 %d ms (KAFKA_INTERVAL=1, KAFKA_BATCH_SIZE="
                        + "10000)%n", name, delivery, t.latencyPercentile(50), t.latencyPercentile(99));
            } finally {
                stop(List.of(b));
            }
        }
    }

    /** Resident memory of an idle bridge with the JVM's default heap (no -Xmx). */
    private void idleMemory() throws Exception {
        if (!selected("idle")) {
            return;
        }
        String id = "bench-" + ++runs;
        Map<String, String> env = BridgeProcess.environment(mqttPort, kafka.bootstrap(), id, "at-least-once");
        env.put("JAVA_OPTS", "");
        BridgeProcess b = BridgeProcess.start(Files.createDirectories(out.resolve("runs").resolve(id)), env);
        try {
            b.awaitSubscribed(Duration.ofSeconds(120));
            Thread.sleep(15_000); // idle: the start-up's garbage settles
            double rss = Proc.rssMiB(b.pid());
            row("idle, default heap", "bridge", "at-least-once", 1, 0, 0, 0, 0, 0, 0, Double.NaN, null,
                    Proc.cpuSeconds(b.pid()), rss, -1, -1, "-");
            System.out.printf("%-22s bridge RSS %.0f MiB (peak %.0f MiB) after 15 s idle, no -Xmx%n",
                    "idle, default heap", rss, Proc.peakRssMiB(b.pid()));
        } finally {
            stop(List.of(b));
        }
    }

    /**
     * With {@code -Dbench.jfr=true}: a JFR recording of each bridge over the measured part of the run only, Java
     * sampled every millisecond, in target/benchmark/runs/.
     */
    private void profile(List<BridgeProcess> bridges, String action, String id) throws Exception {
        if (!Boolean.getBoolean("bench.jfr")) {
            return;
        }
        for (int r = 0; r < bridges.size(); r++) {
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "jcmd")
                    .toString(), Long.toString(bridges.get(r).pid())));
            if (action.equals("start")) {
                Path settings = out.resolve("runs").resolve("profile-1ms.jfc");
                if (!Files.exists(settings)) {
                    String profile = Files.readString(Path.of(System.getProperty("java.home"), "lib", "jfr",
                            "profile.jfc"));
                    Files.writeString(settings, profile.replace(
                            "control=\"method-sampling-java-interval\">10 ms<",
                            "control=\"method-sampling-java-interval\">1 ms<"));
                }
                command.addAll(List.of("JFR.start", "name=bench", "settings=" + settings, "filename="
                        + out.resolve("runs").resolve(id + "-" + r + ".jfr")));
            } else {
                command.addAll(List.of("JFR.stop", "name=bench"));
            }
            new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start().waitFor();
        }
    }

    private static void stop(List<BridgeProcess> bridges) {
        bridges.forEach(BridgeProcess::terminate);
        for (BridgeProcess b : bridges) {
            try {
                b.exitCode(Duration.ofSeconds(60));
            } catch (AssertionError e) {
                System.err.println("bridge did not stop: " + e.getMessage());
            }
            b.close();
        }
    }

    /** Share of one core the MQTT broker used over the last {@code seconds}, when it runs as its own process. */
    private double brokerShare(double cpuBefore, double seconds) {
        return brokerPid < 0 || seconds <= 0 ? -1 : (brokerCpu() - cpuBefore) / seconds;
    }

    private double brokerCpu() {
        return brokerPid < 0 ? 0 : Proc.cpuSeconds(brokerPid);
    }

    /**
     * The publisher, when the subscriber (or bridge) had everything within a second of the last publish; else the
     * subscriber, which fell behind while the broker queued.
     */
    private static String limitedBy(Load.Run run, long lastArrival, String consumer) {
        long lag = lastArrival - run.endMillis();
        return lag <= 1000 ? "publisher" : consumer + " (+" + lag + " ms after the last publish)";
    }

    private void row(String run, String subscriber, String delivery, int replicas, long published, long delivered,
                     long lost, long duplicated, long reordered, double rate, double rawRate, Tally latency,
                     double cpu, double rss, double brokerShare, double machineBusy, String limit) {
        Map<String, String> r = new java.util.LinkedHashMap<>();
        r.put("run", run);
        r.put("subscriber", subscriber);
        r.put("delivery", delivery);
        r.put("replicas", replicas == 0 ? "-" : Integer.toString(replicas));
        r.put("published", Long.toString(published));
        r.put("delivered", Long.toString(delivered));
        r.put("lost", Long.toString(lost));
        r.put("duplicated", Long.toString(duplicated));
        r.put("reordered", Long.toString(reordered));
        r.put("msg_per_s", String.format(Locale.ROOT, "%.0f", rate));
        r.put("raw_msg_per_s", Double.isNaN(rawRate) ? "" : String.format(Locale.ROOT, "%.0f", rawRate));
        r.put("ratio", Double.isNaN(rawRate) ? "" : String.format(Locale.ROOT, "%.2f", rate / rawRate));
        r.put("latency_p50_ms", latency == null ? "" : Long.toString(latency.latencyPercentile(50)));
        r.put("latency_p99_ms", latency == null ? "" : Long.toString(latency.latencyPercentile(99)));
        r.put("bridge_cpu_s", subscriber.equals("bridge") ? String.format(Locale.ROOT, "%.1f", cpu) : "");
        r.put("bridge_peak_rss_mib", subscriber.equals("bridge") ? String.format(Locale.ROOT, "%.0f", rss) : "");
        r.put("broker_cpu_pct", brokerShare < 0 ? "" : String.format(Locale.ROOT, "%.0f", brokerShare * 100));
        r.put("machine_cpu_pct", machineBusy < 0 ? "" : String.format(Locale.ROOT, "%.0f", machineBusy * 100));
        r.put("limited_by", limit);
        rows.add(r);
    }

    private void writeCsv(Path csv) throws IOException {
        StringBuilder text = new StringBuilder(String.join(",", COLUMNS)).append('\n');
        for (Map<String, String> r : rows) {
            List<String> cells = new ArrayList<>();
            for (String c : COLUMNS) {
                String v = r.get(c);
                cells.add(v.contains(",") || v.contains("\"") ? "\"" + v.replace("\"", "\"\"") + "\"" : v);
            }
            text.append(String.join(",", cells)).append('\n');
        }
        Files.writeString(csv, text);
    }

    /** The table as Markdown, ready for the README. */
    private void printTable() {
        String[] heads = {"run", "subscriber", "delivery", "replicas", "msg/s", "raw msg/s", "ratio", "p50 ms",
            "p99 ms", "bridge CPU s", "peak RSS MiB", "broker CPU %", "machine CPU %", "lost", "dup",
            "limited by"};
        String[] keys = {"run", "subscriber", "delivery", "replicas", "msg_per_s", "raw_msg_per_s", "ratio",
            "latency_p50_ms", "latency_p99_ms", "bridge_cpu_s", "bridge_peak_rss_mib", "broker_cpu_pct",
            "machine_cpu_pct", "lost", "duplicated", "limited_by"};
        System.out.println("| " + String.join(" | ", heads) + " |");
        System.out.println("|" + "---|".repeat(heads.length));
        for (Map<String, String> r : rows) {
            List<String> cells = new ArrayList<>();
            for (String k : keys) {
                String v = r.get(k);
                cells.add(k.equals("msg_per_s") || k.equals("raw_msg_per_s") ? thousands(v) : v);
            }
            System.out.println("| " + String.join(" | ", cells) + " |");
        }
    }

    private static String thousands(String number) {
        return number.isEmpty() ? number : String.format(Locale.ROOT, "%,d", Long.parseLong(number));
    }

    private static String machine() {
        String cpu = "?";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).strip()).orElse("?");
        } catch (IOException e) {
            // not Linux
        }
        long memory = 0;
        try {
            memory = Long.parseLong(Files.readAllLines(Path.of("/proc/meminfo")).get(0).replaceAll("[^0-9]", ""));
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return Runtime.getRuntime().availableProcessors() + " CPUs (" + cpu + "), " + Math.round(memory / 1048576.0)
                + " GiB RAM, Java " + System.getProperty("java.version");
    }

    static {
        // the benchmark is Linux-only: CPU and memory come from /proc
        if (!Files.isDirectory(Path.of("/proc/self"))) {
            throw new UncheckedIOException(new IOException("the benchmark reads /proc: Linux only"));
        }
    }
}

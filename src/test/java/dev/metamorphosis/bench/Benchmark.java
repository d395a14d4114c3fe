package dev.metamorphosis.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

import javax.net.ssl.SSLContext;

import dev.metamorphosis.NoDelaySslSocketFactory;

import dev.metamorphosis.it.BridgeProcess;
import dev.metamorphosis.it.Certs;
import dev.metamorphosis.it.Folders;
import dev.metamorphosis.it.Http;
import dev.metamorphosis.it.KafkaBroker;
import dev.metamorphosis.it.Load;
import dev.metamorphosis.it.Mosquitto;
import dev.metamorphosis.it.MqttBroker;
import dev.metamorphosis.it.Ports;
import dev.metamorphosis.it.Scrape;
import dev.metamorphosis.it.Tools;

/**
 * The benchmark ({@code ./mvnw -Pbench}, see docs/performance.md): real brokers on this machine (Mosquitto when it is
 * installed, else the embedded HiveMQ; Kafka in a child JVM), the raw limits (plain MQTT subscribers, a plain Kafka
 * producer), a plain Paho forwarder to Kafka (both sides at once) and the built bridge as its own process, for QoS 1
 * and 0, payloads of 200 B and 10 KiB, 1 and 100 topics, each delivery mode (durable, at-least-once, buffered); then 2
 * replicas in a shared group, 100 topics through a topic map of three rules beside the same unmapped, latency at a
 * steady 1,000 msg/s, and start-up time and idle memory. The bridge runs as shipped, through its launcher
 * (src/main/docker/entrypoint.sh) and its JVM settings; the first case and start-up run once more as a plain
 * {@code java -jar}, on the JVM's defaults. Prints a table (Markdown) and writes it as CSV to
 * {@code target/benchmark/}. Not a test: nothing here passes or fails on a figure.
 * <p>
 * Settings, as system properties ({@code -Dbench.count=...} on the Maven command line): {@code bench.count} messages a
 * run at 200 B (100,000), {@code bench.count.large} at 10 KiB (20,000), {@code bench.only} a comma-separated list of
 * the starts of the run names to do ({@code qos1 200 B 1 topic}, {@code tls}, {@code replicas}, {@code latency},
 * {@code idle}; all by default), {@code bench.broker} {@code hivemq} to use the embedded broker even when Mosquitto is installed,
 * {@code bench.connections} publisher connections (4), {@code bench.window} QoS 1 publishes in flight per connection
 * at most (1000, never above the broker's receive maximum), {@code bench.java.opts} more JVM options for the bridge (JAVA_OPTS),
 * {@code bench.env} more settings for the bridge ({@code KAFKA_BATCH_SIZE=500;DELIVERY=buffered}), {@code bench.rate}
 * a steady rate for the measured part of the throughput runs instead of as fast as the publisher goes,
 * {@code bench.jfr} true to record each measured bridge run with JFR, {@code bench.perf} true to record it with
 * Linux {@code perf} (no JVM agent; it sees the kernel and the JVM's own threads too), {@code bench.threads} true to
 * print where each run's CPU went, {@code bench.variants} more bridges to run beside each throughput case's, in the same run, as
 * {@code label:KEY=VALUE,KEY=VALUE} separated by {@code |} (for a before and after: another build's jar,
 * configuration and launcher, {@code before:METAMORPHOSIS_JAR=/old/target/metamorphosis.jar,CONFIG_DIR=/old,
 * LAUNCHER=/old/target/bin/metamorphosis}; a {@code JAVA_OPTS=...} there comes after {@code bench.java.opts}).
 */
public final class Benchmark {

    private static final String[] COLUMNS = {"run", "subscriber", "delivery", "replicas", "published", "delivered",
        "lost", "duplicated", "reordered", "msg_per_s", "raw_msg_per_s", "ratio", "latency_p50_ms", "latency_p99_ms",
        "bridge_cpu_s", "bridge_cpu_us_per_msg", "bridge_disk_bytes_per_msg", "bridge_peak_rss_mib", "idle_rss_mib",
        "startup_ms", "mean_batch",
        "broker_cpu_pct",
        "machine_cpu_pct", "limited_by"};
    /** The delivery modes, the default first. */
    private static final String[] DELIVERIES = {"durable", "at-least-once", "buffered"};
    /** The case also run on the JVM's defaults ({@code java -jar}, none of the launcher's settings), for comparison. */
    private static final String JVM_DEFAULTS_CASE = "qos1 200 B 1 topic";
    /** Starts of the bridge timed for each way of launching it ({@code bench.starts}, 3); the median is reported. */
    private static final int STARTS = Integer.getInteger("bench.starts", 3);
    /**
     * Warm-up rounds end once the JIT compiler uses less than this share of the run's time, but not before
     * {@code bench.warmup.min} rounds (1), or after {@code bench.warmup.rounds} rounds (10).
     */
    private static final double JIT_QUIET = 0.1;
    private static final int WARMUP_ROUNDS = Integer.getInteger("bench.warmup.rounds", 10);
    private static final int WARMUP_MIN = Integer.getInteger("bench.warmup.min", 1);

    private final int count = Integer.getInteger("bench.count", 100_000);
    private final int countLarge = Integer.getInteger("bench.count.large", 20_000);
    private final int connections = Integer.getInteger("bench.connections", 4);
    private final int window = Integer.getInteger("bench.window", 1000);
    private final List<String> only = List.of(System.getProperty("bench.only", "").split(","));
    private final Map<String, Map<String, String>> variants = variants(System.getProperty("bench.variants", ""));
    private final boolean showThreads = Boolean.getBoolean("bench.threads");
    private static final boolean PERF = Boolean.getBoolean("bench.perf");
    /** The {@code perf record} processes of the measured part of a run ({@code bench.perf}). */
    private final List<Process> recordings = new ArrayList<>();
    private final List<Map<String, String>> rows = new ArrayList<>();
    private final Map<String, Double> raw = new HashMap<>();
    /**
     * The publisher's rate beside the faster of the two plain subscribers, by case: what it reaches when nothing
     * holds it back.
     */
    private final Map<String, Double> freePublisher = new HashMap<>();
    private final Path out;
    private KafkaBroker kafka;
    private KafkaSide kafkaSide;
    private int mqttPort;
    /** Mosquitto's listener over mutual TLS, its CA and the client's certificate (-1: the embedded broker, none). */
    private int tlsPort = -1;
    private Certs tlsCa;
    private Certs.Identity tlsClient;
    private long brokerPid = -1;
    private int runs;

    private Benchmark(Path out) {
        this.out = out;
    }

    public static void main(String[] args) throws Exception {
        org.apache.logging.log4j.core.config.Configurator.setRootLevel(org.apache.logging.log4j.Level.WARN);
        new Benchmark(Files.createDirectories(Path.of("target/benchmark").toAbsolutePath())).run();
        System.exit(0);
    }

    private void run() throws Exception {
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        // the bridges' working folders of an earlier run have the same names: their spools would make a durable
        // bridge start as after a restart (subscribing before the probe) and hold records of that run
        Folders.delete(out.resolve("runs"));
        Optional<Path> mosquittoExecutable = "hivemq".equals(System.getProperty("bench.broker"))
                ? Optional.empty() : Tools.find("mosquitto");
        Mosquitto mosquitto = null;
        MqttBroker hivemq = null;
        String brokerName;
        if (mosquittoExecutable.isPresent()) {
            // a second listener over mutual TLS, for the bridge as shipped (MQTT_TLS=true) in case "tls"
            tlsCa = Certs.create("bench");
            tlsClient = tlsCa.issue("bench-client", "EC", Certs.KeyForm.TRADITIONAL);
            tlsPort = Ports.free();
            mosquitto = Mosquitto.startWithTls(mosquittoExecutable.get(), out.resolve("mosquitto-" + stamp), tlsPort,
                    tlsCa, tlsCa.issue("mosquitto", "RSA", Certs.KeyForm.PKCS8, "127.0.0.1"));
            mqttPort = mosquitto.port();
            brokerPid = mosquitto.pid();
            brokerName = mosquitto.version + " (max_queued_messages 0, max_inflight_messages 1000)";
        } else {
            hivemq = MqttBroker.start("bench", false);
            mqttPort = hivemq.port();
            brokerName = "HiveMQ CE 2025.5 (embedded, in the benchmark's JVM)";
        }
        kafka = KafkaBroker.start("bench", Map.of());
        kafkaSide = new KafkaSide(kafka.bootstrap());
        String header = "Machine: " + machine() + "\nMQTT broker: " + brokerName + "; Kafka 3.9.1 (KRaft, child JVM)\n"
                + String.format("Publisher: %d connections, up to %d QoS 1 publishes in flight each; %,d messages a "
                + "run (%,d at 10 KiB), after as many to warm up (more while the bridge's JIT compiler is busy)",
                connections, window, count, countLarge);
        System.out.println(header + "\nLoad average at start: " + Proc.loadAverage() + "\n");
        try {
            if (selected("kafka producer")) {
                double producer = kafkaSide.producerRate("bench-producer-" + stamp, count, 300);
                System.out.printf("%-24s %,9.0f msg/s%n", "kafka producer 300 B", producer);
                row("kafka producer 300 B", "plain producer", "", 0, count, null, producer, null, null, "");
            }
            for (int qos : new int[] {1, 0}) {
                for (int size : new int[] {200, 10240}) {
                    for (int topics : new int[] {1, 100}) {
                        throughput(qos, size, topics);
                    }
                }
            }
            if (selected("tls") && tlsPort > 0) {
                tls();
            }
            if (selected("replicas")) {
                for (String delivery : DELIVERIES) {
                    bridge("replicas: " + caseName(1, 200, 100), caseName(1, 200, 100), 1, 200, 100, count,
                            delivery, 2, 0, Map.of());
                }
            }
            if (selected("mapped")) {
                // the same 100 MQTT topics unmapped and through a topic map of three rules onto three Kafka topics,
                // raw with the MQTT metadata as headers (each rule matching a third of them), in the default mode
                Path map = Files.writeString(out.resolve("topic-map-" + stamp + ".yaml"), String.join("\n",
                        "- {filter: \"+/+/g0/+\", topic: \"{1}-g0\", format: raw}",
                        "- {filter: \"+/+/g1/+\", topic: \"{1}-g1\", format: raw}",
                        "- {filter: \"+/+/g2/+\", topic: \"{1}-g2\", format: raw}", ""));
                String unmapped = caseName(1, 200, 100);
                bridge("mapped: unmapped " + unmapped, unmapped, 1, 200, 100, count, DELIVERIES[0], 1, 0, Map.of());
                bridge("mapped: 3 rules, raw, headers", unmapped, 1, 200, 100, count, DELIVERIES[0], 1, 0,
                        Map.of("TOPIC_MAP", map.toString()));
            }
            if (selected("latency")) {
                // batches fill by time: 1,000 msg/s never fills a batch of 10,000 within KAFKA_INTERVAL=1
                for (String delivery : DELIVERIES) {
                    bridge("latency: qos1 200 B 1 topic at 1,000 msg/s", null, 1, 200, 1, 20_000, delivery, 1,
                            1000, Map.of("KAFKA_BATCH_SIZE", "10000"));
                }
            }
            if (selected("idle")) {
                idleMemory();
            }
        } finally {
            Path csv = out.resolve("benchmark-" + stamp + ".csv");
            writeCsv(csv);
            Files.copy(csv, out.resolve("benchmark.csv"), StandardCopyOption.REPLACE_EXISTING);
            System.out.println("\n" + header + "\nLoad average at the end: " + Proc.loadAverage() + "\n");
            printTable();
            System.out.println("\nCSV: " + csv);
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
        return only.size() == 1 && only.get(0).isEmpty() || only.stream().anyMatch(o -> name.startsWith(o.strip()));
    }

    private static String caseName(int qos, int size, int topics) {
        return "qos" + qos + " " + (size >= 1024 ? size / 1024 + " KiB" : size + " B") + " " + topics
                + (topics == 1 ? " topic" : " topics");
    }

    /** One case: the plain subscribers, then the bridge in each delivery mode. */
    private void throughput(int qos, int size, int topics) throws Exception {
        String name = caseName(qos, size, topics);
        if (!selected(name)) {
            return;
        }
        int n = size > 1024 ? countLarge : count;
        double wire = plain(name, "plain subscriber", qos, size, topics, n,
                filter -> new PlainSubscriber("127.0.0.1", mqttPort, filter, qos, 65535));
        double paho = plain(name, "plain Paho subscriber", qos, size, topics, n,
                filter -> new PahoSubscriber("127.0.0.1", mqttPort, filter, qos, 8000));
        // not a raw limit (the issue's targets name the subscribers and the producer): what a bare pipe of Paho
        // and a plain producer gets through while both sides share the machine, as the bridge's do
        plain(name, "plain Paho forwarder to Kafka", qos, size, topics, n, filter -> {
            String kafkaTopic = "bench-forward-" + ++runs;
            return new PahoSubscriber("127.0.0.1", mqttPort, filter, qos, 8000,
                    kafkaSide.producerAsTheBridge(kafkaTopic), kafkaTopic);
        });
        double limit = Math.max(wire, paho);
        if (size > 1024) {
            limit = Math.min(limit, envelopeProducer(name, size, n));
        }
        raw.put(name, limit);
        for (String delivery : DELIVERIES) {
            bridge(name, name, qos, size, topics, n, delivery, 1, Integer.getInteger("bench.rate", 0), Map.of());
            for (Map.Entry<String, Map<String, String>> variant : variants.entrySet()) {
                bridge(name + " [" + variant.getKey() + "]", name, qos, size, topics, n, delivery, 1,
                        Integer.getInteger("bench.rate", 0), variant.getValue());
            }
        }
        if (name.equals(JVM_DEFAULTS_CASE)) {
            // the launcher's JVM settings (above) against none, in the same run: what they cost in throughput
            for (String delivery : DELIVERIES) {
                bridge(name + ", JVM defaults", name, qos, size, topics, n, delivery, 1,
                        Integer.getInteger("bench.rate", 0), Map.of(), true);
            }
        }
        if (size > 1024) {
            // before, in the same run: Paho's own CountingInputStream, which reads a payload a byte per call
            bridge(name + ", Paho's own CountingInputStream", name, qos, size, topics, n, DELIVERIES[0], 1,
                    Integer.getInteger("bench.rate", 0),
                    Map.of("METAMORPHOSIS_JAR", BridgeProcess.pahoFirstJar(out).toString()));
        }
    }

    /**
     * The first case with the bridge over mutual TLS, as it ships ({@code MQTT_TLS=true}); its raw limit the plain
     * Paho subscriber over the same TLS listener, with the bridge's TLS sockets. The publisher stays on plain TCP.
     */
    private void tls() throws Exception {
        String name = "tls: " + caseName(1, 200, 1);
        SSLContext context = tlsCa.context(tlsClient);
        raw.put(name, plain(name, "plain Paho subscriber over TLS", 1, 200, 1, count,
                filter -> new PahoSubscriber("ssl://127.0.0.1:" + tlsPort, new NoDelaySslSocketFactory(context),
                        filter, 1, 8000)));
        Map<String, String> tls = Map.of("MQTT_PORT", Integer.toString(tlsPort), "MQTT_TLS", "true",
                "ROOT_CA", tlsCa.ca().toString(), "MQTT_CLIENT_CERT", tlsClient.cert().toString(),
                "MQTT_CLIENT_KEY", tlsClient.key().toString());
        for (String delivery : DELIVERIES) {
            bridge(name, name, 1, 200, 1, count, delivery, 1, Integer.getInteger("bench.rate", 0), tls);
            for (Map.Entry<String, Map<String, String>> variant : variants.entrySet()) {
                Map<String, String> settings = new HashMap<>(tls);
                settings.putAll(variant.getValue());
                bridge(name + " [" + variant.getKey() + "]", name, 1, 200, 1, count, delivery, 1,
                        Integer.getInteger("bench.rate", 0), settings);
            }
        }
    }

    /**
     * A plain Kafka producer ({@code acks=all}) writing records of the size of a large payload's envelope: at 10 KiB
     * the raw limit may be Kafka's rather than MQTT's, and it is the lower of the two.
     */
    private double envelopeProducer(String name, int size, int n) {
        int record = 4 * ((size + 2) / 3) + "{\"topic\":\"bench-1/m/0\",\"content\":\"\"}".length();
        String producer = String.format(Locale.ROOT, "plain producer %,d B", record);
        double rate = kafkaSide.producerRate("bench-producer-" + ++runs, n, record);
        System.out.printf("%-24s %,9.0f msg/s  %s%n", name, rate, producer);
        row(name, producer, "", 0, n, null, rate, null, null, "");
        return rate;
    }

    /** When each of the publisher's connections had its last acknowledgement: one left behind sets the run's end. */
    private static void connectionsDone(Load.Run run) {
        System.out.printf("    the publisher's %d connections had their last acknowledgement at %s s%n",
                run.connectionEnds().length, run.connectionsDone());
    }

    /** {@code label:KEY=VALUE,KEY=VALUE|label:...}: the settings of each variant, by label, in order. */
    private static Map<String, Map<String, String>> variants(String spec) {
        Map<String, Map<String, String>> out = new LinkedHashMap<>();
        for (String variant : spec.split("\\|")) {
            if (!variant.contains(":")) {
                continue;
            }
            out.put(variant.substring(0, variant.indexOf(':')).strip(),
                    KafkaBroker.settings(variant.substring(variant.indexOf(':') + 1)));
        }
        return out;
    }

    /** A plain subscriber's rate for this case, after a warm-up; the faster of the two is the raw limit. */
    private double plain(String name, String subscriber, int qos, int size, int topics, int n,
                         Function<String, Subscriber> connect) throws Exception {
        String prefix = "bench/" + ++runs;
        Load load = new Load("127.0.0.1", mqttPort, connections, window);
        try (Subscriber warm = connect.apply(prefix + "/warmup/#")) {
            load.publish(prefix + "/warmup", topics, n, qos, 0, Stamp.content(size));
            awaitPlain(warm, n);
        }
        try (Subscriber plain = connect.apply(prefix + "/m/#")) {
            Usage before = Usage.now(List.of(), brokerPid);
            Load.Run run = load.publish(prefix + "/m", topics, n, qos, 0, Stamp.content(size));
            awaitPlain(plain, n);
            Usage after = Usage.now(List.of(), brokerPid);
            Tally t = plain.tally();
            double seconds = (t.lastArrival - run.startMillis()) / 1000.0;
            double rate = t.distinct() / seconds;
            Map<String, String> r = row(name, subscriber, "", 0, n, t, rate, null, null,
                    limitedBy(run, t.lastArrival, "subscriber", after.machineBusy(before),
                            freePublisher.getOrDefault(name, 0.0)));
            if (!subscriber.contains("forwarder")) {
                freePublisher.merge(name, run.rate(), Math::max);
            }
            r.put("broker_cpu_pct", percent(after.brokerShare(before, brokerPid >= 0)));
            r.put("machine_cpu_pct", percent(after.machineBusy(before)));
            System.out.printf("%-24s %,9.0f msg/s  %s (the publisher %,.0f msg/s)%n", name, rate, subscriber,
                    run.rate());
            if (qos > 0) {
                connectionsDone(run);
            }
            if (showThreads) {
                System.out.print(after.breakdown(before));
            }
            return rate;
        }
    }

    private static void awaitPlain(Subscriber subscriber, long expected) throws InterruptedException {
        long seen = -1;
        long lastChange = System.nanoTime();
        while (subscriber.tally().distinct() < expected && System.nanoTime() - lastChange < 10_000_000_000L) {
            if (subscriber.failure() != null) {
                throw new IllegalStateException("plain subscriber failed", subscriber.failure());
            }
            Thread.sleep(20);
            long now = subscriber.tally().delivered;
            if (now != seen) {
                seen = now;
                lastChange = System.nanoTime();
            }
        }
    }

    /**
     * The bridge (several replicas in one shared group when {@code replicas} > 1) on this case: warm-up rounds of
     * {@code n} messages until its JIT compiler is quiet, then {@code n} messages as fast as the publisher goes (or
     * at {@code perSecond}), then the tally from Kafka's append times.
     */
    private void bridge(String name, String rawCase, int qos, int size, int topics, int n, String delivery,
                        int replicas, int perSecond, Map<String, String> extra) throws Exception {
        bridge(name, rawCase, qos, size, topics, n, delivery, replicas, perSecond, extra, false);
    }

    /** The same, started by the launcher as shipped, or with {@code jvmDefaults} by a plain {@code java -jar}. */
    private void bridge(String name, String rawCase, int qos, int size, int topics, int n, String delivery,
                        int replicas, int perSecond, Map<String, String> extra, boolean jvmDefaults)
            throws Exception {
        String id = "bench-" + ++runs;
        // a topic map (bench.mapped) sends the three groups of MQTT topics to three Kafka topics
        List<String> kafkaTopics = extra.containsKey("TOPIC_MAP") ? List.of(id + "-g0", id + "-g1", id + "-g2")
                : List.of(id);
        kafkaTopics.forEach(t -> kafkaSide.createTopic(t, 1));
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
                for (String setting : System.getProperty("bench.env", "").split(";")) {
                    if (setting.contains("=")) {
                        env.put(setting.substring(0, setting.indexOf('=')), setting.substring(setting.indexOf('=') + 1));
                    }
                }
                bridges.add(launch(Files.createDirectories(out.resolve("runs").resolve(id + "-" + r)), env,
                        jvmDefaults));
            }
            for (BridgeProcess b : bridges) {
                b.awaitSubscribed(Duration.ofSeconds(120));
            }
            List<Long> pids = bridges.stream().map(BridgeProcess::pid).toList();
            Load load = new Load("127.0.0.1", mqttPort, connections, window);
            int rounds = 0;
            double compiling;
            do {
                Usage before = Usage.now(pids, brokerPid);
                load.publish(id + "/warmup", topics, n, qos, 0, Stamp.content(size));
                kafkaSide.await(kafkaTopics, (long) n * ++rounds, Duration.ofSeconds(30));
                // scraped as Prometheus scrapes a bridge from its start: the first HTTP request loads platform-http's
                // message class, and the JIT compiler drops the compiled code of the message path that assumed no
                // other subclass of Camel's DefaultMessage (-XX:+LogCompilation: dependency_failed, witness
                // HttpMessage), to compile it again; so the first scrape belongs to the warm-up, not the measured run
                batches(bridges);
                Usage after = Usage.now(pids, brokerPid);
                compiling = after.compilerCpu(before) / after.seconds(before);
                if (showThreads) {
                    System.out.printf("    warm-up round %d: %.1f s, the JIT compiler %.0f%% of one core%n", rounds,
                            after.seconds(before), 100 * compiling);
                }
            } while ((compiling > JIT_QUIET || rounds < WARMUP_MIN) && rounds < WARMUP_ROUNDS);
            long before = kafkaSide.count(kafkaTopics);
            double[] batches = batches(bridges);
            Usage start = Usage.now(pids, brokerPid);
            long written = pids.stream().mapToLong(Proc::writeBytes).sum();
            profile(bridges, "start", id);
            Load.Run run = load.publish(id + "/m", topics, n, qos, perSecond, Stamp.content(size));
            kafkaSide.await(kafkaTopics, before + n, Duration.ofSeconds(20));
            Usage end = Usage.now(pids, brokerPid);
            written = pids.stream().mapToLong(Proc::writeBytes).sum() - written;
            profile(bridges, "stop", id);
            double[] batchesAfter = batches(bridges);
            Tally t = kafkaSide.tally(kafkaTopics, "/m/");
            double rate = t.distinct() * 1000.0 / Math.max(1, t.lastArrival - run.startMillis());
            double cpu = end.bridgeCpu(start);
            Map<String, String> r = row(name, "bridge", delivery, replicas, n, t, rate,
                    rawCase == null ? null : raw.get(rawCase), perSecond > 0 ? t : null,
                    perSecond > 0 ? "rate " + perSecond + "/s" : limitedBy(run, t.lastArrival, "bridge",
                            end.machineBusy(start), freePublisher.getOrDefault(rawCase, 0.0)));
            r.put("bridge_cpu_s", String.format(Locale.ROOT, "%.1f", cpu));
            r.put("bridge_cpu_us_per_msg", String.format(Locale.ROOT, "%.0f", cpu * 1e6 / n));
            r.put("bridge_disk_bytes_per_msg", String.format(Locale.ROOT, "%.0f", (double) written / n));
            r.put("bridge_peak_rss_mib", String.format(Locale.ROOT, "%.0f",
                    bridges.stream().mapToDouble(b -> Proc.peakRssMiB(b.pid())).max().orElse(0)));
            r.put("mean_batch", String.format(Locale.ROOT, "%.0f",
                    (batchesAfter[0] - batches[0]) / Math.max(1, batchesAfter[1] - batches[1])));
            r.put("broker_cpu_pct", percent(end.brokerShare(start, brokerPid >= 0)));
            r.put("machine_cpu_pct", percent(end.machineBusy(start)));
            System.out.printf("%-24s %,9.0f msg/s  bridge %s x%d%s: %.0f µs CPU a message (%.0f without the JIT "
                    + "compiler), mean batch %s, %d warm-up round(s)%s%n", name, rate, delivery, replicas,
                    perSecond > 0 ? ", p50 " + r.get("latency_p50_ms") + " ms, p99 " + r.get("latency_p99_ms") + " ms"
                    : "", cpu * 1e6 / n, (cpu - end.compilerCpu(start)) * 1e6 / n, r.get("mean_batch"), rounds,
                    t.delivered == n && t.duplicated == 0 ? "" : String.format(", LOST %d, DUPLICATED %d",
                            n - t.distinct(), t.duplicated));
            if (qos > 0) {
                connectionsDone(run);
                System.out.printf("    the last record reached Kafka %d ms after the last acknowledgement%n",
                        t.lastArrival - run.endMillis());
            }
            if (showThreads) {
                System.out.print(end.breakdown(start));
            }
        } finally {
            stop(bridges);
        }
    }

    /**
     * Start-up and idle memory, with the launcher's settings, each variant ({@code bench.variants}) and the JVM's
     * defaults: {@link #STARTS} starts of each, taking turns, timed from the start of the process to the first 200 of
     * {@code /healthz} (polled every 10 ms), which comes after the Kafka probe and the MQTT subscription; the topics
     * exist, as at a restart. After the first start, the resident memory once the bridge has been idle 15 s.
     */
    private void idleMemory() throws Exception {
        Map<String, Map<String, String>> ways = new LinkedHashMap<>();
        ways.put("idle and start-up", Map.of());
        variants.forEach((label, extra) -> ways.put("idle and start-up [" + label + "]", extra));
        ways.put("idle and start-up, JVM defaults", Map.of());
        Map<String, Map<String, String>> envs = new LinkedHashMap<>();
        Map<String, List<Long>> starts = new LinkedHashMap<>();
        Map<String, List<Long>> startCpu = new LinkedHashMap<>();
        Map<String, Double> idle = new LinkedHashMap<>();
        for (var way : ways.entrySet()) {
            String id = "bench-" + ++runs;
            kafkaSide.createTopic(id, 1);
            kafkaSide.createTopic(id + "-probe", 1);
            Map<String, String> env = BridgeProcess.environment(mqttPort, kafka.bootstrap(), id, DELIVERIES[0]);
            env.put("KAFKA_TEST_TOPIC", id + "-probe");
            env.putAll(way.getValue());
            envs.put(way.getKey(), env);
            starts.put(way.getKey(), new ArrayList<>());
            startCpu.put(way.getKey(), new ArrayList<>());
        }
        for (int i = 0; i < STARTS; i++) {
            for (String name : ways.keySet()) {
                boolean jvmDefaults = name.endsWith("JVM defaults");
                Map<String, String> env = envs.get(name);
                long t0 = System.nanoTime();
                BridgeProcess b = launch(Files.createDirectories(out.resolve("runs").resolve(env.get("KAFKA_TOPIC")
                        + "-" + i)), env, jvmDefaults);
                try {
                    while (!live(b)) {
                        if (!b.isAlive() || System.nanoTime() - t0 > 120_000_000_000L) {
                            throw new IllegalStateException("bridge not live: " + b.stderr());
                        }
                        Thread.sleep(10);
                    }
                    starts.get(name).add((System.nanoTime() - t0) / 1_000_000);
                    startCpu.get(name).add(Math.round(Proc.cpuSeconds(b.pid()) * 1000));
                    if (i == 0) {
                        Thread.sleep(15_000); // idle, by definition: nothing to wait for
                        idle.put(name, Proc.rssMiB(b.pid()));
                    }
                } finally {
                    stop(List.of(b));
                }
            }
        }
        for (String name : ways.keySet()) {
            Map<String, String> r = row(name, "bridge", DELIVERIES[0], 1, 0, null, 0, null, null, "");
            long median = median(starts.get(name));
            long cpu = median(startCpu.get(name));
            r.put("idle_rss_mib", String.format(Locale.ROOT, "%.0f", idle.get(name)));
            r.put("startup_ms", Long.toString(median));
            r.put("bridge_cpu_s", String.format(Locale.ROOT, "%.2f", cpu / 1000.0));
            System.out.printf("%-24s RSS %.0f MiB after 15 s idle; start-up to /healthz 200 in %d ms (median of %s),"
                    + " using %d ms of CPU (median of %s)%n",
                    name, idle.get(name), median, starts.get(name), cpu, startCpu.get(name));
        }
    }

    /** The middle one of {@link #STARTS} figures, one for each start. */
    private static long median(List<Long> figures) {
        return figures.stream().sorted().toList().get(STARTS / 2);
    }

    /** A plain {@code healthz} 200: the bridge has written the probe and subscribed. */
    private static boolean live(BridgeProcess b) {
        Http.Response r = Http.get(b.healthPort(), "/healthz");
        return r != null && r.status() == 200;
    }

    /**
     * Starts a bridge through the launcher, with its settings (and {@code bench.java.opts} in JAVA_OPTS), or with
     * {@code jvmDefaults} as {@code java -jar} with none of them (nor the class archive), as the issue measured it.
     */
    private static BridgeProcess launch(Path dir, Map<String, String> settings, boolean jvmDefaults) {
        Map<String, String> env = new HashMap<>(settings);
        // a variant's own JAVA_OPTS come after bench.java.opts, so they override them
        env.put("JAVA_OPTS", ((PERF ? "-XX:+PreserveFramePointer " : "") + System.getProperty("bench.java.opts", "")
                + " " + env.getOrDefault("JAVA_OPTS", "")).strip());
        // a variant's LAUNCHER: another build's launcher script (the one it shipped) instead of this one's
        String launcher = env.remove("LAUNCHER");
        if (!jvmDefaults) {
            return launcher == null ? BridgeProcess.start(dir, env)
                    : BridgeProcess.run(dir, env, List.of("sh", launcher));
        }
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString()));
        command.addAll(List.of(env.get("JAVA_OPTS").split(" +")).stream().filter(o -> !o.isEmpty()).toList());
        command.addAll(List.of("-jar", BridgeProcess.jar().toString()));
        return BridgeProcess.run(dir, env, command);
    }

    /** Records and batches the bridges have written so far, from their metrics: {records, batches}. */
    private static double[] batches(List<BridgeProcess> bridges) {
        double records = 0;
        double batches = 0;
        for (BridgeProcess b : bridges) {
            Http.Response metrics = Http.get(b.healthPort(), "/metrics");
            if (metrics != null && metrics.status() == 200) {
                Scrape scrape = new Scrape(metrics.body());
                records += scrape.value("metamorphosis_kafka_batch_size_records_sum");
                batches += scrape.value("metamorphosis_kafka_batch_size_records_count");
            }
        }
        return new double[] {records, batches};
    }

    /**
     * With {@code -Dbench.jfr=true}: a JFR recording of each bridge over the measured part of the run only, Java
     * sampled every millisecond, in target/benchmark/runs/.
     */
    private void profile(List<BridgeProcess> bridges, String action, String id) throws Exception {
        if (PERF) {
            perf(bridges, action, id);
        }
        if (!Boolean.getBoolean("bench.jfr")) {
            return;
        }
        for (int r = 0; r < bridges.size(); r++) {
            List<String> command = new ArrayList<>(List.of(Tools.jdk("jcmd").toString(),
                    Long.toString(bridges.get(r).pid())));
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

    /**
     * With {@code -Dbench.perf=true}: Linux {@code perf record} of each bridge's threads over the measured part of the
     * run, 499 samples a second with call stacks (the JVM, the JIT's code and the kernel alike), in
     * target/benchmark/runs/ with the JIT's symbols ({@code jcmd Compiler.perfmap}: /tmp/perf-PID.map) written before
     * it stops. The bridges run with {@code -XX:+PreserveFramePointer} then, for the stacks of compiled code.
     */
    private void perf(List<BridgeProcess> bridges, String action, String id) throws Exception {
        if (action.equals("start")) {
            String perf = Tools.find("perf").orElseThrow(() -> new IllegalStateException(
                    "-Dbench.perf=true needs perf on the PATH (Debian: apt-get install linux-perf)")).toString();
            for (int r = 0; r < bridges.size(); r++) {
                recordings.add(new ProcessBuilder(perf, "record", "-q",
                        "-F", "499", "-g", "-p", Long.toString(bridges.get(r).pid()), "-o",
                        out.resolve("runs").resolve(id + "-" + r + ".perf.data").toString())
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
            }
            return;
        }
        for (BridgeProcess b : bridges) {
            new ProcessBuilder(Tools.jdk("jcmd").toString(), Long.toString(b.pid()), "Compiler.perfmap")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
        }
        for (Process p : recordings) {
            // perf record writes its file when interrupted
            new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
            p.waitFor();
        }
        recordings.clear();
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

    /**
     * The subscriber (or bridge) when it had the last message more than a second after the last publish: it fell
     * behind while the broker queued. Else the machine's CPU when it was 95 % busy or more (publisher, brokers and
     * bridge share it: the publisher slowed with the rest). Else the subscriber when the publisher went at under 0.9
     * of its rate beside the plain subscribers ({@code freePublisher}, 0 when not known): it kept up by holding the
     * publisher back, through its acknowledgements and the broker's window. Else the publisher.
     */
    private static String limitedBy(Load.Run run, long lastArrival, String consumer, double machineBusy,
                                    double freePublisher) {
        long lag = lastArrival - run.endMillis();
        if (lag > 1000) {
            return consumer + " (done " + lag + " ms after the last publish)";
        }
        if (machineBusy >= 0.95) {
            return "machine CPU (publisher, brokers and " + consumer + " share it)";
        }
        if (run.rate() < 0.9 * freePublisher) {
            return String.format(Locale.ROOT,
                    "%s (the publisher held to %.2f of its rate beside the plain subscribers)", consumer,
                    run.rate() / freePublisher);
        }
        return "publisher";
    }

    private Map<String, String> row(String run, String subscriber, String delivery, int replicas, long published,
                                    Tally t, double rate, Double rawRate, Tally latency, String limit) {
        Map<String, String> r = new LinkedHashMap<>();
        for (String c : COLUMNS) {
            r.put(c, "");
        }
        r.put("run", run);
        r.put("subscriber", subscriber);
        r.put("delivery", delivery);
        r.put("replicas", replicas == 0 ? "" : Integer.toString(replicas));
        r.put("published", Long.toString(published));
        if (t != null) {
            r.put("delivered", Long.toString(t.delivered));
            r.put("lost", Long.toString(published - t.distinct()));
            r.put("duplicated", Long.toString(t.duplicated));
            r.put("reordered", Long.toString(t.reordered));
        }
        r.put("msg_per_s", String.format(Locale.ROOT, "%.0f", rate));
        if (rawRate != null) {
            r.put("raw_msg_per_s", String.format(Locale.ROOT, "%.0f", rawRate));
            r.put("ratio", String.format(Locale.ROOT, "%.2f", rate / rawRate));
        }
        if (latency != null) {
            r.put("latency_p50_ms", Long.toString(latency.latencyPercentile(50)));
            r.put("latency_p99_ms", Long.toString(latency.latencyPercentile(99)));
        }
        r.put("limited_by", limit);
        rows.add(r);
        return r;
    }

    private static String percent(double share) {
        return share < 0 ? "" : String.format(Locale.ROOT, "%.0f", share * 100);
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

    /** The table as Markdown, for docs/performance.md. */
    private void printTable() {
        String[][] columns = {{"run", "run"}, {"subscriber", "subscriber"}, {"delivery", "delivery"},
            {"replicas", "replicas"},
            {"msg/s", "msg_per_s"}, {"raw msg/s", "raw_msg_per_s"}, {"ratio", "ratio"},
            {"p50 ms", "latency_p50_ms"}, {"p99 ms", "latency_p99_ms"}, {"bridge CPU s", "bridge_cpu_s"},
            {"µs CPU/msg", "bridge_cpu_us_per_msg"}, {"disk B/msg", "bridge_disk_bytes_per_msg"},
            {"peak RSS MiB", "bridge_peak_rss_mib"}, {"idle RSS MiB", "idle_rss_mib"}, {"start-up ms", "startup_ms"},
            {"mean batch", "mean_batch"}, {"broker CPU %", "broker_cpu_pct"}, {"machine CPU %", "machine_cpu_pct"},
            {"lost", "lost"}, {"dup", "duplicated"}, {"limited by", "limited_by"}};
        StringBuilder head = new StringBuilder("|");
        StringBuilder rule = new StringBuilder("|");
        for (String[] c : columns) {
            head.append(' ').append(c[0]).append(" |");
            rule.append("---|");
        }
        System.out.println(head + "\n" + rule);
        for (Map<String, String> r : rows) {
            StringBuilder line = new StringBuilder("|");
            for (String[] c : columns) {
                String v = r.get(c[1]);
                if (!v.isEmpty() && c[1].endsWith("msg_per_s")) {
                    v = String.format(Locale.ROOT, "%,d", Long.parseLong(v));
                }
                line.append(' ').append(v).append(" |");
            }
            System.out.println(line);
        }
    }

    private static String machine() {
        String cpu = "?";
        long memory = 0;
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).strip()).orElse("?");
            memory = Long.parseLong(Files.readAllLines(Path.of("/proc/meminfo")).get(0).replaceAll("[^0-9]", ""));
        } catch (IOException | RuntimeException e) {
            // the benchmark reads /proc: Linux only
        }
        return Runtime.getRuntime().availableProcessors() + " CPUs (" + cpu + "), " + Math.round(memory / 1048576.0)
                + " GiB RAM, Linux, Java " + System.getProperty("java.version");
    }
}

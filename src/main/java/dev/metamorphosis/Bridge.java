package dev.metamorphosis;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.TemplatedRouteBuilder;
import org.apache.camel.component.kafka.KafkaComponent;
import org.apache.camel.spi.OnCamelContextStarted;
import org.apache.camel.spi.OnCamelContextInitialized;
import org.apache.camel.spi.OnCamelContextStopping;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.logging.log4j.LogManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Start-up and shutdown order.
 * <p>
 * While Camel starts the routes: create the Kafka topics that are missing and write the probe record (route
 * {@code kafka-probe}). Once Camel has started them: open the disk spool ({@code DELIVERY=durable}; a folder it cannot
 * use ends the program with exit code 1), wait for the probe, and only then subscribe to MQTT, one route from
 * template {@code mqtt-ingest} per topic filter (as {@code $share/<group>/<filter>} with {@code MQTT_SHARED_GROUP}).
 * A probe that fails ends the program with exit code 1 (as the Go version), except when the disk spool wrote to
 * {@code KAFKA_TOPIC} before: then the bridge subscribes at once, and a failing probe is an outage, tried again until
 * it passes. A topic the bridge batches records into ({@code KAFKA_TOPIC}, {@code DEAD_LETTER_TOPIC}) that takes
 * smaller record batches than the Kafka producer makes ends the program with exit code 1, outage or not: a setting to
 * mend. An MQTT broker that cannot be reached is tried again with back-off (1 s doubling to 30 s) for as long as it
 * takes; once connected, the MQTT client reconnects by itself. (Not Camel's supervising route controller:
 * it logs a failed start at INFO as "Failed restarting route", where operators and SecurityFailuresIT read the cause
 * of each failed connect, a TLS or login error, in a WARN line naming the filter and the client id.)
 * Camel started with autoStartup=false (a check that the routes load) does none of this.
 * <p>
 * When Camel is asked to stop (SIGTERM), before any route stops: the spool admits nothing more, the open batch is
 * written, and the bridge waits up to {@code SHUTDOWN_TIMEOUT} seconds for Kafka to have everything; the MQTT
 * connections stay open meanwhile so the acknowledgements can go out. What is left is logged with a count.
 */
public final class Bridge implements OnCamelContextInitialized, OnCamelContextStarted, OnCamelContextStopping {

    private static final Logger LOG = LoggerFactory.getLogger("bridge");
    static final int PROBE_SECONDS = 10;
    private static final long MAX_CONNECT_BACKOFF_MILLIS = 30_000;

    private ScheduledExecutorService connector;
    private ScheduledExecutorService prober;
    private CompletableFuture<KafkaCheck> kafkaCheck;
    private int shutdownTimeout = 20;
    private Spool spool;

    /**
     * Starts checking Kafka (the topics, then the probe record) once Camel is initialized, while it starts the routes:
     * the probe's {@code direct} endpoint waits for route {@code kafka-probe} to run. What the check found is acted on
     * once Camel has started ({@link #onContextStarted}), before anything is subscribed.
     */
    @Override
    public void onContextInitialized(CamelContext context) {
        if (!context.isAutoStartup()) {
            return;
        }
        String probeTopic = context.getPropertiesComponent().resolveProperty("kafka.test.topic").orElse("");
        prober = context.getExecutorServiceManager().newSingleThreadScheduledExecutor(this, "kafka-probe");
        kafkaCheck = CompletableFuture.supplyAsync(() -> checkKafka(context, probeTopic), prober);
    }

    @Override
    public void onContextStarted(CamelContext context) {
        if (!context.isAutoStartup()) {
            LOG.info("Routes are not started (autoStartup=false): no topics, probe or MQTT subscriptions");
            return;
        }
        var properties = context.getPropertiesComponent();
        try {
            spool.open();
        } catch (Exception e) {
            fatal("SPOOL_DIR=" + spool.dir() + " " + (e instanceof SpoolLog.Unusable ? e.getMessage()
                    : "cannot be read: " + causeOf(e)));
        }
        if ("2".equals(properties.resolveProperty("mqtt.qos").orElse("")) && (spool.durable() || spool.atLeastOnce())) {
            LOG.warn("MQTT_QOS=2: the MQTT client acknowledges a QoS 2 message (PUBREC) as it arrives, so a bridge "
                     + "killed before {} loses it; MQTT_QOS=1 keeps DELIVERY={}'s guarantee (docs/delivery.md)",
                     spool.durable() ? "the spool's sync" : "Kafka has it", properties.resolveProperty("delivery")
                    .orElseThrow());
        }
        String probeTopic = properties.resolveProperty("kafka.test.topic").orElse("");
        List<String> filters = Settings.split(properties.resolveProperty(Settings.DERIVED + "mqtt.filters")
                .orElseThrow());
        String clientId = properties.resolveProperty(Settings.DERIVED + "mqtt.client-id").orElseThrow();
        List<Ingest> routes = ingestRoutes(context, filters, clientId);
        if (spool.wroteBefore()) {
            // this spool wrote to KAFKA_TOPIC before, so the configuration worked: Kafka failing now is an outage (a
            // restart during one), not a mistake. Subscribe at once (what arrives is safe on disk; the broker queues
            // little for a client that is away) and act on the check of Kafka when it ends, for as long as it takes
            LOG.info("The spool in SPOOL_DIR wrote to Kafka topic {} before: subscribing to MQTT at once, the Kafka "
                     + "topics and the probe are checked meanwhile", properties.resolveProperty("kafka.topic")
                    .orElseThrow());
            kafkaCheck.thenAcceptAsync(check -> checked(context, probeTopic, check, true), prober);
            subscribe(context, routes);
        } else {
            checked(context, probeTopic, kafkaCheck.join(), false);
            subscribe(context, routes);
        }
    }

    /**
     * What checking Kafka found: why creating the topics failed, a topic that takes smaller batches than the producer
     * makes (the line that says so), or else why the probe failed; all null when it passed.
     */
    private record KafkaCheck(Exception topics, String batch, Exception probe) {
    }

    /**
     * Creates the Kafka topics that are missing and checks the producer's batch against them, then writes the probe
     * record; stops at the first failure.
     */
    private KafkaCheck checkKafka(CamelContext context, String probeTopic) {
        var properties = context.getPropertiesComponent();
        Map<String, Integer> limits;
        try {
            limits = createTopics(context, topics(context, probeTopic), Integer.parseInt(properties
                    .resolveProperty("kafka.topic.partitions").orElse("-1")), Short.parseShort(properties
                    .resolveProperty("kafka.topic.replication").orElse("-1")));
        } catch (Exception e) {
            return new KafkaCheck(e, null, null);
        }
        Map<String, Integer> batched = new LinkedHashMap<>(limits);
        batched.remove(probeTopic); // one record at a time: never a batch of several
        Map<String, String> batch = batchTooLarge(context, batched);
        if (!batch.isEmpty()) {
            return new KafkaCheck(null, batch.values().iterator().next(), null);
        }
        try {
            if (!probeTopic.isEmpty()) {
                sendProbe(context);
            }
            return new KafkaCheck(null, null, null);
        } catch (Exception e) {
            return new KafkaCheck(null, null, e);
        }
    }

    /** The topics the bridge writes to before any TOPIC_MAP rule: KAFKA_TOPIC, the probe's, the dead letters'. */
    private static Map<String, Map<String, String>> topics(CamelContext context, String probeTopic) {
        var properties = context.getPropertiesComponent();
        String deadLetterTopic = properties.resolveProperty("dead.letter.topic").orElse("");
        Map<String, Map<String, String>> topics = new LinkedHashMap<>();
        topics.put(properties.resolveProperty("kafka.topic").orElseThrow(), Map.of());
        if (!probeTopic.isEmpty()) {
            topics.putIfAbsent(probeTopic, Map.of());
        }
        if (!deadLetterTopic.isEmpty()) {
            topics.putIfAbsent(deadLetterTopic, Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, "16777216"));
        }
        return topics;
    }

    /**
     * Acts on what checking Kafka found. A failure is exit code 1 with a probe, a warning without; in an outage
     * ({@code outage}) a warning, and the probe is tried until it passes.
     */
    private void checked(CamelContext context, String probeTopic, KafkaCheck check, boolean outage) {
        if (check.batch() != null) {
            // a setting, not an outage: what is spooled stays on disk, and is written once the setting is mended
            fatal(check.batch());
        }
        if (check.topics() != null) {
            if (!probeTopic.isEmpty() && !outage) {
                fatal(probeTopic, check.topics());
            }
            LOG.warn("Could not check or create Kafka topics {}: {}", topics(context, probeTopic).keySet(),
                    causeOf(check.topics()));
        }
        if (probeTopic.isEmpty()) {
            LOG.warn("KAFKA_TEST_TOPIC is not set: no start-up probe, a Kafka misconfiguration shows only when "
                     + "the first batch is written");
        } else if (check.topics() != null) {
            // the probe was not tried: in an outage, try it now and until it passes
            if (!probe(context, probeTopic, true)) {
                retryProbe(context, probeTopic);
            }
        } else if (check.probe() == null) {
            probed(probeTopic);
        } else if (!probeFailed(probeTopic, check.probe(), outage)) {
            retryProbe(context, probeTopic);
        }
    }

    /**
     * Writes the probe record. When it fails: exit code 1, unless Kafka is known to have worked for this spool (an
     * outage), when it returns false.
     */
    private boolean probe(CamelContext context, String probeTopic, boolean outage) {
        try {
            sendProbe(context);
        } catch (Exception e) {
            return probeFailed(probeTopic, e, outage);
        }
        probed(probeTopic);
        return true;
    }

    private static void sendProbe(CamelContext context) throws Exception {
        try (ProducerTemplate template = context.createProducerTemplate()) {
            template.sendBody("direct:kafka-probe", null);
        }
    }

    private void probed(String probeTopic) {
        LOG.info("Probe record written to Kafka topic {}", probeTopic);
        // Kafka works with these settings: from now on, Kafka failing at start-up is an outage
        spool.markWritten();
    }

    /** Exit code 1, unless in an outage: then a warning, and false. */
    private static boolean probeFailed(String probeTopic, Exception e, boolean outage) {
        if (!outage) {
            fatal(probeTopic, e);
        }
        LOG.warn("Kafka probe failed: could not write to topic {} within {} s: {}; the spool in SPOOL_DIR wrote to "
                 + "this Kafka topic before, so this is taken for an outage: messages are spooled on disk and "
                 + "the probe is tried again", probeTopic, PROBE_SECONDS, causeOf(e));
        return false;
    }

    /** Tries the probe again every KAFKA_RETRY_INTERVAL seconds until it passes. */
    private void retryProbe(CamelContext context, String probeTopic) {
        long seconds = Long.parseLong(context.resolvePropertyPlaceholders("{{kafka.retry.interval}}"));
        prober.schedule(() -> {
            if (context.isStarted() && !probe(context, probeTopic, true)) {
                retryProbe(context, probeTopic);
            }
        }, seconds, TimeUnit.SECONDS);
    }

    /** An ingest route, made from template {@code mqtt-ingest} for one topic filter and not started yet. */
    private record Ingest(String routeId, String filter, String clientId) {
    }

    /** One ingest route per topic filter, made while the probe runs: they start once it has passed. */
    private static List<Ingest> ingestRoutes(CamelContext context, List<String> filters, String clientId) {
        List<Ingest> routes = new ArrayList<>();
        for (int i = 0; i < filters.size(); i++) {
            String id = filters.size() == 1 ? clientId : clientId + "-" + (i + 1);
            String routeId = TemplatedRouteBuilder.builder(context, "mqtt-ingest")
                    .routeId("mqtt-ingest-" + (i + 1))
                    .parameter("filter", filters.get(i))
                    .parameter("clientId", id)
                    .add();
            routes.add(new Ingest(routeId, filters.get(i), id));
        }
        return routes;
    }

    private void subscribe(CamelContext context, List<Ingest> routes) {
        connector = context.getExecutorServiceManager().newSingleThreadScheduledExecutor(this, "mqtt-connect");
        routes.forEach(r -> connect(context, r.routeId(), r.filter(), r.clientId(), 1000));
    }

    /** Starts an ingest route (connect and subscribe); on failure tries again later, with back-off. */
    private void connect(CamelContext context, String routeId, String filter, String clientId, long backoffMillis) {
        try {
            context.getRouteController().startRoute(routeId);
            LOG.info("Subscribed to MQTT topic filter {} as client {} (route {})", filter, clientId, routeId);
        } catch (Exception e) {
            if (!context.isStarted()) {
                return;
            }
            LOG.warn("Could not subscribe to MQTT topic filter {} as client {}: {}; trying again in {} s", filter,
                    clientId, causeOf(e), backoffMillis / 1000);
            connector.schedule(() -> connect(context, routeId, filter, clientId,
                    Math.min(backoffMillis * 2, MAX_CONNECT_BACKOFF_MILLIS)), backoffMillis, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void onContextStopping(CamelContext context) {
        if (spool == null || !context.isStarted()) {
            return;
        }
        spool.close();
        if (spool.messages() > 0) {
            LOG.info("Shutting down: writing the {} spooled message(s) to Kafka, for up to {} s", spool.messages(),
                    shutdownTimeout);
            // like the flush timer's: an exchange that is not an envelope completes the open batch (see Batch)
            context.createProducerTemplate().sendBody("seda:spool", null);
        }
        long left = spool.awaitEmpty(TimeUnit.SECONDS.toMillis(shutdownTimeout));
        if (left > 0) {
            LOG.error("Shutting down: {} message(s) could not be written to Kafka within SHUTDOWN_TIMEOUT={} s; {}",
                    left, shutdownTimeout, spool.durable()
                            ? "they stay in the spool on disk, in SPOOL_DIR=" + spool.dir() + ", and go to Kafka first "
                              + "when the bridge starts again"
                            : spool.atLeastOnce()
                            ? "they stay unacknowledged at the MQTT broker, which delivers them again"
                            : "they are lost (DELIVERY=buffered)");
        } else {
            LOG.info("Shutting down: everything received is in Kafka");
        }
    }

    public void setSpool(Spool spool) {
        this.spool = spool;
    }

    public void setShutdownTimeout(int shutdownTimeout) {
        this.shutdownTimeout = shutdownTimeout;
    }

    /**
     * Creates the topics that do not exist, with the Kafka component's connection settings, and waits until each
     * topic's partitions are served; returns the largest record batch each of them takes ({@code max.message.bytes}),
     * for those Kafka lets this client read.
     */
    static Map<String, Integer> createTopics(CamelContext context, Map<String, Map<String, String>> topics,
                                             int partitions, short replication)
            throws InterruptedException, ExecutionException, java.util.concurrent.TimeoutException {
        try (Admin kafka = Admin.create(adminProperties(context, PROBE_SECONDS * 1000))) {
            Set<String> existing = kafka.listTopics().names().get(PROBE_SECONDS, TimeUnit.SECONDS);
            List<NewTopic> missing = new ArrayList<>();
            topics.forEach((topic, config) -> {
                if (!existing.contains(topic)) {
                    missing.add(new NewTopic(topic, partitions < 1 ? Optional.empty() : Optional.of(partitions),
                            replication < 1 ? Optional.empty() : Optional.of(replication)).configs(config));
                }
            });
            for (var topic : kafka.createTopics(missing).values().entrySet()) {
                try {
                    topic.getValue().get(PROBE_SECONDS, TimeUnit.SECONDS);
                    LOG.info("Created Kafka topic {}", topic.getKey());
                } catch (ExecutionException e) {
                    // another client (a bridge of the same shared group) created it since the list: awaited below too
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
            awaitLeaders(kafka, topics.keySet());
            return batchLimits(kafka, topics.keySet());
        }
    }

    /**
     * Waits until the leader of each partition of the topics serves it: only then does it answer the partition's latest
     * offset. A produce request that comes earlier is refused, and the idempotent producer may have the requests after
     * it written first; the refused one is then retried out of order until it expires (KAFKA-15591), and its batch is
     * written again after later ones. This concerns every topic, not only those this bridge created: another bridge of
     * the same shared group may have created one a moment before it was listed. Not served within PROBE_SECONDS: a
     * warning.
     */
    private static void awaitLeaders(Admin kafka, Set<String> topics) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(PROBE_SECONDS);
        try {
            Map<TopicPartition, OffsetSpec> partitions = new LinkedHashMap<>();
            whileUnknown(deadline, () -> kafka.describeTopics(topics).allTopicNames()
                    .get(PROBE_SECONDS, TimeUnit.SECONDS)).forEach((topic, description) ->
                    description.partitions().forEach(p ->
                            partitions.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest())));
            kafka.listOffsets(partitions).all().get(PROBE_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            LOG.warn("Not every partition's leader of Kafka topics {} answered (waited up to {} s): the first writes "
                     + "to them may be refused and tried again: {}", topics, PROBE_SECONDS, causeOf(e));
        }
    }

    /** A call to Kafka's admin client. */
    @FunctionalInterface
    private interface AdminCall<T> {
        T get() throws ExecutionException, java.util.concurrent.TimeoutException, InterruptedException;
    }

    /**
     * What the call answers, asked again every 100 ms until the deadline while Kafka does not know a topic: the broker
     * that answers may not have learnt yet of a topic created a moment ago.
     */
    private static <T> T whileUnknown(long deadline, AdminCall<T> call)
            throws ExecutionException, java.util.concurrent.TimeoutException, InterruptedException {
        while (true) {
            try {
                return call.get();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException) || System.nanoTime() >= deadline) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }

    /**
     * Each topic's {@code max.message.bytes}; none when Kafka does not let this client read them (a warning). A topic
     * created a moment ago may not be known yet to the broker that answers: asked again for up to PROBE_SECONDS.
     */
    private static Map<String, Integer> batchLimits(Admin kafka, Set<String> topics) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(PROBE_SECONDS);
        try {
            Map<String, Integer> limits = new LinkedHashMap<>();
            whileUnknown(deadline, () -> kafka.describeConfigs(topics.stream()
                    .map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t)).toList()).all()
                    .get(PROBE_SECONDS, TimeUnit.SECONDS)).forEach((topic, config) -> {
                        ConfigEntry limit = config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
                        if (limit != null && limit.value() != null) {
                            limits.put(topic.name(), Integer.parseInt(limit.value()));
                        }
                    });
            return limits;
        } catch (ExecutionException | java.util.concurrent.TimeoutException | NumberFormatException e) {
            return unreadLimits(topics, e);
        }
    }

    private static Map<String, Integer> unreadLimits(Set<String> topics, Exception e) {
        LOG.warn("Could not read max.message.bytes of Kafka topics {}, so the producer's batch is not checked against "
                 + "them: {}", topics, causeOf(e));
        return Map.of();
    }

    /**
     * Each topic that takes smaller record batches than the producer makes, with the line that says so, in the order
     * given. Kafka refuses a batch larger than the topic's {@code max.message.bytes}, and kafka-clients 3.9 splits it
     * into batches of {@code producerBatchSize} again, and again, until the delivery timeout (KAFKA-8350): a full batch
     * to that topic would never be written, whatever its records.
     */
    static Map<String, String> batchTooLarge(CamelContext context, Map<String, Integer> limits) {
        int batch = context.getComponent("kafka", KafkaComponent.class).getConfiguration().getProducerBatchSize();
        Map<String, String> lines = new LinkedHashMap<>();
        limits.forEach((topic, limit) -> {
            if (limit < batch) {
                lines.put(topic, "camel.component.kafka.producerBatchSize=" + batch + " is larger than max.message.bytes="
                          + limit + " of Kafka topic " + topic + ": Kafka would refuse a full batch, which the producer "
                          + "sends again for ever (KAFKA-8350); set CAMEL_COMPONENT_KAFKA_PRODUCERBATCHSIZE to at "
                          + "most " + limit + ", or raise the topic's max.message.bytes");
            }
        });
        return lines;
    }

    /** An admin client's settings: the Kafka component's connection settings, and a timeout for every call. */
    static Properties adminProperties(CamelContext context, int timeoutMillis) {
        var kafkaConfiguration = context.getComponent("kafka", KafkaComponent.class).getConfiguration();
        Properties client = kafkaConfiguration.createProducerProperties();
        client.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafkaConfiguration.getBrokers());
        // all but the producer's own settings: the admin client keeps the connection, TLS and SASL ones, and the
        // keys the SSL engine factory reads (kafka.root.ca, ...)
        Properties admin = new Properties();
        Set<String> known = AdminClientConfig.configNames();
        Set<String> producerOnly = ProducerConfig.configNames();
        client.forEach((k, v) -> {
            if (known.contains(k.toString()) || !producerOnly.contains(k.toString())) {
                admin.put(k, v);
            }
        });
        admin.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMillis);
        admin.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMillis);
        return admin;
    }

    /** One line on stderr naming the topic and the cause, then exit code 1; nothing was subscribed yet. */
    private static void fatal(String probeTopic, Exception e) {
        fatal("Kafka probe failed: could not write to topic " + probeTopic + " within " + PROBE_SECONDS + " s: "
              + causeOf(e));
    }

    /** The line on stderr, then exit code 1 at once (what the disk spool acknowledged is on disk). */
    private static void fatal(String line) {
        LogManager.getLogger("bridge").fatal(line);
        Runtime.getRuntime().halt(1);
    }

    static String causeOf(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + ": " + root.getMessage();
    }
}

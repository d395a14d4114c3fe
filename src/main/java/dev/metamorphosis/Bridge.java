package dev.metamorphosis;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.camel.CamelContext;
import org.apache.camel.builder.TemplatedRouteBuilder;
import org.apache.camel.component.kafka.KafkaComponent;
import org.apache.camel.spi.OnCamelContextStarted;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.logging.log4j.LogManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The start-up sequence, once Camel has started the routes: create the Kafka topics that are missing, write the probe
 * record (route {@code kafka-probe}), and only then subscribe to MQTT, one route from template {@code mqtt-ingest}
 * per topic filter. A probe that fails ends the program with exit code 1.
 */
public final class Bridge implements OnCamelContextStarted {

    private static final Logger LOG = LoggerFactory.getLogger("bridge");
    static final int PROBE_SECONDS = 10;

    @Override
    public void onContextStarted(CamelContext context) {
        var properties = context.getPropertiesComponent();
        String probeTopic = properties.resolveProperty("kafka.test.topic").orElse("");
        List<String> topics = new ArrayList<>(List.of(properties.resolveProperty("kafka.topic").orElseThrow()));
        if (!probeTopic.isEmpty() && !topics.contains(probeTopic)) {
            topics.add(probeTopic);
        }
        try {
            createTopics(context, topics, Integer.parseInt(properties.resolveProperty("kafka.topic.partitions")
                    .orElse("-1")), Short.parseShort(properties.resolveProperty("kafka.topic.replication").orElse("-1")));
        } catch (Exception e) {
            if (!probeTopic.isEmpty()) {
                fatal(probeTopic, e);
            }
            LOG.warn("Could not check or create Kafka topics {}: {}", topics, causeOf(e));
        }
        if (probeTopic.isEmpty()) {
            LOG.warn("KAFKA_TEST_TOPIC is not set: no start-up probe, a Kafka misconfiguration shows only when "
                     + "the first batch is written");
        } else {
            try {
                context.createProducerTemplate().sendBody("direct:kafka-probe", null);
                LOG.info("Probe record written to Kafka topic {}", probeTopic);
            } catch (Exception e) {
                fatal(probeTopic, e);
            }
        }
        subscribe(context, Settings.split(properties.resolveProperty("mqtt.topic").orElseThrow()),
                properties.resolveProperty(Settings.DERIVED + "mqtt.client-id").orElseThrow());
    }

    private static void subscribe(CamelContext context, List<String> filters, String clientId) {
        for (int i = 0; i < filters.size(); i++) {
            String id = filters.size() == 1 ? clientId : clientId + "-" + (i + 1);
            String routeId = TemplatedRouteBuilder.builder(context, "mqtt-ingest")
                    .routeId("mqtt-ingest-" + (i + 1))
                    .parameter("filter", filters.get(i))
                    .parameter("clientId", id)
                    .add();
            LOG.info("Subscribed to MQTT topic filter {} as client {} (route {})", filters.get(i), id, routeId);
        }
    }

    /** Creates the topics that do not exist, with the Kafka component's connection settings. */
    private static void createTopics(CamelContext context, List<String> topics, int partitions, short replication)
            throws InterruptedException, ExecutionException, java.util.concurrent.TimeoutException {
        var kafkaConfiguration = context.getComponent("kafka", KafkaComponent.class).getConfiguration();
        Properties client = kafkaConfiguration.createProducerProperties();
        client.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafkaConfiguration.getBrokers());
        Properties admin = new Properties();
        Set<String> known = AdminClientConfig.configNames();
        client.forEach((k, v) -> {
            if (known.contains(k.toString())) {
                admin.put(k, v);
            }
        });
        admin.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, PROBE_SECONDS * 1000);
        admin.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, PROBE_SECONDS * 1000);
        try (Admin kafka = Admin.create(admin)) {
            Set<String> existing = kafka.listTopics().names().get(PROBE_SECONDS, TimeUnit.SECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (String topic : topics) {
                if (!existing.contains(topic)) {
                    missing.add(new NewTopic(topic, partitions < 1 ? Optional.empty() : Optional.of(partitions),
                            replication < 1 ? Optional.empty() : Optional.of(replication)));
                }
            }
            for (var created : kafka.createTopics(missing).values().entrySet()) {
                try {
                    created.getValue().get(PROBE_SECONDS, TimeUnit.SECONDS);
                    LOG.info("Created Kafka topic {}", created.getKey());
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
        }
    }

    /** One line on stderr naming the topic and the cause, then exit code 1; nothing was subscribed yet. */
    private static void fatal(String probeTopic, Exception e) {
        LogManager.getLogger("bridge").fatal("Kafka probe failed: could not write to topic {} within {} s: {}",
                probeTopic, PROBE_SECONDS, causeOf(e));
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

package dev.metamorphosis.it;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import dev.metamorphosis.Settings;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static org.assertj.core.api.Assertions.assertThat;

/** On a broker that does not create topics itself, the bridge creates its topic and probe topic. */
@CamelMainTest(configurationClasses = Settings.class, propertyPlaceholderLocations = "file:application.properties",
        properties = {
            "camel.main.routesIncludePattern=file:routes/*.camel.yaml",
            "mqtt.client.id=topic-creation-it-%h",
            "mqtt.topic=topic-creation/#",
            "kafka.topic=created-by-bridge",
            "kafka.test.topic=probe-created-by-bridge",
            "kafka.topic.partitions=3",
            "kafka.interval=1"
        })
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TopicCreationIT {

    static KafkaBroker strict;

    @BeforeAll
    static void brokerWithoutAutoCreate() {
        Brokers.useShared();
        strict = KafkaBroker.start("no-auto-create", Map.of("auto.create.topics.enable", "false"));
        System.setProperty("kafka.broker", strict.bootstrap());
    }

    @AfterAll
    static void stop() {
        strict.close();
        Brokers.useShared();
    }

    @Test
    void should_create_the_missing_topics_and_write_to_them() throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, strict.bootstrap());
        try (Admin admin = Admin.create(p)) {
            var topics = admin.describeTopics(List.of("created-by-bridge", "probe-created-by-bridge"))
                    .allTopicNames().get();
            assertThat(topics.get("created-by-bridge").partitions()).hasSize(3);
            assertThat(topics.get("probe-created-by-bridge").partitions()).hasSize(3);
        }
        assertThat(Records.await(strict.bootstrap(), "probe-created-by-bridge", 1, Duration.ofSeconds(30)))
                .hasSize(1);
        try (Publisher publisher = new Publisher(Brokers.mqtt().url())) {
            publisher.publish("topic-creation/x", "hello".getBytes(StandardCharsets.UTF_8), 1);
        }
        var records = Records.await(strict.bootstrap(), "created-by-bridge", 1, Duration.ofSeconds(30));
        assertThat(new String(records.get(0).value(), StandardCharsets.UTF_8))
                .isEqualTo("{\"topic\":\"topic-creation/x\",\"content\":\"aGVsbG8=\"}");
    }
}

package dev.metamorphosis.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.awaitility.Awaitility;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * TOPIC_MAP on the built jar against real brokers: routing by the first matching rule (templates, keys, sanitised
 * names, raw and envelope values, unmatched messages as before), topics created on a broker that does not create
 * them, MQTT 5 metadata as headers, invalid names set aside, a batch over two topics while one refuses writes (what
 * Kafka took is not written again, what it refused is not lost across a SIGKILL), nothing lost across a SIGKILL, and
 * the metrics per Kafka topic (arrival timestamps through a Kafka outage: {@link TopicMapTimestampIT}; bad map files:
 * ConfigErrorsTest and ConfigErrorsIT). Each scenario has a bridge of its own, on topics of its own; they run side by
 * side.
 */
@Execution(ExecutionMode.CONCURRENT)
@Order(1) // first, with the durable outages: its scenarios take some 4 minutes side by side (junit-platform.properties)
class TopicMapIT {

    static final Duration START = Duration.ofSeconds(90);
    private static final Duration ARRIVAL = Duration.ofSeconds(90);
    private static final String TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    private static final String TRACESTATE = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";

    // ---- 1 and 8: routing, and the metrics of it ----

    @Test
    void should_route_each_message_by_the_first_matching_rule_and_count_the_records_per_kafka_topic()
            throws IOException {
        String kafka = Brokers.kafka().bootstrap();
        writeMap("route", """
                - filter: "tm-route/both/+"
                  topic: "tm-route-first"
                  format: raw
                - filter: "tm-route/both/#"
                  topic: "tm-route-second"
                  format: raw
                - filter: "tm-route/raw/#"
                  topic: "tm-route-raw"
                  key: "{topic}"
                  format: raw
                  headers: false
                - filter: "tm-route/env/+"
                  topic: "tm-route-env-{1}"
                  key: "{1}"
                - filter: "tm-route/factory/+/line/+/temperature"
                  topic: "tm-route-temperature-{1}"
                  key: "{1}/{2}"
                  format: raw
                - filter: "tm-route/alarms/#"
                  topic: "tm-route-alarms-{1}"
                  format: raw
                - filter: "tm-route/whole/+"
                  topic: "tm-route-{topic}"
                  key: "{topic}"
                """);
        // relative to CONFIG_DIR (the repository)
        Map<String, String> env = environment("tm-route", kafka, "target/topic-maps/route.yaml");
        byte[] allBytes = new byte[256];
        for (int i = 0; i < 256; i++) {
            allBytes[i] = (byte) i;
        }
        byte[] random = new byte[200 * 1024];
        new Random(12).nextBytes(random);

        try (BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory("tm-route"), env);
             Publisher publisher = new Publisher(Brokers.mqtt().url())) {
            bridge.awaitSubscribed(START);
            publisher.publish("tm-route/raw/bytes", allBytes, 1);
            publisher.publish("tm-route/raw/bytes", new byte[0], 1);
            publisher.publish("tm-route/raw/bytes", random, 1);
            publisher.publish("tm-route/both/x", utf8("one level"), 1);
            publisher.publish("tm-route/both/x/y", utf8("two levels"), 1);
            publisher.publish("tm-route/both", utf8("no level"), 1);
            publisher.publish("tm-route/env/<ä&b>", utf8("Grüße \"q\""), 1);
            publisher.publish("tm-route/factory/f1/line/7/temperature", utf8("21.5"), 1);
            publisher.publish("tm-route/alarms/fire/zone-2", utf8("smoke"), 1);
            publisher.publish("tm-route/alarms/Ærø zone/🌍", utf8("wet"), 1);
            publisher.publish("tm-route/whole/w", utf8("whole"), 1);
            publisher.publish("tm-route/none/a", utf8("u1"), 1);
            publisher.publish("tm-route/none/a", utf8("u2"), 1);
            publisher.publish("tm-route/factory/f1/line/7/humidity", utf8("40"), 1);
            publisher.flush();

            // raw: the payload bytes as they came, in order, keyed by {topic}, no headers (headers: false)
            List<ConsumerRecord<byte[], byte[]>> raw = exactly(kafka, "tm-route-raw", 3);
            assertThat(raw.get(0).value()).isEqualTo(allBytes);
            assertThat(raw.get(1).value()).isEmpty();
            assertThat(raw.get(2).value()).isEqualTo(random);
            assertThat(raw).allSatisfy(r -> {
                assertThat(r.key()).isEqualTo(utf8("tm-route/raw/bytes"));
                assertThat(headers(r)).isEmpty();
            });

            // first match wins: rule 1 takes one level, rule 2 what rule 1 does not match ("#" matches the parent)
            assertThat(Records.values(exactly(kafka, "tm-route-first", 1))).containsExactly("one level");
            assertThat(Records.values(exactly(kafka, "tm-route-second", 2))).containsExactlyInAnyOrder("two levels",
                    "no level");

            // an envelope rule: the Go bytes, the key what "+" matched (not sanitised), no headers by default
            ConsumerRecord<byte[], byte[]> env1 = exactly(kafka, "tm-route-env-___b_", 1).get(0);
            assertThat(new String(env1.value(), StandardCharsets.UTF_8)).isEqualTo(
                    EnvelopeIT.envelope("tm-route/env/\\u003cä\\u0026b\\u003e", utf8("Grüße \"q\"")));
            assertThat(env1.key()).isEqualTo(utf8("<ä&b>"));
            assertThat(headers(env1)).isEmpty();

            // two "+" captures: {1} in the topic, {1}/{2} as the key
            ConsumerRecord<byte[], byte[]> temperature = exactly(kafka, "tm-route-temperature-f1", 1).get(0);
            assertThat(temperature.value()).isEqualTo(utf8("21.5"));
            assertThat(temperature.key()).isEqualTo(utf8("f1/7"));

            // a "#" capture, sanitised: "/" and every character outside a-z A-Z 0-9 . _ - (by code point) become _
            ConsumerRecord<byte[], byte[]> fire = exactly(kafka, "tm-route-alarms-fire_zone-2", 1).get(0);
            assertThat(fire.value()).isEqualTo(utf8("smoke"));
            assertThat(fire.key()).as("KAFKA_KEY=none applies without key").isNull();
            assertThat(exactly(kafka, "tm-route-alarms-_r__zone__", 1).get(0).value()).isEqualTo(utf8("wet"));

            // {topic}: the whole MQTT topic, sanitised in the Kafka topic, as it is in the key
            ConsumerRecord<byte[], byte[]> whole = exactly(kafka, "tm-route-tm-route_whole_w", 1).get(0);
            assertThat(new String(whole.value(), StandardCharsets.UTF_8))
                    .isEqualTo(EnvelopeIT.envelope("tm-route/whole/w", utf8("whole")));
            assertThat(whole.key()).isEqualTo(utf8("tm-route/whole/w"));

            // no rule matched: KAFKA_TOPIC, the Go envelope, no key, no headers, as without TOPIC_MAP
            List<ConsumerRecord<byte[], byte[]>> unmatched = exactly(kafka, "tm-route", 3);
            assertThat(Records.values(unmatched))
                    .containsExactlyInAnyOrder(
                            EnvelopeIT.envelope("tm-route/none/a", utf8("u1")),
                            EnvelopeIT.envelope("tm-route/none/a", utf8("u2")),
                            EnvelopeIT.envelope("tm-route/factory/f1/line/7/humidity", utf8("40")))
                    .containsSubsequence(
                            EnvelopeIT.envelope("tm-route/none/a", utf8("u1")),
                            EnvelopeIT.envelope("tm-route/none/a", utf8("u2")));
            assertThat(unmatched).allSatisfy(r -> {
                assertThat(r.key()).isNull();
                assertThat(headers(r)).isEmpty();
            });

            Map<String, Double> expected = new TreeMap<>(Map.of(
                    "tm-route-raw", 3.0,
                    "tm-route-first", 1.0,
                    "tm-route-second", 2.0,
                    "tm-route-env-___b_", 1.0,
                    "tm-route-temperature-f1", 1.0,
                    "tm-route-alarms-fire_zone-2", 1.0,
                    "tm-route-alarms-_r__zone__", 1.0,
                    "tm-route-tm-route_whole_w", 1.0,
                    "tm-route", 3.0));
            awaitMetrics(bridge, "records written per Kafka topic", m -> {
                assertThat(writtenPerTopic(m)).isEqualTo(expected);
                assertThat(m.value("metamorphosis_topic_map_unmatched_total")).isEqualTo(3.0);
            });
            // and nothing arrived twice meanwhile
            expected.forEach((topic, count) -> assertThat(Records.count(kafka, topic)).as(topic)
                    .isEqualTo(count.longValue()));
        }
    }

    @Test
    void should_count_the_records_of_at_most_100_kafka_topics_by_name_and_the_rest_as_other() throws IOException {
        String kafka = Brokers.kafka().bootstrap();
        Path map = writeMap("many", """
                - filter: "tm-many/#"
                  topic: "tm-many-{1}"
                  format: raw
                """);
        int topics = 105;
        try (BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory("tm-many"),
                environment("tm-many", kafka, map.toString()));
             Publisher publisher = new Publisher(Brokers.mqtt().url())) {
            bridge.awaitSubscribed(START);
            for (int i = 0; i < topics; i++) {
                publisher.publish("tm-many/" + i, utf8("m" + i), 1);
            }
            publisher.publish("tm-many/0", utf8("again"), 1);
            publisher.flush();
            Awaitility.await("a record on each of the " + topics + " topics").atMost(ARRIVAL)
                    .pollInterval(Duration.ofSeconds(1)).until(() -> IntStream.range(0, topics)
                            .allMatch(i -> Records.count(kafka, "tm-many-" + i) >= 1));
            awaitMetrics(bridge, "the label set bounded", m -> {
                Map<String, Double> written = writtenPerTopic(m);
                assertThat(written.values().stream().mapToDouble(Double::doubleValue).sum()).isEqualTo(topics + 1.0);
                assertThat(written.keySet().stream().filter(t -> !t.equals("_other"))).hasSizeLessThanOrEqualTo(100);
                assertThat(written).containsKey("_other");
                assertThat(written.get("_other")).isGreaterThanOrEqualTo(topics - 100);
                assertThat(m.value("metamorphosis_topic_map_unmatched_total")).isZero();
            });
        }
    }

    // ---- 2: topics created on a broker that does not create them ----

    @Test
    void should_create_each_mapped_topic_before_its_first_record_when_the_broker_does_not_create_topics()
            throws Exception {
        try (KafkaBroker strict = KafkaBroker.start("tm-strict", Map.of("auto.create.topics.enable", "false"))) {
            Path map = writeMap("create", """
                    - filter: "tm-create/a/+"
                      topic: "tm-create-a-{1}"
                      format: raw
                    - filter: "tm-create/b/#"
                      topic: "tm-create-b"
                    """);
            Map<String, String> env = environment("tm-create", strict.bootstrap(), map.toString());
            env.put("KAFKA_TOPIC_PARTITIONS", "2");
            try (BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory("tm-create"), env);
                 Publisher publisher = new Publisher(Brokers.mqtt().url())) {
                bridge.awaitSubscribed(START);
                publisher.publish("tm-create/a/x", utf8("x"), 1);
                publisher.publish("tm-create/a/y", utf8("y"), 1);
                publisher.publish("tm-create/b/z/w", utf8("zw"), 1);
                publisher.publish("tm-create/other", utf8("o"), 1);
                publisher.flush();

                String bootstrap = strict.bootstrap();
                assertThat(Records.values(exactly(bootstrap, "tm-create-a-x", 1))).containsExactly("x");
                assertThat(Records.values(exactly(bootstrap, "tm-create-a-y", 1))).containsExactly("y");
                assertThat(Records.values(exactly(bootstrap, "tm-create-b", 1)))
                        .containsExactly(EnvelopeIT.envelope("tm-create/b/z/w", utf8("zw")));
                assertThat(Records.values(exactly(bootstrap, "tm-create", 1)))
                        .containsExactly(EnvelopeIT.envelope("tm-create/other", utf8("o")));
                Properties p = new Properties();
                p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
                try (Admin admin = Admin.create(p)) {
                    var described = admin.describeTopics(List.of("tm-create-a-x", "tm-create-a-y", "tm-create-b",
                            "tm-create")).allTopicNames().get(30, TimeUnit.SECONDS);
                    described.forEach((topic, d) -> assertThat(d.partitions()).as(topic + " partitions").hasSize(2));
                }
                assertThat(bridge.isAlive()).isTrue();
            }
        }
    }

    // ---- 3: headers ----

    @Test
    void should_write_the_mqtt_metadata_and_the_user_properties_in_their_order_as_headers() throws IOException {
        String kafka = Brokers.kafka().bootstrap();
        Path map = writeMap("headers", """
                - filter: "tm-head/raw/#"
                  topic: "tm-head-raw"
                  format: raw
                - filter: "tm-head/envelope/#"
                  topic: "tm-head-envelope"
                  headers: true
                """);
        Map<String, String> env = environment("tm-head", kafka, map.toString());
        env.put("MQTT_QOS", "2");
        byte[] correlation = {0, (byte) 0xff, (byte) 0x80, 0x7f, '\n'};
        MqttProperties all = new MqttProperties();
        all.setContentType("application/json; charset=utf-8");
        all.setCorrelationData(correlation);
        all.setResponseTopic("tm-head/replies/ü");
        all.setPayloadFormat(true);
        all.setMessageExpiryInterval(3600L);
        all.setUserProperties(List.of(new UserProperty("a", "1"), new UserProperty("b", "2"),
                new UserProperty("a", "3"), new UserProperty("traceparent", TRACEPARENT),
                new UserProperty("tracestate", TRACESTATE), new UserProperty("grüße", "wörld 🌍")));

        try (Publisher publisher = new Publisher(Brokers.mqtt().url())) {
            // retained before the bridge subscribes: the broker hands it over on subscribing, retain flag set
            publisher.publish("tm-head/raw/retained", utf8("kept"), 1, true);
            publisher.flush();
            try (BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory("tm-head"), env)) {
                bridge.awaitSubscribed(START);
                publisher.publish("tm-head/raw/all", utf8("{\"t\":21.5}"), 2, false, all);
                publisher.publish("tm-head/raw/bäre", utf8("bare"), 0);
                publisher.publish("tm-head/envelope/e", utf8("env"), 1, List.of(new UserProperty("x", "y")));
                publisher.flush();

                Map<String, ConsumerRecord<byte[], byte[]>> raw = new LinkedHashMap<>();
                for (ConsumerRecord<byte[], byte[]> r : exactly(kafka, "tm-head-raw", 3)) {
                    raw.put(new String(r.value(), StandardCharsets.UTF_8), r);
                }
                assertThat(raw).containsOnlyKeys("{\"t\":21.5}", "bare", "kept");

                // the user properties last, in order, repeats kept; binary correlation data as it came
                ConsumerRecord<byte[], byte[]> full = raw.get("{\"t\":21.5}");
                List<String> headers = headers(full);
                assertThat(headers).as("headers").hasSize(14);
                assertThat(headers.subList(8, 14)).as("user property headers of " + headers).containsExactly(
                        "a=1", "b=2", "a=3", "traceparent=" + TRACEPARENT, "tracestate=" + TRACESTATE,
                        "grüße=wörld 🌍");
                assertThat(full.headers().lastHeader("mqtt.correlation-data").value()).isEqualTo(correlation);

                // retained as the broker handed it over on subscribing
                assertThat(headers(raw.get("kept"))).containsExactlyInAnyOrder("mqtt.topic=tm-head/raw/retained",
                        "mqtt.qos=1", "mqtt.retain=true");

                // an envelope rule with headers: true: the Go bytes, and the headers
                ConsumerRecord<byte[], byte[]> envelope = exactly(kafka, "tm-head-envelope", 1).get(0);
                assertThat(new String(envelope.value(), StandardCharsets.UTF_8))
                        .isEqualTo(EnvelopeIT.envelope("tm-head/envelope/e", utf8("env")));
                List<String> envelopeHeaders = headers(envelope);
                assertThat(envelopeHeaders).hasSize(4).endsWith("x=y");
                assertThat(envelopeHeaders.subList(0, 3)).containsExactlyInAnyOrder("mqtt.topic=tm-head/envelope/e",
                        "mqtt.qos=1", "mqtt.retain=false");

                // the MQTT metadata before the user properties, in any order, text as UTF-8
                assertThat(headers.subList(0, 8)).as("MQTT metadata headers of " + headers)
                        .filteredOn(h -> !h.startsWith("mqtt.message-expiry="))
                        .containsExactlyInAnyOrder(
                                "mqtt.topic=tm-head/raw/all",
                                "mqtt.qos=2",
                                "mqtt.retain=false",
                                "mqtt.content-type=application/json; charset=utf-8",
                                "mqtt.correlation-data=0x00ff807f0a",
                                "mqtt.response-topic=tm-head/replies/ü",
                                "mqtt.payload-format=1");
                // the broker passes on what is left of the 3600 s (MQTT 5, 3.3.2.3.3): less the seconds it held it
                assertThat(headers.subList(0, 8)).filteredOn(h -> h.startsWith("mqtt.message-expiry=")).hasSize(1);
                assertThat(Integer.parseInt(header(full, "mqtt.message-expiry"))).isBetween(3590, 3600);

                // no properties: only topic, QoS and retain
                assertThat(headers(raw.get("bare"))).containsExactlyInAnyOrder("mqtt.topic=tm-head/raw/bäre",
                        "mqtt.qos=0", "mqtt.retain=false");
            } finally {
                publisher.publish("tm-head/raw/retained", new byte[0], 1, true);
            }
        }
    }

    // ---- 5: a name still invalid after sanitising ----

    @Test
    void should_set_a_message_whose_kafka_topic_name_is_invalid_aside_naming_the_rule_and_go_on() throws IOException {
        String kafka = Brokers.kafka().bootstrap();
        Path map = writeMap("dead", """
                - filter: "tm-dead/ok/+"
                  topic: "tm-dead-ok"
                  format: raw
                - filter: "tm-dead/long/+"
                  topic: "tm-dead-{1}"
                  format: raw
                - filter: "tm-dead/empty/#"
                  topic: "{1}"
                """);
        Map<String, String> env = environment("tm-dead", kafka, map.toString());
        env.put("DEAD_LETTER_TOPIC", "tm-dead-letters");
        String longTopic = "tm-dead/long/" + "x".repeat(242); // tm-dead- and 242: 250 characters
        try (BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory("tm-dead"), env);
             Publisher publisher = new Publisher(Brokers.mqtt().url())) {
            bridge.awaitSubscribed(START);
            publisher.publish("tm-dead/ok/1", utf8("before"), 1);
            publisher.publish(longTopic, utf8("too long"), 1);
            publisher.publish("tm-dead/empty", utf8("empty"), 1);
            publisher.publish("tm-dead/ok/1", utf8("after"), 1);
            publisher.flush();

            assertThat(Records.values(exactly(kafka, "tm-dead-ok", 2))).containsExactly("before", "after");
            Map<String, ConsumerRecord<byte[], byte[]>> dead = new LinkedHashMap<>();
            for (ConsumerRecord<byte[], byte[]> r : exactly(kafka, "tm-dead-letters", 2)) {
                dead.put(header(r, "metamorphosis-mqtt-topic"), r);
            }
            assertThat(dead).containsOnlyKeys(longTopic, "tm-dead/empty");
            assertThat(header(dead.get(longTopic), "metamorphosis-error"))
                    .contains("TOPIC_MAP rule 2 (tm-dead/long/+)");
            assertThat(header(dead.get("tm-dead/empty"), "metamorphosis-error"))
                    .contains("TOPIC_MAP rule 3 (tm-dead/empty/#)");
            awaitMetrics(bridge, "two set aside", m -> {
                assertThat(m.value("metamorphosis_messages_dead_lettered_total")).isEqualTo(2.0);
                assertThat(writtenPerTopic(m)).containsEntry("tm-dead-ok", 2.0);
            });
            assertThat(bridge.isAlive()).isTrue();
        }
    }

    @Test
    void should_set_a_message_with_an_invalid_topic_name_aside_during_a_kafka_outage_without_holding_up_the_rest()
            throws IOException {
        Path map = writeMap("limbo", """
                - filter: "tm-limbo/long/+"
                  topic: "tm-limbo-{1}"
                  format: raw
                - filter: "tm-limbo/ok/+"
                  topic: "tm-limbo-ok"
                  format: raw
                """);
        String longTopic = "tm-limbo/long/" + "x".repeat(250);
        try (KafkaBroker own = KafkaBroker.start("tm-limbo", Map.of())) {
            Map<String, String> env = environment("tm-limbo", own.bootstrap(), map.toString());
            env.put("DEAD_LETTER_TOPIC", "tm-limbo-dead");
            try (BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory("tm-limbo"), env);
                 Publisher publisher = new Publisher(Brokers.mqtt().url())) {
                bridge.awaitSubscribed(START);
                // one set aside while Kafka is up: the dead-letter path has written before
                publisher.publish(longTopic + "1", utf8("too long 1"), 1);
                publisher.publish("tm-limbo/ok/1", utf8("before"), 1);
                publisher.flush();
                exactly(own.bootstrap(), "tm-limbo-ok", 1);
                exactly(own.bootstrap(), "tm-limbo-dead", 1);
                own.kill();
                publisher.publish(longTopic + "2", utf8("too long 2"), 1);
                for (int i = 0; i < 10; i++) {
                    publisher.publish("tm-limbo/ok/1", utf8("during " + i), 1);
                }
                publisher.flush();
                // the bridge takes the messages behind it from MQTT while Kafka is still down
                Awaitility.await("the 10 messages behind it received").atMost(Duration.ofSeconds(10))
                        .pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
                            Http.Response response = Http.get(bridge.healthPort(), "/metrics");
                            assertThat(response).isNotNull();
                            assertThat(new Scrape(response.body()).value("mqtt_received")).isEqualTo(13.0);
                        });
                Faults.last(Duration.ofSeconds(20));
                own.restart();

                List<String> expected = new ArrayList<>(List.of("before"));
                IntStream.range(0, 10).forEach(i -> expected.add("during " + i));
                assertThat(Records.values(exactly(own.bootstrap(), "tm-limbo-ok", 11))).isEqualTo(expected);
                // and the one set aside during the outage is not lost
                List<ConsumerRecord<byte[], byte[]>> dead = exactly(own.bootstrap(), "tm-limbo-dead", 2);
                assertThat(dead.stream().map(r -> header(r, "metamorphosis-mqtt-topic")))
                        .containsExactly(longTopic + "1", longTopic + "2");
                assertThat(dead).allSatisfy(r -> assertThat(header(r, "metamorphosis-error"))
                        .contains("TOPIC_MAP rule 1 (tm-limbo/long/+)"));
                assertThat(bridge.isAlive()).isTrue();
            }
        }
    }

    @Test
    void should_write_again_only_the_records_kafka_did_not_take_when_one_kafka_topic_of_a_batch_refuses_them()
            throws IOException {
        try (KafkaBroker own = KafkaBroker.start("tm-partial", Topics.AUTHORIZER)) {
            String kafka = own.bootstrap();
            Map<String, String> env = deniedAndOk(kafka, "tm-partial");
            Topics.denyWrites(kafka, "tm-partial-denied");
            // buffered delivery, where the queue running empty does not complete a batch: the 21 make one
            env.put("DELIVERY", "buffered");
            try (BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory("tm-partial"), env)) {
                bridge.awaitSubscribed(START);
                publishDeniedThenOk("tm-partial");
                // the fault: Kafka refuses the first record of the batch, takes the 20 behind it (another topic),
                // and the batch is written again, without them, several times
                assertThat(Records.values(exactly(kafka, "tm-partial-ok", 20))).isEqualTo(OK);
                Awaitility.await("three failed writes of the batch").atMost(Duration.ofSeconds(60))
                        .until(() -> bridge.metric("kafka_errors") >= 3);
                assertThat(Records.count(kafka, "tm-partial-denied")).as("records on tm-partial-denied").isZero();
                Topics.allowWrites(kafka, "tm-partial-denied");

                assertThat(Records.values(exactly(kafka, "tm-partial-denied", 1))).containsExactly("denied");
                Awaitility.await("the batch done").atMost(ARRIVAL)
                        .until(() -> bridge.metric("metamorphosis_spool_messages") == 0);
                assertThat(Records.values(exactly(kafka, "tm-partial-ok", 20))).as("each once").isEqualTo(OK);
                awaitMetrics(bridge, "the records counted once", scrape -> assertThat(writtenPerTopic(scrape))
                        .containsEntry("tm-partial-ok", 20.0).containsEntry("tm-partial-denied", 1.0));
            }
        }
    }

    @Test
    void should_keep_a_refused_record_on_disk_when_killed_after_kafka_took_the_records_behind_it()
            throws IOException {
        try (KafkaBroker own = KafkaBroker.start("tm-pkill", Topics.AUTHORIZER)) {
            String kafka = own.bootstrap();
            // durable delivery: the records wait in the spool's log
            Map<String, String> env = deniedAndOk(kafka, "tm-pkill");
            Topics.denyWrites(kafka, "tm-pkill-denied");
            Topics.denyWrites(kafka, "tm-pkill-ok");
            Path dir = Files.createTempDirectory("tm-pkill");
            // 1: Kafka takes nothing; the 21 messages wait on disk, acknowledged to MQTT
            try (BridgeProcess first = BridgeProcess.start(dir, env)) {
                first.awaitSubscribed(START);
                publishDeniedThenOk("tm-pkill");
                Awaitility.await("21 on disk, acknowledged, writes refused").atMost(ARRIVAL).until(() ->
                        first.metric("metamorphosis_spool_messages") == 21
                        && first.metric("metamorphosis_mqtt_unacknowledged_messages") == 0
                        && first.metric("kafka_errors") >= 1);
                first.kill();
            }
            // 2: the backlog goes as one batch, the refused record first; Kafka takes the 20 behind it, the retry
            // leaves them out and they leave the spool ahead of the record before them. Killed then
            Topics.allowWrites(kafka, "tm-pkill-ok");
            try (BridgeProcess second = BridgeProcess.start(dir, env)) {
                assertThat(Records.values(exactly(kafka, "tm-pkill-ok", 20))).isEqualTo(OK);
                Awaitility.await("the 20 counted as written").atMost(ARRIVAL)
                        .until(() -> second.metric("metamorphosis_kafka_records_written_total") == 20);
                double errors = second.metric("kafka_errors");
                Awaitility.await("a retry after they left the batch").atMost(ARRIVAL)
                        .until(() -> second.metric("kafka_errors") > errors);
                second.kill();
            }
            // 3: the refused record was kept on disk, and goes now; what the log held behind it goes again
            Topics.allowWrites(kafka, "tm-pkill-denied");
            try (BridgeProcess third = BridgeProcess.start(dir, env)) {
                assertThat(Records.values(exactly(kafka, "tm-pkill-denied", 1))).containsExactly("denied");
                Awaitility.await("the spool empty").atMost(ARRIVAL)
                        .until(() -> third.metric("metamorphosis_spool_messages") == 0);
                List<String> written = Records.values(Records.read(kafka, "tm-pkill-ok"));
                assertThat(new ArrayList<>(new LinkedHashSet<>(written))).as("in order").isEqualTo(OK);
                assertThat(written.size() - 20).as("written again after the kill: the batch at most")
                        .isBetween(0, 20);
                Traffic.report("RESULT | refused-record-kept-over-sigkill | durable | published 21 | delivered "
                               + (written.size() + 1) + " | lost 0 | duplicated " + (written.size() - 20));
            }
        }
    }

    // ---- 6: SIGKILL and restart with a map, durable delivery ----

    @Test
    void should_lose_nothing_and_keep_the_order_of_each_mqtt_topic_over_a_map_when_killed_and_restarted()
            throws IOException {
        String kafka = Brokers.kafka().bootstrap();
        Path map = writeMap("kill", """
                - filter: "tm-kill/t0"
                  topic: "tm-kill-zero"
                  key: "{topic}"
                - filter: "tm-kill/t1"
                  topic: "tm-kill-one"
                  format: raw
                - filter: "+/t2"
                  topic: "{1}-two"
                  format: raw
                """);
        // t3 and t4 match no rule: KAFKA_TOPIC
        List<String> kafkaTopics = List.of("tm-kill-zero", "tm-kill-one", "tm-kill-two", "tm-kill");
        Path dir = Files.createTempDirectory("tm-kill");
        Map<String, String> env = environment("tm-kill", kafka, map.toString());
        try (Traffic traffic = new Traffic("tm-kill", 5)) {
            try (BridgeProcess first = BridgeProcess.start(dir, env)) {
                first.awaitSubscribed(START);
                traffic.start(Brokers.mqtt().url(), 200);
                Faults.last(Duration.ofSeconds(10));
                first.kill();
            }
            Faults.last(Duration.ofSeconds(3));
            try (BridgeProcess second = BridgeProcess.start(dir, env)) {
                second.awaitSubscribed(START);
                Faults.last(Duration.ofSeconds(10));
                traffic.stop();
                Traffic.Tally tally = traffic.awaitAll(kafka, kafkaTopics, Duration.ofSeconds(120));
                Traffic.report(tally.line("bridge-sigkill-and-restart-with-topic-map", "durable"));
                assertThat(tally.lost()).as("lost").isZero();
                assertThat(tally.reordered()).as("out of order").isZero();
                assertThat(tally.published()).isGreaterThan(3000);
                for (String topic : kafkaTopics) {
                    assertThat(Records.count(kafka, topic)).as("records on " + topic).isPositive();
                }
                assertThat(second.isAlive()).isTrue();
            }
        }
    }

    // ---- helpers ----

    /** The environment of a bridge on the shared MQTT broker, durable delivery, with TOPIC_MAP set to the value. */
    static Map<String, String> environment(String prefix, String kafkaBootstrap, String topicMap) {
        Map<String, String> env = BridgeProcess.environment(Brokers.mqtt().port(), kafkaBootstrap, prefix,
                "durable");
        env.put("TOPIC_MAP", topicMap);
        return env;
    }

    /** Writes a map file to {@code target/topic-maps/<name>.yaml} in the repository (CONFIG_DIR); its absolute path. */
    static Path writeMap(String name, String yaml) {
        try {
            Path file = BridgeProcess.repo().resolve("target/topic-maps/" + name + ".yaml");
            Files.createDirectories(file.getParent());
            return Files.writeString(file, yaml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The payloads of the 20 messages behind the one Kafka refuses. */
    private static final List<String> OK = IntStream.range(0, 20).mapToObj(i -> "ok " + i).toList();

    /**
     * A bridge's environment (durable delivery) for a batch over two Kafka topics: a map of two rules, raw,
     * {@code <prefix>/denied/+} to topic {@code <prefix>-denied} and {@code <prefix>/ok/+} to {@code <prefix>-ok}, both
     * created; a batch complete at 21 records, and no flush by time.
     */
    private static Map<String, String> deniedAndOk(String kafka, String prefix) {
        Path map = writeMap(prefix, """
                - filter: "%1$s/denied/+"
                  topic: "%1$s-denied"
                  format: raw
                - filter: "%1$s/ok/+"
                  topic: "%1$s-ok"
                  format: raw
                """.formatted(prefix));
        Topics.create(kafka, prefix + "-denied", Map.of());
        Topics.create(kafka, prefix + "-ok", Map.of());
        Map<String, String> env = environment(prefix, kafka, map.toString());
        env.put("KAFKA_BATCH_SIZE", "21");
        env.put("KAFKA_INTERVAL", "3600");
        return env;
    }

    /** Publishes at QoS 1 "denied" on {@code <prefix>/denied/1}, then {@link #OK} on {@code <prefix>/ok/1}. */
    private static void publishDeniedThenOk(String prefix) {
        try (Publisher publisher = new Publisher(Brokers.mqtt().url())) {
            publisher.publish(prefix + "/denied/1", utf8("denied"), 1);
            OK.forEach(text -> publisher.publish(prefix + "/ok/1", utf8(text), 1));
            publisher.flush();
        }
    }

    /** Waits until the topic holds {@code count} records, and checks it holds no more. */
    static List<ConsumerRecord<byte[], byte[]>> exactly(String bootstrap, String topic, int count) {
        List<ConsumerRecord<byte[], byte[]>> records = Records.await(bootstrap, topic, count, ARRIVAL);
        assertThat(records).as("records on " + topic).hasSize(count);
        return records;
    }

    /** Each header as {@code name=value}: the value as text when it is UTF-8, else {@code 0x} and its bytes in hex. */
    private static List<String> headers(ConsumerRecord<byte[], byte[]> r) {
        List<String> headers = new ArrayList<>();
        for (Header h : r.headers()) {
            String value;
            try {
                value = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(h.value())).toString();
                if (value.chars().anyMatch(c -> c < 0x20)) {
                    value = "0x" + HexFormat.of().formatHex(h.value());
                }
            } catch (CharacterCodingException e) {
                value = "0x" + HexFormat.of().formatHex(h.value());
            }
            headers.add(h.key() + "=" + value);
        }
        return headers;
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        assertThat(h).as("header " + name).isNotNull();
        return new String(h.value(), StandardCharsets.UTF_8);
    }

    /** The payload of a record as text: the value of a raw record, the content of an envelope. */
    static String payloadText(ConsumerRecord<byte[], byte[]> r) {
        String value = new String(r.value(), StandardCharsets.UTF_8);
        if (value.startsWith("{\"topic\":")) {
            return GoEnvelope.parse(r.value()).text();
        }
        return value;
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static final Pattern WRITTEN = Pattern.compile(
            "metamorphosis_kafka_records_written_total\\{(?:.*,)?topic=\"([^\"]*)\".*}");

    /** {@code metamorphosis_kafka_records_written_total} by its {@code topic} label. */
    private static Map<String, Double> writtenPerTopic(Scrape scrape) {
        Map<String, Double> written = new TreeMap<>();
        scrape.samples.forEach((sample, value) -> {
            Matcher m = WRITTEN.matcher(sample);
            if (m.matches()) {
                written.merge(m.group(1), value, Double::sum);
            }
        });
        return written;
    }

    /** Waits until the bridge's /metrics pass the assertions. */
    private static void awaitMetrics(BridgeProcess bridge, String what,
                                     org.assertj.core.api.ThrowingConsumer<Scrape> assertions) {
        Awaitility.await(what).atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                .untilAsserted(() -> {
                    Http.Response response = Http.get(bridge.healthPort(), "/metrics");
                    assertThat(response).isNotNull();
                    assertThat(response.status()).isEqualTo(200);
                    assertions.accept(new Scrape(response.body()));
                });
    }
}

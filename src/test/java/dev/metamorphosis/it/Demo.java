package dev.metamorphosis.it;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The demo ({@code ./mvnw -Pdemo}): an embedded MQTT 5 broker, a Kafka broker, the built bridge with the Go version's
 * environment variables, a few sample messages a second, and the envelopes read back from Kafka, until Ctrl-C.
 */
public final class Demo {

    private Demo() {
    }

    public static void main(String[] args) throws Exception {
        org.apache.logging.log4j.core.config.Configurator.setLevel("com.hivemq", org.apache.logging.log4j.Level.WARN);
        org.apache.logging.log4j.core.config.Configurator.setLevel("migrations", org.apache.logging.log4j.Level.WARN);
        System.out.println("Starting an MQTT 5 broker and a Kafka broker (KRaft) ...");
        MqttBroker mqtt = MqttBroker.start("demo", false);
        KafkaBroker kafka = KafkaBroker.start("demo", Map.of());
        Path logs = Files.createDirectories(Path.of("target").toAbsolutePath());
        Map<String, String> env = new java.util.TreeMap<>(Map.of(
                "MQTT_BROKER", "127.0.0.1",
                "MQTT_PORT", Integer.toString(mqtt.port()),
                "MQTT_TLS", "false",
                "MQTT_TOPIC", "demo/#",
                "KAFKA_BROKER", "127.0.0.1",
                "KAFKA_PORT", Integer.toString(kafka.port()),
                "KAFKA_TOPIC", "demo",
                "KAFKA_TEST_TOPIC", "demo-probe",
                "KAFKA_INTERVAL", "1",
                "CONFIG_DIR", BridgeProcess.repo().toString()));
        System.out.println("Starting the bridge: java -jar " + BridgeProcess.jar() + " with");
        env.forEach((k, v) -> System.out.println("    " + k + "=" + v));
        BridgeProcess bridge = BridgeProcess.start(logs, env);
        System.out.println("Bridge logs: target/bridge-runs/ . Publish your own with:");
        System.out.println("    mosquitto_pub -V mqttv5 -p " + mqtt.port() + " -t demo/hello -m hi");
        System.out.println();

        AtomicBoolean running = new AtomicBoolean(true);
        Thread main = Thread.currentThread();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            running.set(false);
            bridge.terminate();
            bridge.exitCode(Duration.ofSeconds(40));
            kafka.close();
            mqtt.stop();
            try {
                main.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));

        Thread publisher = new Thread(() -> {
            // publish once the bridge has subscribed, so the first samples are bridged too
            while (running.get() && bridge.isAlive() && !bridge.stdout().contains("Subscribed")) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
            publish(mqtt, running);
        }, "demo-publisher");
        publisher.setDaemon(true);
        publisher.start();
        read(kafka, running, bridge);
    }

    private static void publish(MqttBroker mqtt, AtomicBoolean running) {
        try (Publisher publisher = new Publisher(mqtt.url())) {
            for (int n = 1; running.get(); n++) {
                String reading = "{\"celsius\":" + (20 + n % 7) + ".5,\"n\":" + n + "}";
                publisher.publish("demo/sensors/kitchen/temperature", reading.getBytes(StandardCharsets.UTF_8), 1);
                if (n % 3 == 0) {
                    publisher.publish("demo/alarms/door", new byte[] {(byte) 0xCA, (byte) 0xFE, 0x00, (byte) n}, 1);
                }
                Thread.sleep(700);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            if (running.get()) {
                System.err.println("publisher stopped: " + e.getMessage());
            }
        }
    }

    private static void read(KafkaBroker kafka, AtomicBoolean running, BridgeProcess bridge) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrap());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (var consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = List.of(new TopicPartition("demo-probe", 0),
                    new TopicPartition("demo", 0));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            System.out.println("Envelopes read back from Kafka (Ctrl-C to stop):");
            while (running.get()) {
                if (!bridge.isAlive()) {
                    System.err.println("The bridge stopped:\n" + bridge.stderr());
                    return;
                }
                try {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                        String envelope = new String(r.value(), StandardCharsets.UTF_8);
                        byte[] payload = GoEnvelope.parse(r.value()).content();
                        System.out.printf("%s %s@%d %s%n        payload: %s%n",
                                LocalTime.now().truncatedTo(ChronoUnit.SECONDS), r.topic(), r.offset(), envelope,
                                printable(payload));
                    }
                } catch (org.apache.kafka.common.errors.InterruptException e) {
                    return;
                }
            }
        }
    }

    private static String printable(byte[] payload) {
        String text = new String(payload, StandardCharsets.UTF_8);
        return text.chars().allMatch(c -> c >= 0x20 && c != 0xFFFD) ? text : "bytes " + java.util.HexFormat.ofDelimiter(" ").formatHex(payload);
    }
}

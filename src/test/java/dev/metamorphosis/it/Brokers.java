package dev.metamorphosis.it;

import java.util.Map;

/**
 * One Kafka broker and one MQTT broker shared by the broker tests of this JVM, started on first use and stopped when
 * the JVM ends. Tests keep apart by topic names.
 */
public final class Brokers {
    private static KafkaBroker kafka;
    private static MqttBroker mqtt;

    private Brokers() {
    }

    public static synchronized KafkaBroker kafka() {
        if (kafka == null) {
            kafka = KafkaBroker.start("shared", Map.of());
            Runtime.getRuntime().addShutdownHook(new Thread(kafka::close));
        }
        return kafka;
    }

    public static synchronized MqttBroker mqtt() {
        if (mqtt == null) {
            mqtt = MqttBroker.start("shared", false);
            Runtime.getRuntime().addShutdownHook(new Thread(mqtt::close));
        }
        return mqtt;
    }

    /**
     * Points the bridge of a {@code @CamelMainTest} at the shared brokers, its HTTP server at a free port and its disk
     * spool at a new folder: Camel reads these system properties before application.properties.
     */
    public static void useShared() {
        System.setProperty("health.port", Integer.toString(Ports.free()));
        System.setProperty("mqtt.broker", "127.0.0.1");
        System.setProperty("mqtt.port", Integer.toString(mqtt().port()));
        System.setProperty("mqtt.tls", "false");
        System.setProperty("kafka.broker", kafka().bootstrap());
        // a durable spool of its own for each test's bridge: none replays another's records
        try {
            System.setProperty("spool.dir", java.nio.file.Files.createTempDirectory("spool").toString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}

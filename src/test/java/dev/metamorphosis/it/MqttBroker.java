package dev.metamorphosis.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import com.hivemq.embedded.EmbeddedExtension;
import com.hivemq.embedded.EmbeddedHiveMQ;

/**
 * A real MQTT 5 broker (HiveMQ Community Edition, embedded) on a free port. Stopping and starting it again keeps
 * the port and, with file persistence, the sessions and their queued messages.
 */
public final class MqttBroker implements AutoCloseable {

    private final Path dir;
    private final int port;
    private final EmbeddedExtension extension;
    private EmbeddedHiveMQ hivemq;

    private MqttBroker(Path dir, int port, EmbeddedExtension extension) {
        this.dir = dir;
        this.port = port;
        this.extension = extension;
    }

    /** Starts a broker; {@code persistent} keeps sessions across a restart (file persistence). */
    public static MqttBroker start(String name, boolean persistent) {
        return start(name, persistent, "", null);
    }

    /**
     * Starts a broker with further listeners ({@code <tls-tcp-listener>} elements of HiveMQ's config.xml) beside
     * the TCP one, and an embedded extension (an authenticator, say), or none when {@code null}.
     */
    public static MqttBroker start(String name, boolean persistent, String listeners, EmbeddedExtension extension) {
        try {
            Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "mqtt-" + name + "-");
            MqttBroker broker = new MqttBroker(dir, Ports.free(), extension);
            Files.createDirectories(dir.resolve("conf"));
            Files.createDirectories(dir.resolve("data"));
            Files.createDirectories(dir.resolve("extensions"));
            Files.writeString(dir.resolve("conf/config.xml"), """
                    <?xml version="1.0"?>
                    <hivemq>
                        <listeners>
                            <tcp-listener>
                                <port>%d</port>
                                <bind-address>127.0.0.1</bind-address>
                            </tcp-listener>
                            %s
                        </listeners>
                        <mqtt>
                            <queued-messages>
                                <max-queue-size>10000000</max-queue-size>
                            </queued-messages>
                            <receive-maximum>
                                <server-receive-maximum>1000</server-receive-maximum>
                            </receive-maximum>
                        </mqtt>
                        <persistence>
                            <mode>%s</mode>
                        </persistence>
                        <anonymous-usage-statistics>
                            <enabled>false</enabled>
                        </anonymous-usage-statistics>
                    </hivemq>
                    """.formatted(broker.port, listeners, persistent ? "file" : "in-memory"));
            broker.startAgain();
            return broker;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int port() {
        return port;
    }

    public String url() {
        return "tcp://127.0.0.1:" + port;
    }

    /** Starts the broker (again) on the same port and folders. */
    public void startAgain() {
        var builder = EmbeddedHiveMQ.builder()
                .withConfigurationFolder(dir.resolve("conf"))
                .withDataFolder(dir.resolve("data"))
                .withExtensionsFolder(dir.resolve("extensions"))
                .withoutLoggingBootstrap();
        if (extension != null) {
            builder.withEmbeddedExtension(extension);
        }
        hivemq = builder.build();
        try {
            hivemq.start().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("MQTT broker did not start on port " + port, e);
        }
    }

    public void stop() {
        try {
            hivemq.stop().get(60, TimeUnit.SECONDS);
            hivemq.close();
        } catch (Exception e) {
            throw new IllegalStateException("MQTT broker did not stop", e);
        }
    }

    @Override
    public void close() {
        stop();
    }
}

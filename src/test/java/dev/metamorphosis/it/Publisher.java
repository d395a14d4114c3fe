package dev.metamorphosis.it;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttActionListener;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;

/** Publishes to the MQTT broker, pipelined: up to {@code window} QoS 1 messages wait for their PUBACK at once. */
public final class Publisher implements AutoCloseable {

    private final MqttAsyncClient client;
    private final Semaphore window;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final int size;

    /**
     * Connects; the window is the smaller of {@code window} and the broker's receive maximum (a stock Mosquitto grants
     * 20), beyond which Paho refuses a publish.
     */
    public Publisher(String url, int window) {
        try {
            client = new MqttAsyncClient(url, "publisher-" + UUID.randomUUID(), new MemoryPersistence());
            MqttConnectionOptions options = new MqttConnectionOptions();
            options.setCleanStart(true);
            options.setReceiveMaximum(window);
            IMqttToken connected = client.connect(options);
            connected.waitForCompletion(30_000);
            Integer brokerMaximum = connected.getResponseProperties() == null ? null
                    : connected.getResponseProperties().getReceiveMaximum();
            this.size = brokerMaximum == null ? window : Math.min(window, brokerMaximum);
            this.window = new Semaphore(size);
        } catch (MqttException e) {
            throw new IllegalStateException("cannot connect publisher to " + url, e);
        }
    }

    public Publisher(String url) {
        this(url, 500);
    }

    public void publish(String topic, byte[] payload, int qos) {
        publish(topic, payload, qos, false);
    }

    public void publish(String topic, byte[] payload, int qos, boolean retained) {
        MqttMessage message = new MqttMessage(payload);
        message.setQos(qos);
        message.setRetained(retained);
        publish(topic, message);
    }

    /** Publishes with MQTT 5 user properties. */
    public void publish(String topic, byte[] payload, int qos, List<UserProperty> userProperties) {
        MqttProperties properties = new MqttProperties();
        properties.setUserProperties(userProperties);
        publish(topic, payload, qos, false, properties);
    }

    /**
     * Publishes with any MQTT 5 properties: content type, correlation data, response topic, payload format
     * indicator, message expiry interval, user properties (in their order, a name may repeat).
     */
    public void publish(String topic, byte[] payload, int qos, boolean retained, MqttProperties properties) {
        MqttMessage message = new MqttMessage(payload);
        message.setQos(qos);
        message.setRetained(retained);
        message.setProperties(properties);
        publish(topic, message);
    }

    private void publish(String topic, MqttMessage message) {
        check();
        try {
            window.acquire();
            client.publish(topic, message, null, new MqttActionListener() {
                @Override
                public void onSuccess(IMqttToken token) {
                    window.release();
                }

                @Override
                public void onFailure(IMqttToken token, Throwable e) {
                    failure.compareAndSet(null, e);
                    window.release();
                }
            });
        } catch (MqttException | InterruptedException e) {
            throw new IllegalStateException("publish to " + topic + " failed", e);
        }
    }

    /** Waits until the broker has acknowledged everything published. */
    public void flush() {
        try {
            if (!window.tryAcquire(size, 120, TimeUnit.SECONDS)) {
                throw new IllegalStateException("publishes not acknowledged within 120 s");
            }
            window.release(size);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        check();
    }

    private void check() {
        if (failure.get() != null) {
            throw new IllegalStateException("a publish failed", failure.get());
        }
    }

    @Override
    public void close() {
        try {
            flush();
            client.disconnect().waitForCompletion(10_000);
            client.close();
        } catch (MqttException e) {
            throw new IllegalStateException(e);
        }
    }
}

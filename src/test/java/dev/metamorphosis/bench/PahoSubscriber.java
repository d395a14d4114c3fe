package dev.metamorphosis.bench;

import java.util.UUID;

import javax.net.SocketFactory;

import dev.metamorphosis.Envelope;
import dev.metamorphosis.NoDelaySocketFactory;
import dev.metamorphosis.it.PahoMessages;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;

/**
 * A plain subscriber on the bridge's own MQTT client, Paho, as the bridge connects it (TCP_NODELAY, the same receive
 * maximum) but acknowledging each message as soon as it arrives: the most the bridge's MQTT client gets through.
 * Forwarding, it also wraps each message in the envelope and sends it to a Kafka topic with a plain producer, and
 * counts the message once Kafka has it: the most a bare pipe from Paho to Kafka gets through on this machine, with
 * no guarantee (nothing waits for Kafka, nothing is spooled), no Camel and no batches of its own.
 */
final class PahoSubscriber implements Subscriber {

    private final Tally tally = new Tally();
    private final MqttAsyncClient client;
    /** Null: a message counts as it arrives. */
    private final KafkaProducer<byte[], byte[]> forward;
    private final String kafkaTopic;
    private volatile Throwable failure;

    PahoSubscriber(String host, int port, String filter, int qos, int receiveMaximum) {
        this("tcp://" + host + ":" + port, new NoDelaySocketFactory(), filter, qos, receiveMaximum, null, null);
    }

    PahoSubscriber(String host, int port, String filter, int qos, int receiveMaximum,
                   KafkaProducer<byte[], byte[]> forward, String kafkaTopic) {
        this("tcp://" + host + ":" + port, new NoDelaySocketFactory(), filter, qos, receiveMaximum, forward,
                kafkaTopic);
    }

    /** Over TLS: an {@code ssl://} URL and the bridge's TLS socket factory. */
    PahoSubscriber(String url, SocketFactory sockets, String filter, int qos, int receiveMaximum) {
        this(url, sockets, filter, qos, receiveMaximum, null, null);
    }

    private PahoSubscriber(String url, SocketFactory sockets, String filter, int qos, int receiveMaximum,
                           KafkaProducer<byte[], byte[]> forward, String kafkaTopic) {
        this.forward = forward;
        this.kafkaTopic = kafkaTopic;
        try {
            client = new MqttAsyncClient(url, "bench-paho-" + UUID.randomUUID(), new MemoryPersistence());
            client.setCallback(new PahoMessages() {
                @Override
                public void messageArrived(String topic, MqttMessage message) {
                    byte[] payload = message.getPayload();
                    if (forward == null) {
                        tally.add(null, Stamp.read(payload, 0), System.currentTimeMillis());
                        return;
                    }
                    forward.send(new ProducerRecord<>(kafkaTopic, Envelope.wrap(topic, payload)), (metadata, e) -> {
                        if (e != null) {
                            failure = e;
                        } else {
                            tally.add(null, Stamp.read(payload, 0), System.currentTimeMillis());
                        }
                    });
                }

                @Override
                public void disconnected(MqttDisconnectResponse response) {
                    failure = response.getException();
                }

                @Override
                public void mqttErrorOccurred(MqttException exception) {
                    failure = exception;
                }

            });
            MqttConnectionOptions options = new MqttConnectionOptions();
            options.setCleanStart(true);
            options.setReceiveMaximum(receiveMaximum);
            options.setSocketFactory(sockets);
            client.connect(options).waitForCompletion(30_000);
            client.subscribe(filter, qos).waitForCompletion(30_000);
        } catch (MqttException e) {
            throw new IllegalStateException("Paho subscriber could not subscribe", e);
        }
    }

    @Override
    public Tally tally() {
        return tally;
    }

    @Override
    public Throwable failure() {
        return failure;
    }

    @Override
    public void close() {
        try {
            client.disconnect().waitForCompletion(10_000);
            client.close();
        } catch (MqttException e) {
            // closing anyway
        }
        if (forward != null) {
            forward.close();
        }
    }
}

package org.eclipse.paho.mqttv5.client.internal;

import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.packet.MqttPublish;

/**
 * Paho's callback, with each QoS 0 or 1 message delivered on the thread that received it ({@code MQTT Rec}) instead
 * of through Paho's queue to its callback thread ({@code MQTT Call}). The bridge's own class in Paho's package, since
 * {@link CommsCallback}'s constructor is package-private; {@code dev.metamorphosis.MqttComponent} puts it in place of
 * the client's own, before it connects, and only when the subscription's QoS is 0 or 1 and the bridge acknowledges
 * messages itself (manual acks).
 * <p>
 * Why: Paho 1.2.5's queue holds 10 messages. While the route (on the callback thread) is slower than the receiver,
 * the queue stays full, the receiver waits for room ({@code spaceAvailable.wait}) and the callback thread wakes it
 * after every message: two context switches a message. On 2 cores that was a quarter of the bridge's CPU at 200 B
 * (docs/performance.md, run perf1). Here the receiver runs the route itself, so a message is read, turned into its
 * record and handed to the spool on one thread, with no wait and no wake-up.
 * <p>
 * What does not change: the receiver stops reading while the route runs, as it did while the queue was full (the
 * route blocks the same way, for room in the spool); completions and connection events still go through the callback
 * thread; a message that arrives while Paho quiesces (disconnecting) is left to Paho, which drops it unacknowledged,
 * as before; QoS 2 messages, whose acknowledgements depend on the order in which Paho's receiver hands them over and
 * sends their PUBREC, take Paho's own path. Any exception out of the delivery ends the connection, as Paho's callback
 * thread does.
 * <p>
 * What upstream Paho should change: let the receiver wait for room only until the queue is half empty (or make the
 * queue's size a setting), so that one wake-up moves several messages; or offer a delivery on the receiving thread,
 * as here.
 */
public class ReceiverCallback extends CommsCallback {

    private final ClientComms comms;

    public ReceiverCallback(ClientComms comms) {
        super(comms);
        this.comms = comms;
    }

    @Override
    public void messageArrived(MqttPublish publish) {
        if (publish.getMessage().getQos() == 2 || isQuiescing()) {
            super.messageArrived(publish);
            return;
        }
        try {
            deliverMessage(publish.getTopicName(), publish.getMessageId(), publish.getMessage());
        } catch (Exception e) {
            comms.shutdownConnection(null, new MqttException(e), null);
        }
    }
}

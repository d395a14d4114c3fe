package dev.metamorphosis;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.security.CodeSource;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import javax.net.SocketFactory;

import org.apache.camel.AsyncCallback;
import org.apache.camel.Consumer;
import org.apache.camel.Endpoint;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.component.paho.mqtt5.PahoMqtt5Component;
import org.apache.camel.component.paho.mqtt5.PahoMqtt5Configuration;
import org.apache.camel.component.paho.mqtt5.PahoMqtt5Constants;
import org.apache.camel.component.paho.mqtt5.PahoMqtt5Endpoint;
import org.apache.camel.support.DefaultConsumer;
import org.apache.camel.support.SynchronizationAdapter;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttActionListener;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.internal.ClientComms;
import org.eclipse.paho.mqttv5.client.internal.ClientState;
import org.eclipse.paho.mqttv5.client.internal.ReceiverCallback;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code paho-mqtt5} component with a consumer that keeps a persistent MQTT session whole: same endpoint options,
 * same headers ({@code CamelMqttTopic}, {@code CamelMqttQoS}, {@code CamelPahoMsgProperties}), the payload as body.
 * <p>
 * Camel's own consumer (4.17) sets its message callback only after connecting, so what the broker sends at once from
 * the session is dropped by Paho, never handed to the route nor acknowledged; and it resubscribes after a reconnect
 * from inside the client's callback thread and waits for the answer without a time limit, while Paho's receiver
 * waits for that thread: the consumer is stuck until the connection drops. StockPahoConsumerIT shows both. This
 * consumer sets the callback before it connects and resubscribes without
 * waiting, with retain handling 1 so a resubscription does not deliver the retained messages again.
 */
@org.apache.camel.spi.annotations.Component("paho-mqtt5")
public final class MqttComponent extends PahoMqtt5Component {

    private static final Logger LOG = LoggerFactory.getLogger("mqtt");

    static {
        PahoLog.install();
    }
    /** The class Paho 1.2.5 reads received packets through (ours, or Paho's own). */
    static final String PAYLOAD_READER = "org.eclipse.paho.mqttv5.common.packet.util.CountingInputStream";

    private final Set<Subscriber> subscribers = ConcurrentHashMap.newKeySet();
    private final LongAdder received = new LongAdder();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong reconnects = new AtomicLong();
    private final AtomicLong unacknowledged = new AtomicLong();
    /** What a QoS 1 acknowledgement held through a read burst waits at most ({@link Subscriber#ACKS_HOLD_MILLIS}). */
    private volatile long ackHoldMillis = Subscriber.ACKS_HOLD_MILLIS;

    /** Tests: 0 holds such an acknowledgement until the receiving thread is about to read the socket again. */
    void ackHoldMillis(long millis) {
        ackHoldMillis = millis;
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        logPayloadReads();
        logLoggerFactory();
    }

    /**
     * Says which {@code CountingInputStream} Paho parses received packets through, and where it was loaded from: the
     * bridge's own reads a payload in one call, Paho 1.2.5's a byte per call (10 KiB messages: 0.30 instead of 0.52 x the
     * raw limit in the benchmark), which happens when the Paho jar comes before metamorphosis.jar on the class path.
     */
    static void logPayloadReads() {
        Class<?> reader;
        try {
            reader = Class.forName(PAYLOAD_READER, false, MqttAsyncClient.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            LOG.warn("MQTT payloads: Paho has no {}", PAYLOAD_READER);
            return;
        }
        Object where = where(reader.getProtectionDomain().getCodeSource());
        if (readsInBulk(reader)) {
            LOG.info("MQTT payloads read in bulk by {} from {}", PAYLOAD_READER, where);
        } else {
            LOG.warn("MQTT payloads read a byte per call by {} from {}: put metamorphosis.jar before the Paho jar "
                    + "on the class path", PAYLOAD_READER, where);
        }
    }

    /** The start of the warning that Paho's own LoggerFactory was loaded, from where. */
    static final String PAHO_LOGGERS = "Paho's loggers made by Paho's own "
            + "org.eclipse.paho.mqttv5.client.logging.LoggerFactory from";

    /**
     * Warns when Paho's own {@code LoggerFactory} was loaded instead of the bridge's, which happens for the same reason
     * (see {@link #logPayloadReads}): Paho's looks up a catalog and a class for every MQTT acknowledgement.
     */
    static void logLoggerFactory() {
        CodeSource factory = org.eclipse.paho.mqttv5.client.logging.LoggerFactory.class.getProtectionDomain()
                .getCodeSource();
        if (!sameSource(factory, MqttComponent.class.getProtectionDomain().getCodeSource())) {
            LOG.warn("{} {}: a catalog and a class looked up for every MQTT acknowledgement; put metamorphosis.jar "
                    + "before the Paho jar on the class path", PAHO_LOGGERS, where(factory));
        }
    }

    private static Object where(CodeSource source) {
        return source == null ? "an unknown place" : source.getLocation();
    }

    private static boolean sameSource(CodeSource a, CodeSource b) {
        return a != null && b != null && a.getLocation() != null && a.getLocation().equals(b.getLocation());
    }

    static boolean readsInBulk(Class<?> reader) {
        try {
            reader.getDeclaredMethod("read", byte[].class, int.class, int.class);
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    @Override
    protected Endpoint createEndpoint(String uri, String remaining, Map<String, Object> parameters) throws Exception {
        SubscriberEndpoint endpoint = new SubscriberEndpoint(uri, remaining, this, getConfiguration().copy());
        setProperties(endpoint, parameters);
        return endpoint;
    }

    /** Whether every subscription of the bridge is connected. */
    public boolean connected() {
        return !subscribers.isEmpty() && subscribers.stream().allMatch(Subscriber::connected);
    }

    /** Messages received from MQTT, since start. */
    public long received() {
        return received.sum();
    }

    /** Connection losses, failed connects and subscribes, client errors, since start. */
    public long errors() {
        return errors.get();
    }

    /** Messages received and not yet acknowledged to the broker (QoS 1 and 2, acknowledged by hand). */
    public long unacknowledged() {
        return unacknowledged.get();
    }

    /** Reconnects after a lost connection, since start. */
    public long reconnects() {
        return reconnects.get();
    }

    /** An endpoint whose consumer is a {@link Subscriber}; producing is Camel's own. */
    static final class SubscriberEndpoint extends PahoMqtt5Endpoint {
        SubscriberEndpoint(String uri, String topic, MqttComponent component, PahoMqtt5Configuration configuration) {
            super(uri, topic, component, configuration);
        }

        @Override
        public Consumer createConsumer(Processor processor) throws Exception {
            Subscriber subscriber = new Subscriber(this, processor);
            configureConsumer(subscriber);
            return subscriber;
        }

        MqttConnectionOptions options() {
            return createMqttConnectionOptions();
        }
    }

    /** One MQTT connection and subscription, feeding its route. */
    static final class Subscriber extends DefaultConsumer implements MqttCallback {
        /** What closing the acknowledgements' thread waits at most: it has only Paho's queue to write to. */
        private static final long ACKS_CLOSE_MILLIS = 5000;
        /**
         * What an acknowledgement waits at most, held while more messages followed, when the receiving thread does
         * not read the socket again (its route waits for room in the spool): the broker's window stays short so long.
         */
        static final long ACKS_HOLD_MILLIS = 100;

        private volatile MqttAsyncClient client;
        private volatile PahoThreads threads;
        /** QoS 1 acknowledgements, sent in bursts by a thread of their own. */
        private volatile Acknowledgements acks;

        Subscriber(SubscriberEndpoint endpoint, Processor processor) {
            super(endpoint, processor);
        }

        @Override
        public SubscriberEndpoint getEndpoint() {
            return (SubscriberEndpoint) super.getEndpoint();
        }

        private MqttComponent component() {
            return (MqttComponent) getEndpoint().getComponent();
        }

        private PahoMqtt5Configuration configuration() {
            return getEndpoint().getConfiguration();
        }

        boolean connected() {
            MqttAsyncClient c = client;
            return c != null && c.isConnected();
        }

        @Override
        protected void doStart() throws Exception {
            super.doStart();
            PahoMqtt5Configuration config = configuration();
            PahoThreads threads = new PahoThreads(config.getClientId());
            MqttAsyncClient c = new MqttAsyncClient(config.getBrokerUrl(), config.getClientId(), new MemoryPersistence(),
                    null, threads);
            c.setManualAcks(config.isManualAcksEnabled());
            if (config.isManualAcksEnabled() && config.getQos() < 2) {
                OnReceiver.install(c);
            }
            c.setCallback(this);
            this.threads = threads;
            MqttConnectionOptions options = getEndpoint().options();
            // this client's own factory, so the output it made last is this connection's
            SocketFactory own = options.getSocketFactory() instanceof ClientSockets shared
                    ? shared.forOneClient() : options.getSocketFactory();
            options.setSocketFactory(own);
            ClientSockets mine = own instanceof ClientSockets s ? s : null; // null: a factory of the user's
            acks = new Acknowledgements(id -> acknowledge(c, id, 1), ids -> pubacks(c, mine, ids),
                    mine != null ? mine::moreBuffered : () -> false, component().ackHoldMillis,
                    "MQTT Ack: " + config.getClientId());
            if (mine != null) {
                mine.beforeSocketRead(acks::release); // those held while the read burst lasted
            }
            client = c; // before connecting: the session's messages come at once, and are acknowledged through it
            long timeout = config.getConnectionTimeout() * 1000L;
            try {
                c.connect(options).waitForCompletion(timeout);
                c.subscribe(new MqttSubscription[] {subscription()}, null, null, new MqttProperties())
                        .waitForCompletion(timeout);
            } catch (MqttException e) {
                client = null;
                component().errors.incrementAndGet();
                acks.close(ACKS_CLOSE_MILLIS);
                close(c, threads);
                throw e;
            }
            component().subscribers.add(this);
        }

        private MqttSubscription subscription() {
            MqttSubscription subscription = new MqttSubscription(getEndpoint().getTopic(), configuration().getQos());
            subscription.setRetainHandling(1);
            return subscription;
        }

        @Override
        protected void doStop() throws Exception {
            component().subscribers.remove(this);
            MqttAsyncClient c = client;
            client = null;
            if (acks != null) {
                acks.close(ACKS_CLOSE_MILLIS); // what was handed over goes before the disconnect
            }
            if (c != null) {
                if (c.isConnected() && configuration().isCleanStart()) {
                    c.unsubscribe(getEndpoint().getTopic()).waitForCompletion(5000);
                }
                close(c, threads);
            }
            super.doStop();
        }

        private static void close(MqttAsyncClient c, PahoThreads threads) {
            try {
                if (c.isConnected()) {
                    c.disconnect().waitForCompletion(5000);
                }
            } catch (MqttException e) {
                LOG.debug("MQTT disconnect: {}", e.getMessage());
            }
            try {
                c.close(true);
            } catch (MqttException e) {
                LOG.debug("MQTT close: {}", e.getMessage());
            }
            threads.shutdown();
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            component().received.increment();
            Exchange exchange = createExchange(true);
            exchange.getIn().setBody(message.getPayload());
            exchange.getIn().setHeader(PahoMqtt5Constants.MQTT_TOPIC, topic);
            exchange.getIn().setHeader(PahoMqtt5Constants.MQTT_QOS, message.getQos());
            exchange.getIn().setHeader(PahoMqtt5Constants.CAMEL_PAHO_MSG_PROPERTIES, message.getProperties());
            if (message.isRetained()) {
                exchange.getIn().setHeader(Mapping.RETAINED, true);
            }
            if (configuration().isManualAcksEnabled() && message.getQos() > 0) {
                MqttAsyncClient c = client;
                Acknowledgements a = acks;
                int id = message.getId();
                int qos = message.getQos();
                component().unacknowledged.incrementAndGet();
                exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
                    @Override
                    public void onFailure(Exchange done) {
                        component().unacknowledged.decrementAndGet(); // the broker delivers it again
                    }

                    @Override
                    public void onComplete(Exchange done) {
                        component().unacknowledged.decrementAndGet();
                        if (qos == 1) {
                            a.add(id);
                        } else {
                            acknowledge(c, id, qos);
                        }
                    }
                });
            }
            AsyncCallback done = defaultConsumerCallback(exchange, true);
            getAsyncProcessor().process(exchange, done);
        }

        /**
         * Sends the QoS 1 acknowledgements (PUBACK) of these message ids in one write to the connection, past Paho.
         * Paho's {@code messageArrivedComplete} makes a packet, a token and a properties object for each, queues it for
         * its sender thread in a list it takes from the front ({@code Vector.remove(0)}: dearer the more wait), and
         * the sender writes it on its own: in the benchmark (run ack1, docs/performance.md) this path cost 6 to 9 µs of
         * CPU a message more. Paho keeps nothing of a QoS 1 message it has received, so none of its state is passed
         * by. False, so that Paho sends them, while not connected, and with a socket factory of the user's that is
         * not the bridge's ({@link ClientSockets}).
         */
        private boolean pubacks(MqttAsyncClient c, ClientSockets sockets, List<Integer> ids) {
            SocketWriter out = sockets != null ? sockets.writer() : null;
            if (out == null || !c.isConnected()) {
                return false;
            }
            byte[] packets = new byte[4 * ids.size()];
            int i = 0;
            for (int id : ids) {
                packets[i++] = 0x40; // PUBACK
                packets[i++] = 2; // remaining length: the packet id only (reason code 0, no properties: MQTT 5 3.4.2.1)
                packets[i++] = (byte) (id >> 8);
                packets[i++] = (byte) id;
            }
            try {
                return out.writePackets(packets, packets.length);
            } catch (IOException e) {
                LOG.warn("Could not acknowledge {} MQTT message(s): {} (the broker delivers them again)", ids.size(),
                        e.getMessage());
                return true;
            }
        }

        /** Sends the acknowledgement of a message (QoS 2: takes it out of Paho's store). */
        private void acknowledge(MqttAsyncClient c, int id, int qos) {
            try {
                if (qos == 2) {
                    Qos2.release(c, id);
                } else {
                    c.messageArrivedComplete(id, qos);
                }
            } catch (MqttException e) {
                LOG.warn("Could not acknowledge MQTT message {} of subscription {}: {} (the broker delivers it again)",
                        id, getEndpoint().getTopic(), e.getMessage());
            }
        }

        @Override
        public void connectComplete(boolean reconnect, String serverURI) {
            if (!reconnect) {
                return;
            }
            component().reconnects.incrementAndGet();
            LOG.info("Reconnected to MQTT broker {} as {}", serverURI, configuration().getClientId());
            MqttAsyncClient c = client;
            if (c == null) {
                return;
            }
            try {
                c.subscribe(new MqttSubscription[] {subscription()}, null, new MqttActionListener() {
                    @Override
                    public void onSuccess(IMqttToken token) {
                        LOG.debug("Subscribed again to {}", getEndpoint().getTopic());
                    }

                    @Override
                    public void onFailure(IMqttToken token, Throwable e) {
                        component().errors.incrementAndGet();
                        LOG.warn("Could not subscribe again to MQTT topic filter {}: {}", getEndpoint().getTopic(),
                                e.getMessage());
                    }
                }, new MqttProperties());
            } catch (MqttException e) {
                component().errors.incrementAndGet();
                LOG.warn("Could not subscribe again to MQTT topic filter {}: {}", getEndpoint().getTopic(),
                        e.getMessage());
            }
        }

        @Override
        public void disconnected(MqttDisconnectResponse response) {
            if (client == null) {
                return; // stopping
            }
            component().errors.incrementAndGet();
            LOG.warn("Lost the connection to the MQTT broker as {}: {}; reconnecting", configuration().getClientId(),
                    response.getException() != null ? response.getException().getMessage() : response.getReasonString());
        }

        @Override
        public void mqttErrorOccurred(MqttException exception) {
            component().errors.incrementAndGet();
            LOG.warn("MQTT client {}: {}", configuration().getClientId(), exception.getMessage());
        }

        @Override
        public void deliveryComplete(IMqttToken token) {
            // the bridge publishes nothing
        }

        @Override
        public void authPacketArrived(int reasonCode, MqttProperties properties) {
            // no enhanced authentication
        }
    }

    /**
     * Delivery on Paho's receiving thread ({@link ReceiverCallback}, which says why): its callback in place of the
     * client's own, set where Paho keeps it ({@code ClientComms.callback}, {@code ClientState.callback}: not public,
     * reflection, checked by MqttComponentTest) before the client connects. Where this Paho differs, or the JVM refuses
     * a class of the bridge's in the package of the signed Paho jar (Java 17 before 17.0.5: a {@code SecurityException}),
     * the client keeps Paho's own callback and its queue, and one line at start-up says so.
     */
    static final class OnReceiver {

        /** The start of the warning that the messages go through Paho's queue and callback thread after all. */
        static final String PAHO_QUEUE = "MQTT messages go through Paho's queue and callback thread";

        private static final Field COMMS;
        private static final Field CALLBACK;
        private static final Field STATE;
        private static final Field STATE_CALLBACK;
        private static final AtomicBoolean REFUSED = new AtomicBoolean();

        static {
            Field comms = null;
            Field callback = null;
            Field state = null;
            Field stateCallback = null;
            try {
                Class.forName(ReceiverCallback.class.getName());
                comms = MqttAsyncClient.class.getDeclaredField("comms");
                callback = ClientComms.class.getDeclaredField("callback");
                state = ClientComms.class.getDeclaredField("clientState");
                stateCallback = ClientState.class.getDeclaredField("callback");
                for (Field f : new Field[] {comms, callback, state, stateCallback}) {
                    f.setAccessible(true);
                }
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                LOG.warn("{}: this Paho or JVM does not take the bridge's ReceiverCallback ({})", PAHO_QUEUE,
                        e.toString());
                comms = null;
            }
            COMMS = comms;
            CALLBACK = callback;
            STATE = state;
            STATE_CALLBACK = stateCallback;
        }

        private OnReceiver() {
        }

        /** Whether the bridge's callback can be put in place. */
        static boolean available() {
            return COMMS != null;
        }

        /**
         * Puts the bridge's callback in place of {@code client}'s own, which must not have connected yet; false when it
         * cannot (the client keeps its own).
         */
        static boolean install(MqttAsyncClient client) {
            if (!available()) {
                return false;
            }
            ReceiverCallback callback;
            ClientComms comms;
            ClientState state;
            try {
                comms = (ClientComms) COMMS.get(client);
                state = (ClientState) STATE.get(comms);
                // under another class loader than Paho's, the package-private constructor is refused here
                callback = new ReceiverCallback(comms);
            } catch (IllegalAccessException | LinkageError e) {
                if (REFUSED.compareAndSet(false, true)) {
                    LOG.warn("{}: this class path does not take the bridge's ReceiverCallback ({})", PAHO_QUEUE,
                            e.toString());
                }
                return false;
            }
            callback.setClientState(state);
            try {
                CALLBACK.set(comms, callback);
                STATE_CALLBACK.set(state, callback);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e); // both were made accessible above
            }
            return true;
        }
    }

    /**
     * The end of a QoS 2 message in the bridge. Paho 1.2.5's {@code messageArrivedComplete} sends a PUBCOMP of its own
     * at QoS 2, and it can reach the broker before the message's PUBREC: Paho's receiver hands the message to the
     * callback thread first and queues the PUBREC after. Mosquitto then closes the connection for a protocol error
     * (MqttQosIT saw it, in buffered delivery). Paho answers the broker's PUBREL with a PUBCOMP itself, so here the
     * message only leaves Paho's store of QoS 2 messages ({@code ClientComms.deliveryComplete}, which is not public:
     * reflection, checked by MqttComponentTest).
     */
    static final class Qos2 {

        private static final Field COMMS;
        private static final Method DELIVERY_COMPLETE;

        static {
            Field comms = null;
            Method complete = null;
            try {
                comms = MqttAsyncClient.class.getDeclaredField("comms");
                comms.setAccessible(true);
                complete = comms.getType().getDeclaredMethod("deliveryComplete", int.class);
                complete.setAccessible(true);
            } catch (ReflectiveOperationException | RuntimeException e) {
                LOG.warn("This Paho has no ClientComms.deliveryComplete(int) ({}): QoS 2 messages are acknowledged "
                         + "with Paho's own PUBCOMP, which can overtake the PUBREC", e.toString());
                comms = null;
                complete = null;
            }
            COMMS = comms;
            DELIVERY_COMPLETE = complete;
        }

        private Qos2() {
        }

        /** Whether this Paho's store can be reached, so the bridge sends no PUBCOMP of its own. */
        static boolean available() {
            return DELIVERY_COMPLETE != null;
        }

        static void release(MqttAsyncClient client, int id) throws MqttException {
            if (!available()) {
                client.messageArrivedComplete(id, 2);
                return;
            }
            try {
                DELIVERY_COMPLETE.invoke(COMMS.get(client), id);
            } catch (InvocationTargetException e) {
                if (e.getCause() instanceof MqttException m) {
                    throw m;
                }
                throw new IllegalStateException(e.getCause());
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}

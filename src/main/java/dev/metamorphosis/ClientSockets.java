package dev.metamorphosis;

import javax.net.SocketFactory;

/**
 * The socket factory of one MQTT client ({@link NoDelaySocketFactory}, or {@link NoDelaySslSocketFactory} for TLS),
 * which knows the output of the connection it made last: the bridge writes its QoS 1 acknowledgements there.
 */
interface ClientSockets {

    /** The output of the socket made last, or null before Paho has written to one. */
    SocketWriter writer();

    /** A factory like this one for one more MQTT client, so that {@link #writer} is that client's connection's. */
    SocketFactory forOneClient();
}

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

    /**
     * True on the thread that reads the connection made last while bytes it read ahead wait there: more of the broker's
     * packets follow at once. False on any other thread, and where nothing is read ahead (TLS).
     */
    default boolean moreBuffered() {
        return false;
    }

    /** Runs {@code hook} on the reading thread before each read from the socket of a connection made from now on. */
    default void beforeSocketRead(Runnable hook) {
    }
}

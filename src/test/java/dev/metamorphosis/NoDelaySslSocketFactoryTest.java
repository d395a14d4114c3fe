package dev.metamorphosis;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** TLS sockets for MQTT have TCP_NODELAY on, as the plain ones do. */
class NoDelaySslSocketFactoryTest {

    @Test
    void should_make_tls_sockets_with_tcp_nodelay() throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, null, null);
        try (Socket socket = new NoDelaySslSocketFactory(context).createSocket()) {
            assertThat(socket).isInstanceOf(SSLSocket.class);
            assertThat(socket.getTcpNoDelay()).isTrue();
        }
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket plain = new Socket(server.getInetAddress(), server.getLocalPort());
             Socket layered = new NoDelaySslSocketFactory(context).createSocket(plain, "localhost", 8883, true)) {
            assertThat(layered.getTcpNoDelay()).isTrue();
        }
    }
}

package dev.metamorphosis;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

import dev.metamorphosis.it.Certs;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** TLS sockets for MQTT have TCP_NODELAY on, as the plain ones do, and their output is the bridge's writer. */
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

    /**
     * As Paho 1.2.5 uses it: an unconnected socket, connected, its TLS handshake started, then its output written and
     * flushed a packet at a time. The bridge's own packets go out encrypted between two of Paho's, through the
     * writer of the factory that made the socket, and the server reads every byte in order.
     */
    @Test
    void the_bridges_own_packets_go_out_encrypted_between_pahos_on_a_tls_connection() throws Exception {
        Certs ca = Certs.create("socket-writer");
        SSLContext server = ca.context(ca.issue("server", "EC", Certs.KeyForm.PKCS8, "127.0.0.1"));
        SSLContext client = ca.context(ca.issue("client", "EC", Certs.KeyForm.PKCS8));
        byte[] connect = {0x10, 3, 'a', 'b', 'c'};
        byte[] pubacks = {0x40, 2, 0, 1, 0x40, 2, 0, 2};
        byte[] ping = {(byte) 0xc0, 0};
        int expected = connect.length + pubacks.length + ping.length;
        try (SSLServerSocket listener = (SSLServerSocket) server.getServerSocketFactory().createServerSocket(0, 1,
                InetAddress.getLoopbackAddress())) {
            listener.setNeedClientAuth(true);
            CompletableFuture<byte[]> read = CompletableFuture.supplyAsync(() -> {
                try (Socket accepted = listener.accept(); InputStream in = accepted.getInputStream()) {
                    return in.readNBytes(expected);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            NoDelaySslSocketFactory factory = (NoDelaySslSocketFactory) new NoDelaySslSocketFactory(client)
                    .forOneClient();
            try (SSLSocket socket = (SSLSocket) factory.createSocket()) {
                socket.connect(new InetSocketAddress(listener.getInetAddress(), listener.getLocalPort()), 10_000);
                socket.startHandshake();
                assertThat(socket.getTcpNoDelay()).isTrue();
                assertThat(socket.getSession().getPeerCertificates()).isNotEmpty();
                OutputStream out = socket.getOutputStream();
                assertThat(factory.writer()).as("the connection's writer").isSameAs(out);
                assertThat(factory.writer().writePackets(pubacks, pubacks.length))
                        .as("nothing of the bridge's before Paho's first packet").isFalse();
                out.write(connect, 0, 2);
                out.write(connect, 2, 3);
                out.flush();
                assertThat(factory.writer().writePackets(pubacks, pubacks.length)).isTrue();
                out.write(ping);
                out.flush();
                assertThat(read.get(30, TimeUnit.SECONDS)).containsExactly(
                        0x10, 3, 'a', 'b', 'c', 0x40, 2, 0, 1, 0x40, 2, 0, 2, 0xc0, 0);
            }
        }
    }
}

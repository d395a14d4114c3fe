package dev.metamorphosis;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class SocketWriterTest {

    private ServerSocket server;
    private Socket client;
    private Socket accepted;

    @BeforeEach
    void connect() throws IOException {
        server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
        accepted = server.accept();
    }

    @AfterEach
    void close() throws IOException {
        client.close();
        accepted.close();
        server.close();
    }

    @Test
    void every_byte_of_many_small_flushed_writes_arrives_in_order() throws Exception {
        CompletableFuture<byte[]> received = readAll(accepted.getInputStream());
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        try (SocketWriter out = new SocketWriter(client.getOutputStream(), "test")) {
            for (int i = 0; i < 100_000; i++) {
                byte[] puback = {0x40, 0x02, (byte) (i >> 8), (byte) i};
                out.write(puback);
                out.flush();
                sent.write(puback);
            }
        }
        assertThat(received.get(60, TimeUnit.SECONDS)).isEqualTo(sent.toByteArray());
    }

    @Test
    void what_was_written_but_not_flushed_goes_out_before_the_socket_closes() throws Exception {
        CompletableFuture<byte[]> received = readAll(accepted.getInputStream());
        SocketWriter out = new SocketWriter(client.getOutputStream(), "test");
        out.write(new byte[] {(byte) 0xe0, 0x00}); // a DISCONNECT, not flushed
        out.close();
        assertThat(received.get(60, TimeUnit.SECONDS)).containsExactly(0xe0, 0x00);
    }

    @Test
    void a_write_the_socket_refused_fails_a_later_write_or_flush_with_its_cause() throws Exception {
        accepted.setSoLinger(true, 0);
        accepted.close(); // a reset: the writer's next socket write fails
        SocketWriter out = new SocketWriter(client.getOutputStream(), "test");
        IOException[] thrown = new IOException[1];
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            try {
                out.write(new byte[1024]);
                out.flush();
                return false;
            } catch (IOException e) {
                thrown[0] = e;
                return true;
            }
        });
        assertThat(thrown[0]).hasMessageStartingWith("writing to the socket failed").hasCauseInstanceOf(IOException.class);
        out.close();
    }

    @Test
    void the_bridges_own_packets_wait_for_pahos_first_packet_and_never_split_one_of_its() throws Exception {
        CompletableFuture<byte[]> received = readAll(accepted.getInputStream());
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        byte[] pubacks = {0x40, 0x02, 0x00, 0x01, 0x40, 0x02, 0x00, 0x02};
        try (SocketWriter out = new SocketWriter(client.getOutputStream(), "test")) {
            assertThat(out.writePackets(pubacks, pubacks.length)).as("written before Paho's CONNECT").isFalse();
            byte[] connect = {0x10, 0x01, 0x00};
            out.write(connect);
            out.flush();
            byte[] subscribe = {(byte) 0x82, 0x03, 0x01, 0x02, 0x03};
            out.write(subscribe, 0, 2); // Paho writes a packet in two parts, then flushes
            CompletableFuture<Boolean> between = CompletableFuture.supplyAsync(() -> {
                try {
                    return out.writePackets(pubacks, pubacks.length);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> !between.isDone());
            out.write(subscribe, 2, 3);
            out.flush();
            assertThat(between.get(30, TimeUnit.SECONDS)).as("written once Paho's packet ended").isTrue();
            sent.write(connect);
            sent.write(subscribe);
            sent.write(pubacks);
        }
        assertThat(received.get(60, TimeUnit.SECONDS)).isEqualTo(sent.toByteArray());
    }

    private static CompletableFuture<byte[]> readAll(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return in.readAllBytes();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }
}

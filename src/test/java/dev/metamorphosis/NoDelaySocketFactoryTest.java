package dev.metamorphosis;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NoDelaySocketFactoryTest {

    /** A socket's input as a stream: it counts the times it is asked what it holds. */
    private static final class Counted extends ByteArrayInputStream {
        int asked;

        Counted(byte[] bytes) {
            super(bytes);
        }

        @Override
        public synchronized int available() {
            asked++;
            return super.available();
        }
    }

    @Test
    void what_is_buffered_answers_available_and_the_socket_is_asked_once_it_has_all_been_read() throws IOException {
        Counted socket = new Counted(new byte[] {1, 2, 3, 4, 5});
        InputStream in = new NoDelaySocketFactory.ReadAhead(socket);

        assertThat(in.read()).isEqualTo(1); // reads all 5 ahead
        assertThat(in.available()).isEqualTo(4);
        assertThat(in.read(new byte[3])).isEqualTo(3);
        assertThat(in.available()).isEqualTo(1);
        assertThat(socket.asked).as("the socket asked while bytes were buffered").isZero();

        assertThat(in.read()).isEqualTo(5);
        assertThat(in.available()).isZero();
        assertThat(socket.asked).isEqualTo(1);
        assertThat(in.read()).isEqualTo(-1);
    }

    @Test
    void a_closed_stream_still_refuses_available() throws IOException {
        InputStream in = new NoDelaySocketFactory.ReadAhead(new Counted(new byte[] {1, 2, 3}));
        assertThat(in.read()).isEqualTo(1);
        in.close();
        assertThatThrownBy(in::available).isInstanceOf(IOException.class);
    }

    @Test
    void the_reading_thread_runs_the_hook_before_each_socket_read_and_knows_while_more_is_buffered() throws Exception {
        List<String> hookRuns = Collections.synchronizedList(new ArrayList<>());
        NoDelaySocketFactory factory = new NoDelaySocketFactory();
        factory.beforeSocketRead(() -> hookRuns.add(Thread.currentThread().getName()));
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                Socket client = factory.createSocket(InetAddress.getLoopbackAddress(), server.getLocalPort());
                Socket broker = server.accept()) {
            OutputStream toClient = broker.getOutputStream();
            toClient.write(new byte[] {1, 2, 3}); // three one-byte "packets" in one write
            toClient.flush();
            InputStream in = client.getInputStream();

            assertThat(in.read()).isEqualTo(1);
            assertThat(hookRuns).as("before the first read").containsExactly(Thread.currentThread().getName());
            assertThat(factory.moreBuffered()).as("2 and 3 read ahead").isTrue();
            assertThat(CompletableFuture.supplyAsync(factory::moreBuffered).get(30, TimeUnit.SECONDS))
                    .as("asked on another thread").isFalse();
            assertThat(in.read(new byte[1])).isEqualTo(1);
            assertThat(factory.moreBuffered()).as("3 read ahead").isTrue();
            assertThat(in.read()).isEqualTo(3);
            assertThat(factory.moreBuffered()).as("all read").isFalse();
            assertThat(hookRuns).as("no socket read since").hasSize(1);

            toClient.write(4);
            toClient.flush();
            assertThat(in.read()).isEqualTo(4);
            assertThat(hookRuns).as("before the second read of the socket").hasSize(2);
        }
    }
}

package dev.metamorphosis;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

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
}

package org.eclipse.paho.mqttv5.common.packet.util;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

import org.eclipse.paho.mqttv5.common.packet.MqttWireMessage;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The bridge's CountingInputStream, which Paho parses received packets through: exact bytes, exact counts. */
class CountingInputStreamTest {

    private static final byte[] BYTES = bytes(10_240);

    @Test
    void should_count_each_byte_read_singly() throws IOException {
        CountingInputStream in = new CountingInputStream(new ByteArrayInputStream(BYTES, 0, 3));
        assertThat(in.read()).isEqualTo(BYTES[0] & 0xff);
        assertThat(in.read()).isEqualTo(BYTES[1] & 0xff);
        assertThat(in.getCounter()).isEqualTo(2);
    }

    @Test
    void should_count_what_a_bulk_read_returns() throws IOException {
        CountingInputStream in = new CountingInputStream(new ByteArrayInputStream(BYTES));
        byte[] into = new byte[BYTES.length + 10];
        assertThat(in.read(into, 5, 100)).isEqualTo(100);
        assertThat(in.getCounter()).isEqualTo(100);
        assertThat(in.read(into, 105, into.length - 105)).isEqualTo(BYTES.length - 100);
        assertThat(in.getCounter()).isEqualTo(BYTES.length);
        assertThat(Arrays.copyOfRange(into, 5, 5 + BYTES.length)).isEqualTo(BYTES);
        assertThat(into).startsWith(0, 0, 0, 0, 0).endsWith(0, 0, 0, 0, 0);
    }

    @Test
    void should_not_count_the_end_of_the_stream() throws IOException {
        CountingInputStream in = new CountingInputStream(new ByteArrayInputStream(BYTES, 0, 2));
        assertThat(in.read(new byte[4], 0, 4)).isEqualTo(2);
        assertThat(in.read()).isEqualTo(-1);
        assertThat(in.read(new byte[4], 0, 4)).isEqualTo(-1);
        assertThat(in.read(new byte[4])).isEqualTo(-1);
        assertThat(in.getCounter()).isEqualTo(2);
    }

    @Test
    void should_count_mixed_single_and_bulk_reads_in_order() throws IOException {
        CountingInputStream in = new CountingInputStream(new ByteArrayInputStream(BYTES));
        byte[] read = new byte[BYTES.length];
        int at = 0;
        for (int size = 1; at < read.length; size = size * 3 % 1021 + 1) {
            read[at++] = (byte) in.read();
            int n = in.read(read, at, Math.min(size, read.length - at));
            at += Math.max(n, 0);
            assertThat(in.getCounter()).isEqualTo(at);
        }
        assertThat(read).isEqualTo(BYTES);
        assertThat(in.read()).isEqualTo(-1);
        assertThat(in.getCounter()).isEqualTo(BYTES.length);
    }

    @Test
    void should_count_skipped_bytes_and_start_again_from_zero_when_reset() throws IOException {
        CountingInputStream in = new CountingInputStream(new ByteArrayInputStream(BYTES));
        assertThat(in.skip(1000)).isEqualTo(1000);
        assertThat(in.read()).isEqualTo(BYTES[1000] & 0xff);
        assertThat(in.getCounter()).isEqualTo(1001);
        assertThat(in.available()).isEqualTo(BYTES.length - 1001);
        in.resetCounter();
        assertThat(in.getCounter()).isZero();
        assertThat(in.readAllBytes()).isEqualTo(Arrays.copyOfRange(BYTES, 1001, BYTES.length));
        assertThat(in.getCounter()).isEqualTo(BYTES.length - 1001);
    }

    @Test
    void should_hand_a_payload_read_fully_to_the_wrapped_stream_in_bulk_not_a_byte_per_call() throws IOException {
        int[] singleReads = {0};
        InputStream packet = new ByteArrayInputStream(BYTES) {
            @Override
            public synchronized int read() {
                singleReads[0]++;
                return super.read();
            }
        };
        CountingInputStream in = new CountingInputStream(packet);
        DataInputStream data = new DataInputStream(in);
        byte[] payload = new byte[BYTES.length];
        data.readFully(payload);
        assertThat(payload).isEqualTo(BYTES);
        assertThat(in.getCounter()).isEqualTo(BYTES.length);
        assertThat(singleReads[0]).as("read() calls on the packet's stream").isZero();
        assertThatThrownBy(() -> data.readFully(new byte[1])).isInstanceOf(EOFException.class);
    }

    @Test
    void should_be_the_class_paho_loads_rather_than_the_one_in_the_paho_jar() throws ClassNotFoundException {
        Class<?> loaded = Class.forName(CountingInputStream.class.getName(), false,
                MqttWireMessage.class.getClassLoader());
        assertThat(loaded.getProtectionDomain().getCodeSource().getLocation())
                .isNotEqualTo(MqttWireMessage.class.getProtectionDomain().getCodeSource().getLocation());
        assertThat(loaded).isSameAs(CountingInputStream.class);
    }

    private static byte[] bytes(int size) {
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++) {
            bytes[i] = (byte) (i * 31 + i / 256);
        }
        return bytes;
    }
}

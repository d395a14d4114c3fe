package org.eclipse.paho.mqttv5.common.packet.util;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

import dev.metamorphosis.SignedPahoJvm;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttPersistable;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.MqttPublish;
import org.eclipse.paho.mqttv5.common.packet.MqttWireMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every class of Paho's {@code packet.util} package is the bridge's own, so that the package comes from one jar: a JVM
 * that honours the Paho jar's signature refuses a package split between a signed and an unsigned jar.
 */
class PahoPackageTest {

    private static final byte[] PAYLOAD = new byte[10_240];

    static {
        for (int i = 0; i < PAYLOAD.length; i++) {
            PAYLOAD[i] = (byte) (255 - i % 256);
        }
    }

    @Test
    void should_read_both_arrays_in_order_singly_and_in_bulk() throws IOException {
        byte[] a = {9, 1, 2, (byte) 0xff, 9};
        byte[] b = {9, 9, (byte) 0x80, 4, 5, 6};
        MultiByteArrayInputStream in = new MultiByteArrayInputStream(a, 1, 3, b, 2, 4);
        assertThat(in.available()).isEqualTo(7);
        assertThat(in.read()).isEqualTo(1);
        byte[] into = new byte[4];
        assertThat(in.read(into, 1, 3)).isEqualTo(3);
        assertThat(into).containsExactly(0, 2, 0xff, 0x80);
        assertThat(in.read()).isEqualTo(4);
        assertThat(in.read(into, 0, 0)).isZero();
        assertThat(in.read(into, 0, 4)).isEqualTo(2);
        assertThat(into).startsWith(5, 6);
        assertThat(in.read()).isEqualTo(-1);
        assertThat(in.read(into, 0, 4)).isEqualTo(-1);
        assertThat(in.available()).isZero();
    }

    @Test
    void should_read_bytes_as_unsigned_values() throws IOException {
        MultiByteArrayInputStream in = new MultiByteArrayInputStream(new byte[] {(byte) 0xfe}, 0, 1, new byte[0], 0, 0);
        assertThat(in.read()).isEqualTo(0xfe);
    }

    @Test
    void should_keep_a_variable_byte_integers_value_and_encoded_length() {
        assertThat(new VariableByteInteger(321, 2).getValue()).isEqualTo(321);
        assertThat(new VariableByteInteger(321, 2).getEncodedLength()).isEqualTo(2);
        assertThat(new VariableByteInteger(5).getEncodedLength()).isEqualTo(-1);
    }

    @Test
    void should_let_paho_parse_a_received_10_kib_publish_byte_for_byte() throws Exception {
        MqttPublish received = (MqttPublish) MqttWireMessage.createWireMessage(packet(publish()));
        assertThat(received.getTopicName()).isEqualTo("a/b");
        assertThat(received.getMessageId()).isEqualTo(3);
        assertThat(received.getMessage().getPayload()).isEqualTo(PAYLOAD);
    }

    @Test
    void should_let_paho_read_back_a_stored_10_kib_publish_byte_for_byte() throws Exception {
        assertThat(storedAndReadBack().getMessage().getPayload()).isEqualTo(PAYLOAD);
    }

    @Test
    void should_parse_publishes_in_a_jvm_that_honours_the_paho_jars_signature(@TempDir Path dir) throws Exception {
        assertThat(SignedPahoJvm.run(dir, PahoPackageTest.class, CountingInputStream.class, PahoPackageTest.class,
                MqttWireMessage.class)).isEqualTo("Paho signed: true, payloads equal: true, true\n");
    }

    /** In a JVM of its own: whether Paho's classes are signed there, and whether it parses publishes whole. */
    public static void main(String[] args) throws Exception {
        boolean signed = MqttWireMessage.class.getSigners() != null;
        boolean received = Arrays.equals(((MqttPublish) MqttWireMessage.createWireMessage(packet(publish())))
                .getMessage().getPayload(), PAYLOAD);
        boolean stored = Arrays.equals(storedAndReadBack().getMessage().getPayload(), PAYLOAD);
        System.out.println("Paho signed: " + signed + ", payloads equal: " + received + ", " + stored);
    }

    private static MqttPublish publish() throws Exception {
        MqttMessage message = new MqttMessage(PAYLOAD);
        message.setQos(1);
        MqttPublish publish = new MqttPublish("a/b", message, new MqttProperties());
        publish.setMessageId(3);
        return publish;
    }

    private static byte[] packet(MqttPublish publish) throws Exception {
        byte[] header = publish.getHeader();
        byte[] packet = Arrays.copyOf(header, header.length + publish.getPayload().length);
        System.arraycopy(publish.getPayload(), 0, packet, header.length, publish.getPayload().length);
        return packet;
    }

    private static MqttPublish storedAndReadBack() throws Exception {
        return (MqttPublish) MqttWireMessage.createWireMessage((MqttPersistable) publish());
    }
}

package dev.metamorphosis;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.producer.ProducerInterceptor;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;

/**
 * MQTT 5 user properties as Kafka headers, in order, repeated names kept.
 * <p>
 * A Camel message holds its headers in a map, one value a name, and camel-kafka makes a record's headers from that
 * map: two user properties of the same name could not both get through. So they travel as one header,
 * {@value #CARRIER}, their names and values encoded in order, and this producer interceptor (set on the Kafka
 * component by {@link Settings}) replaces it by one record header each as the record is sent.
 */
public final class UserProperties implements ProducerInterceptor<Object, Object> {

    static final String CARRIER = "metamorphosis-mqtt-user-properties";

    /** The carrier's value: count, then each name and value as length and UTF-8 bytes. */
    static byte[] encode(List<UserProperty> properties) {
        byte[][] parts = new byte[properties.size() * 2][];
        int size = 4;
        for (int i = 0; i < properties.size(); i++) {
            parts[2 * i] = properties.get(i).getKey().getBytes(StandardCharsets.UTF_8);
            parts[2 * i + 1] = properties.get(i).getValue().getBytes(StandardCharsets.UTF_8);
            size += 8 + parts[2 * i].length + parts[2 * i + 1].length;
        }
        ByteBuffer out = ByteBuffer.allocate(size).putInt(properties.size());
        for (byte[] part : parts) {
            out.putInt(part.length).put(part);
        }
        return out.array();
    }

    @Override
    public ProducerRecord<Object, Object> onSend(ProducerRecord<Object, Object> record) {
        Header carrier = record.headers().lastHeader(CARRIER);
        if (carrier == null) {
            return record;
        }
        record.headers().remove(CARRIER);
        ByteBuffer in = ByteBuffer.wrap(carrier.value());
        for (int n = in.getInt(); n > 0; n--) {
            String name = new String(bytes(in), StandardCharsets.UTF_8);
            record.headers().add(name, bytes(in));
        }
        return record;
    }

    private static byte[] bytes(ByteBuffer in) {
        byte[] b = new byte[in.getInt()];
        in.get(b);
        return b;
    }

    @Override
    public void onAcknowledgement(RecordMetadata metadata, Exception exception) {
        // nothing to do
    }

    @Override
    public void close() {
        // nothing held
    }

    @Override
    public void configure(Map<String, ?> configs) {
        // no settings
    }
}

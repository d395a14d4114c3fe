package dev.metamorphosis;

import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

/** The Paho internals the bridge's consumer relies on are there in the Paho it ships with. */
class MqttComponentTest {

    @Test
    void should_end_a_qos2_message_in_pahos_store_without_a_pubcomp_of_its_own() throws Exception {
        assertThat(MqttComponent.Qos2.available()).as("ClientComms.deliveryComplete(int) reachable").isTrue();
        MqttAsyncClient client = new MqttAsyncClient("tcp://127.0.0.1:1", "qos2-test", new MemoryPersistence());
        try {
            assertThatCode(() -> MqttComponent.Qos2.release(client, 7)).doesNotThrowAnyException();
        } finally {
            client.close(true);
        }
    }
}

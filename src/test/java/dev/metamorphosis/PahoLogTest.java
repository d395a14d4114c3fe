package dev.metamorphosis;

import java.io.StringWriter;
import java.util.ResourceBundle;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Logger;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.eclipse.paho.mqttv5.client.logging.LoggerFactory;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class PahoLogTest {

    @Test
    void paho_logs_through_the_bridge_once_the_mqtt_component_is_loaded() throws Exception {
        Class.forName(MqttComponent.class.getName());
        assertThat(LoggerFactory.getLogger(LoggerFactory.MQTT_CLIENT_MSG_CAT, "PahoLogTest"))
                .isInstanceOf(PahoLog.class);
    }

    @Test
    void should_write_what_paho_logs_as_severe_as_one_warn_line_naming_the_client_and_the_cause_and_drop_its_trace() {
        StringWriter out = new StringWriter();
        Logger paho = (Logger) LogManager.getLogger("paho");
        WriterAppender appender = WriterAppender.newBuilder().setName("paho-log-test").setTarget(out)
                .setLayout(PatternLayout.newBuilder().withPattern("%level [%c] %msg%n").build()).build();
        appender.start();
        paho.addAppender(appender);
        try {
            PahoLog log = new PahoLog();
            log.initialise(ResourceBundle.getBundle(LoggerFactory.MQTT_CLIENT_MSG_CAT), "CommsSender", null);
            log.setResourceName("client-1");
            // what Paho 1.2.5's sender logged, with a stack trace, after a failed TLS connect (SecurityFailuresIT)
            log.severe("CommsSender", "handleRunException", "804", null, new MqttException(32109,
                    new NullPointerException("Cannot invoke \"java.util.Vector.isEmpty()\"")));
            log.fine("CommsSender", "run", "802", new Object[] {"PUBACK"});
            log.info("ClientComms", "connect", "214", null, new IllegalStateException("not written"));
            assertThat(out.toString()).isEqualTo("WARN [paho] client-1: exception: NullPointerException: Cannot invoke "
                                                 + "\"java.util.Vector.isEmpty()\"" + System.lineSeparator());
        } finally {
            paho.removeAppender(appender);
            appender.stop();
        }
    }
}

package org.eclipse.paho.mqttv5.client.logging;

import java.nio.file.Path;
import java.util.MissingResourceException;

import dev.metamorphosis.PahoLog;
import dev.metamorphosis.SignedPahoJvm;
import org.eclipse.paho.mqttv5.client.MqttToken;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The bridge's own {@code LoggerFactory}, loaded in place of Paho's: a new logger for each caller, as Paho's makes,
 * with Paho's catalog; of the class {@code setLogger} names; Paho's exception for a class or catalog not there; and
 * the whole package from one jar where the Paho jar's signature counts. (That it looks the catalog and the class up
 * once is a matter of speed: docs/performance.md, "Paho's loggers".)
 */
class LoggerFactoryTest {

    @AfterEach
    void bridgesLogger() {
        LoggerFactory.setLogger(null);
    }

    @Test
    void should_make_a_new_bridge_logger_for_each_caller_with_pahos_catalog() {
        Logger first = LoggerFactory.getLogger(LoggerFactory.MQTT_CLIENT_MSG_CAT, "a");
        Logger second = LoggerFactory.getLogger(LoggerFactory.MQTT_CLIENT_MSG_CAT, "b");
        assertThat(first).isInstanceOf(PahoLog.class).isNotSameAs(second);
        assertThat(second).isInstanceOf(PahoLog.class);
        // key 101 of Paho's catalog, "<init> ClientID={0} ServerURI={1} PersistenceType={2}"
        assertThat(second.formatMessage("101", new Object[] {"c", "tcp://h:1883", "memory"}))
                .isEqualTo("<init> ClientID=c ServerURI=tcp://h:1883 PersistenceType=memory");
    }

    @Test
    void should_make_loggers_of_the_class_set_and_of_the_bridges_again_once_unset() {
        // Paho's own default, from the Paho jar (whose signature this JVM ignores)
        LoggerFactory.setLogger("org.eclipse.paho.mqttv5.client.logging.JSR47Logger");
        assertThat(LoggerFactory.getLogger(LoggerFactory.MQTT_CLIENT_MSG_CAT, "a").getClass().getName())
                .isEqualTo("org.eclipse.paho.mqttv5.client.logging.JSR47Logger");
        LoggerFactory.setLogger(null);
        assertThat(LoggerFactory.getLogger(LoggerFactory.MQTT_CLIENT_MSG_CAT, "a")).isInstanceOf(PahoLog.class);
    }

    @Test
    void should_refuse_a_logger_class_or_catalog_that_is_not_there_as_paho_does() {
        LoggerFactory.setLogger("no.such.Logger");
        assertThatThrownBy(() -> LoggerFactory.getLogger(LoggerFactory.MQTT_CLIENT_MSG_CAT, "a"))
                .isInstanceOf(MissingResourceException.class).hasMessageContaining("no.such.Logger");
        LoggerFactory.setLogger(null);
        assertThatThrownBy(() -> LoggerFactory.getLogger("no.such.catalog", "a"))
                .isInstanceOf(MissingResourceException.class);
    }

    @Test
    void should_let_paho_make_its_tokens_in_a_jvm_that_honours_the_paho_jars_signature(@TempDir Path dir)
            throws Exception {
        assertThat(SignedPahoJvm.run(dir, LoggerFactoryTest.class, LoggerFactory.class, LoggerFactoryTest.class,
                MqttToken.class, org.slf4j.Logger.class))
                .isEqualTo("Paho signed: true, tokens made, logger: PahoLog, factory the bridge's: true\n");
    }

    /** In a JVM of its own: whether Paho's classes are signed there, and whether Paho makes tokens (each a logger). */
    public static void main(String[] args) throws Exception {
        boolean signed = MqttToken.class.getSigners() != null;
        // each token makes a logger: with the package split between two jars, the first throws a SecurityException
        new MqttToken("a");
        new MqttToken("b");
        String logger = LoggerFactory.getLogger(LoggerFactory.MQTT_CLIENT_MSG_CAT, "c").getClass().getSimpleName();
        boolean ours = SignedPahoJvm.location(LoggerFactory.class)
                .equals(SignedPahoJvm.location(PahoLog.class));
        System.out.println("Paho signed: " + signed + ", tokens made, logger: " + logger
                           + ", factory the bridge's: " + ours);
    }
}

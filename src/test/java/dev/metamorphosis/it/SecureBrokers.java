package dev.metamorphosis.it;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

import com.hivemq.embedded.EmbeddedExtension;
import com.hivemq.extension.sdk.api.ExtensionMain;
import com.hivemq.extension.sdk.api.auth.SimpleAuthenticator;
import com.hivemq.extension.sdk.api.packets.connect.ConnackReasonCode;
import com.hivemq.extension.sdk.api.parameter.ExtensionStartInput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStartOutput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStopInput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStopOutput;
import com.hivemq.extension.sdk.api.services.Services;

/**
 * The test CA and the brokers of the security tests, made on first use and stopped when the JVM ends. The MQTT broker
 * has TLS listeners {@code mtls} (client certificate required), {@code tls} (server certificate only),
 * {@code expired} and {@code wrong-host} (certificates expired, and made out to another host), and checks the
 * password of clients that give a user name. The Kafka broker has the same four TLS listeners and {@code SASL_SSL} and
 * {@code SASL_PLAINTEXT} listeners taking PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512. Every server certificate but the
 * wrong host's is made out to 127.0.0.1 and localhost. Both keep their plain listeners for the tests' own clients.
 */
public final class SecureBrokers {

    /** User name the MQTT and Kafka brokers know. */
    public static final String USER = "bridge";
    /** Random parts of the passwords, new on every run so a test can look for them in logs. */
    public static final String MQTT_SECRET = UUID.randomUUID().toString();
    public static final String KAFKA_SECRET = UUID.randomUUID().toString();
    /** Passwords with the characters that quoting, placeholders and shells get wrong. */
    public static final String MQTT_PASSWORD = "mqtt {{pw}} \"q\" \\ $x; " + MQTT_SECRET;
    public static final String KAFKA_PASSWORD = "kafka {{pw}} \"q\" \\ $x; " + KAFKA_SECRET;

    private static Certs certs;
    private static Certs.Identity server;
    private static final Map<String, String> STORES = new LinkedHashMap<>();
    private static final Map<String, Integer> MQTT_PORTS = new LinkedHashMap<>();
    private static MqttBroker mqtt;
    private static KafkaBroker kafka;

    private SecureBrokers() {
    }

    /** The CA that signs every broker certificate. */
    public static synchronized Certs certs() {
        if (certs == null) {
            certs = Certs.create("secure");
            server = certs.issue("server", "RSA", Certs.KeyForm.PKCS8, "127.0.0.1", "localhost");
            STORES.put("mtls", certs.keyStore(server).toString());
            STORES.put("tls", STORES.get("mtls"));
            STORES.put("expired", certs.keyStore(certs.expired("server-expired", "EC", "127.0.0.1", "localhost"))
                    .toString());
            STORES.put("wrong-host", certs.keyStore(certs.issue("server-wrong-host", "EC", Certs.KeyForm.PKCS8,
                    "wrong.example.invalid")).toString());
        }
        return certs;
    }

    /** The key store of each TLS listener, by listener name. */
    private static Map<String, String> serverStores() {
        certs();
        return STORES;
    }

    public static synchronized MqttBroker mqtt() {
        if (mqtt == null) {
            StringBuilder listeners = new StringBuilder();
            serverStores().forEach((name, store) -> {
                MQTT_PORTS.put(name, Ports.free());
                boolean mutual = name.equals("mtls");
                listeners.append("""
                        <tls-tcp-listener>
                            <port>%d</port>
                            <bind-address>127.0.0.1</bind-address>
                            <name>%s</name>
                            <tls>
                                <keystore>
                                    <path>%s</path>
                                    <password>%s</password>
                                    <private-key-password>%s</private-key-password>
                                </keystore>
                                %s
                                <client-authentication-mode>%s</client-authentication-mode>
                            </tls>
                        </tls-tcp-listener>
                        """.formatted(MQTT_PORTS.get(name), name, store, Certs.STORE_PASSWORD, Certs.STORE_PASSWORD,
                        mutual ? "<truststore><path>%s</path><password>%s</password></truststore>"
                                .formatted(certs().trustStore(), Certs.STORE_PASSWORD) : "",
                        mutual ? "REQUIRED" : "NONE"));
            });
            mqtt = MqttBroker.start("secure", false, listeners.toString(), passwordCheck());
            Runtime.getRuntime().addShutdownHook(new Thread(mqtt::close));
        }
        return mqtt;
    }

    /** The port of an MQTT TLS listener: mtls, tls, expired or wrong-host. */
    public static int mqttPort(String listener) {
        mqtt();
        return MQTT_PORTS.get(listener);
    }

    /** Clients without a user name pass (the tests' publishers); with one, it must be {@link #USER} and password. */
    private static EmbeddedExtension passwordCheck() {
        SimpleAuthenticator check = (input, output) -> {
            var connect = input.getConnectPacket();
            if (connect.getUserName().isEmpty()) {
                output.authenticateSuccessfully();
                return;
            }
            String password = connect.getPassword().map(b -> StandardCharsets.UTF_8.decode(b).toString()).orElse("");
            if (connect.getUserName().get().equals(USER) && password.equals(MQTT_PASSWORD)) {
                output.authenticateSuccessfully();
            } else {
                output.failAuthentication(ConnackReasonCode.BAD_USER_NAME_OR_PASSWORD, "bad user name or password");
            }
        };
        return EmbeddedExtension.builder().withId("password-check").withName("password check").withVersion("1")
                .withAuthor("metamorphosis tests").withPriority(0).withStartPriority(0)
                .withExtensionMain(new ExtensionMain() {
                    @Override
                    public void extensionStart(ExtensionStartInput in, ExtensionStartOutput out) {
                        Services.securityRegistry().setAuthenticatorProvider(provider -> check);
                    }

                    @Override
                    public void extensionStop(ExtensionStopInput in, ExtensionStopOutput out) {
                        // nothing to release
                    }
                }).build();
    }

    public static synchronized KafkaBroker kafka() {
        if (kafka == null) {
            Map<String, String> listeners = new LinkedHashMap<>();
            Map<String, String> extra = new HashMap<>();
            serverStores().forEach((name, store) -> {
                String listener = name.replace("-", "_").toUpperCase();
                listeners.put(listener, "SSL");
                keyStore(extra, listener, store);
            });
            extra.put("listener.name.mtls.ssl.truststore.location", certs().trustStore().toString());
            extra.put("listener.name.mtls.ssl.truststore.type", "PKCS12");
            extra.put("listener.name.mtls.ssl.truststore.password", Certs.STORE_PASSWORD);
            extra.put("listener.name.mtls.ssl.client.auth", "required");
            for (String sasl : new String[] {"SASL_SSL", "SASL_PLAINTEXT"}) {
                listeners.put(sasl, sasl);
                String prefix = "listener.name." + sasl.toLowerCase() + ".";
                extra.put(prefix + "sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512");
                extra.put(prefix + "plain.sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule "
                        + "required user_" + USER + "=\"" + KAFKA_PASSWORD.replace("\\", "\\\\").replace("\"", "\\\"")
                        + "\";");
                for (String scram : new String[] {"scram-sha-256", "scram-sha-512"}) {
                    extra.put(prefix + scram + ".sasl.jaas.config",
                            "org.apache.kafka.common.security.scram.ScramLoginModule required;");
                }
            }
            keyStore(extra, "SASL_SSL", STORES.get("tls"));
            kafka = KafkaBroker.start("secure", extra, listeners);
            Runtime.getRuntime().addShutdownHook(new Thread(kafka::close));
            kafka.addScramUser("SCRAM-SHA-256", USER, KAFKA_PASSWORD);
            kafka.addScramUser("SCRAM-SHA-512", USER, KAFKA_PASSWORD);
        }
        return kafka;
    }

    private static void keyStore(Map<String, String> extra, String listener, String store) {
        String prefix = "listener.name." + listener.toLowerCase() + ".";
        extra.put(prefix + "ssl.keystore.location", store);
        extra.put(prefix + "ssl.keystore.type", "PKCS12");
        extra.put(prefix + "ssl.keystore.password", Certs.STORE_PASSWORD);
        extra.put(prefix + "ssl.key.password", Certs.STORE_PASSWORD);
    }

    /** host:port of a Kafka listener: MTLS, TLS, EXPIRED, WRONG_HOST, SASL_SSL or SASL_PLAINTEXT. */
    public static String kafka(String listener) {
        return "127.0.0.1:" + kafka().port(listener);
    }
}

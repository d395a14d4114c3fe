package dev.metamorphosis;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;
import java.util.regex.Pattern;

import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;
import org.apache.camel.component.kafka.KafkaComponent;
import org.apache.camel.component.seda.SedaComponent;
import org.apache.camel.component.paho.mqtt5.PahoMqtt5Component;
import org.slf4j.LoggerFactory;

/**
 * Every setting of the bridge, by the Go version's environment variable, with its default and its check.
 * <p>
 * A setting {@code MQTT_BROKER} is the property {@code mqtt.broker} and the flag {@code -mqtt-broker}. As a
 * {@link CamelConfiguration} (named in {@code application.properties}) it checks the settings Camel sees, fills
 * in defaults and publishes the values the routes use but no user sets, under {@code derived.*}. It also binds the
 * MQTT socket factory ({@code mqttSocketFactory}, with TLS from the PEM files when {@code MQTT_TLS} is true) and sets
 * the MQTT and Kafka credentials on their components.
 */
public final class Settings implements CamelConfiguration {

    /** Turns a raw value into the value the routes see, or throws with the reason it is wrong. */
    @FunctionalInterface
    interface Check {
        String apply(String value);
    }

    /** One setting: its environment variable, default ({@code null} = required) and check. */
    record Setting(String env, String defaultValue, Check check, String help) {
        String key() {
            return env.toLowerCase(Locale.ROOT).replace('_', '.');
        }

        String flag() {
            return "-" + env.toLowerCase(Locale.ROOT).replace('_', '-');
        }

        boolean required() {
            return defaultValue == null;
        }
    }

    /** A setting that is missing or does not parse. The message is the one line a user sees. */
    public static final class Invalid extends RuntimeException {
        Invalid(String message) {
            super(message, null, false, false);
        }
    }

    static final String DERIVED = "derived.";

    private static final Pattern KAFKA_TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,249}");
    private static final Pattern HOST = Pattern.compile("[^\\s,/]+");

    static final List<Setting> ALL = List.of(
            new Setting("LOG_LEVEL", "info", oneOf("trace", "debug", "info", "warn", "error", "fatal"),
                    "log level: trace, debug, info, warn, error or fatal"),
            new Setting("LOG_FORMAT", "text", oneOf("text", "json"),
                    "log lines as text, or json: one JSON object per line (Elastic Common Schema)"),
            new Setting("MQTT_BROKER", null, host(), "MQTT broker host name"),
            new Setting("MQTT_PORT", "8883", port(), "MQTT broker port"),
            new Setting("MQTT_TLS", "true", bool(), "true: ssl://, false: tcp://"),
            new Setting("ROOT_CA", "", any(),
                    "PEM file of the CA that signs the MQTT broker's certificate; empty: the JVM's trust store"),
            new Setting("MQTT_CLIENT_CERT", "", any(),
                    "PEM file of the MQTT client certificate (with MQTT_CLIENT_KEY)"),
            new Setting("MQTT_CLIENT_KEY", "", any(), "PEM file of the MQTT client key: PKCS#8, PKCS#1 RSA or EC"),
            new Setting("MQTT_TLS_VERIFY_HOSTNAME", "true", bool(),
                    "false: accept an MQTT broker certificate made out to another host (warned at start-up)"),
            new Setting("MQTT_USERNAME", "", any(), "MQTT user name; empty: none"),
            new Setting("MQTT_PASSWORD", "", any(), "MQTT password (with MQTT_USERNAME)"),
            new Setting("MQTT_TOPIC", null, filters(), "comma-separated MQTT topic filters"),
            new Setting("MQTT_CLIENT_ID", "", any(),
                    "MQTT client id; empty: the short host name; %h is replaced by the short host name"),
            new Setting("MQTT_QOS", "1", oneOf("0", "1", "2"), "QoS of the subscriptions: 0, 1 or 2"),
            new Setting("MQTT_SHARED_GROUP", "", shareName(),
                    "shared subscription group: each filter is subscribed as $share/<group>/<filter>, so the bridges "
                    + "of one group split the messages; empty: no sharing"),
            new Setting("MQTT_RECEIVE_MAXIMUM", "", between(1, 65535),
                    "QoS 1 and 2 messages the broker may send before their acknowledgements; empty: 65535 with "
                    + "DELIVERY=durable, else KAFKA_MAX_BATCH_SIZE or 2 x KAFKA_BATCH_SIZE, whichever is larger"),
            new Setting("KAFKA_BROKER", null, hosts(), "Kafka host, or comma-separated host[:port] list"),
            new Setting("KAFKA_PORT", "9092", port(), "Kafka port for hosts given without one"),
            new Setting("KAFKA_TLS", "false", bool(), "true: TLS to Kafka"),
            new Setting("KAFKA_ROOT_CA", "", any(),
                    "PEM file of the CA that signs the Kafka brokers' certificates; empty: the JVM's trust store"),
            new Setting("KAFKA_CLIENT_CERT", "", any(),
                    "PEM file of the Kafka client certificate (with KAFKA_CLIENT_KEY)"),
            new Setting("KAFKA_CLIENT_KEY", "", any(), "PEM file of the Kafka client key: PKCS#8, PKCS#1 RSA or EC"),
            new Setting("KAFKA_SASL_MECHANISM", "", oneOf("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"),
                    "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; empty: no SASL"),
            new Setting("KAFKA_USERNAME", "", any(), "Kafka SASL user name"),
            new Setting("KAFKA_PASSWORD", "", any(), "Kafka SASL password"),
            new Setting("KAFKA_TOPIC", null, kafkaTopic(false), "Kafka topic the envelopes are written to"),
            new Setting("KAFKA_BATCH_SIZE", "1000", atLeast(1), "envelopes per batch: a full batch is written at once"),
            new Setting("KAFKA_MAX_BATCH_SIZE", "8000", atLeast(1), "largest batch when writing a backlog"),
            new Setting("KAFKA_INTERVAL", "5", atLeast(1), "seconds: a batch is written at least this often"),
            new Setting("KAFKA_RETRY_INTERVAL", "3", atLeast(1), "seconds between retries while Kafka fails"),
            new Setting("KAFKA_TEST_TOPIC", "", kafkaTopic(true),
                    "topic of the start-up probe record; empty: no probe"),
            new Setting("KAFKA_TOPIC_PARTITIONS", "-1", brokerDefaultOrAtLeast1(),
                    "partitions of a topic the bridge creates; -1: the broker's default"),
            new Setting("KAFKA_TOPIC_REPLICATION", "-1", brokerDefaultOrAtLeast1(),
                    "replication factor of a topic the bridge creates; -1: the broker's default"),
            new Setting("KAFKA_KEY", "none", oneOf("none", "topic"),
                    "record key: none, as the Go version, or topic: the MQTT topic, so each topic keeps to one "
                    + "partition and its order"),
            new Setting("TOPIC_MAP", "", any(),
                    "YAML file of rules from MQTT topic filters to Kafka topics, keys, formats and headers, absolute "
                    + "or relative to CONFIG_DIR; empty: every message to KAFKA_TOPIC"),
            new Setting("KAFKA_COMPRESSION", "none", oneOf("none", "gzip", "snappy", "lz4", "zstd"),
                    "compression of the batches Kafka gets: none, gzip, snappy, lz4 or zstd"),
            new Setting("HEALTH_PORT", "8080", port(), "HTTP port of /healthz and /metrics"),
            new Setting("DELIVERY", "durable", oneOf("durable", "at-least-once", "buffered"),
                    "durable: acknowledge MQTT once the message is synced to the spool on disk (SPOOL_DIR); "
                    + "at-least-once: once Kafka has it; buffered: on arrival, spooled in memory"),
            new Setting("MQTT_SESSION_EXPIRY", "86400", atLeast(0),
                    "seconds the MQTT broker keeps the session (and queues messages) while the bridge is away"),
            new Setting("SPOOL_DIR", "spool", any(),
                    "folder of the spool on disk (DELIVERY=durable), relative to the working directory or absolute"),
            new Setting("SPOOL_MAX_MESSAGES", "100000", atLeast(1),
                    "most messages received and not yet in Kafka, in memory (DELIVERY=durable: most read ahead "
                    + "from disk for Kafka, at most 2 x KAFKA_MAX_BATCH_SIZE)"),
            new Setting("SPOOL_MAX_BYTES", "", atLeastLong(1),
                    "most bytes received and not yet in Kafka; empty: 4294967296 (4 GiB) on disk with "
                    + "DELIVERY=durable, 67108864 (64 MiB) of envelopes in memory otherwise"),
            new Setting("SPOOL_OVERFLOW", "block", oneOf("block", "drop-oldest", "drop-newest"),
                    "when the spool is full: block (MQTT waits), drop-oldest (buffered only) or drop-newest "
                    + "(buffered and durable)"),
            new Setting("SHUTDOWN_TIMEOUT", "20", atLeast(0),
                    "seconds to write the spool to Kafka on SIGTERM before stopping"),
            new Setting("DEAD_LETTER_TOPIC", "", kafkaTopic(true),
                    "topic for messages Kafka refuses for good; empty: they are dropped (and counted)"),
            new Setting("CONFIG_DIR", "", any(),
                    "folder with application.properties and the route files; empty: the working directory"));

    @Override
    public void configure(CamelContext context) {
        var properties = context.getPropertiesComponent();
        Map<String, String> resolved = resolve(key -> properties.resolveProperty(key).orElse(null));
        Properties overrides = ((org.apache.camel.component.properties.PropertiesComponent) properties)
                .getOverrideProperties();
        if (overrides == null) {
            overrides = new Properties();
        }
        overrides.putAll(resolved);
        properties.setOverrideProperties(overrides);

        boolean tls = Boolean.parseBoolean(resolved.get("mqtt.tls"));
        context.getRegistry().bind("mqttSocketFactory",
                tls ? new NoDelaySslSocketFactory(Tls.mqtt(resolved)) : new NoDelaySocketFactory());
        // credentials go straight to the components: Camel logs placeholders as it resolves them, and its property
        // binding resolves a value again (a password with "{{" in it) and puts the value in its error message
        var mqtt = context.getComponent("paho-mqtt5", PahoMqtt5Component.class).getConfiguration();
        mqtt.setUserName(resolved.get("mqtt.username"));
        mqtt.setPassword(resolved.get("mqtt.password"));
        // the spool's queue holds each envelope in a compact form, not as an exchange (a third of the heap a message);
        // set here, not in application.properties, so a configuration folder of an older version cannot leave it out
        context.getComponent("seda", SedaComponent.class).setDefaultQueueFactory(new SpoolQueue.Factory());
        // Kafka's producers keep the results of a failed write, so its retry (Redelivery) leaves out every record Kafka
        // took; set here for the same reason
        var kafkaComponent = context.getComponent("kafka", KafkaComponent.class);
        kafkaComponent.setKafkaClientFactory(new KafkaClients());
        var kafka = kafkaComponent.getConfiguration();
        kafka.setSaslJaasConfig(jaasConfig(resolved));
        // MQTT 5 user properties become record headers in order, repeated names kept; the class itself, not its name
        kafka.getAdditionalProperties().put("interceptor.classes", List.of(UserProperties.class));
        if (Boolean.parseBoolean(resolved.get("kafka.tls"))) {
            // TLS from the PEM files of KAFKA_ROOT_CA, KAFKA_CLIENT_CERT and KAFKA_CLIENT_KEY (any key form); the
            // class itself, not its name, which Kafka's class loader cannot see under camel run
            kafka.getAdditionalProperties().put("ssl.engine.factory.class", KafkaSslEngineFactory.class);
        }
        if (tls && !Boolean.parseBoolean(resolved.get("mqtt.tls.verify.hostname"))) {
            LoggerFactory.getLogger("mqtt").warn("MQTT_TLS_VERIFY_HOSTNAME=false: the MQTT broker's certificate is "
                    + "not checked against the host name {}; any certificate the CA signed is taken",
                    resolved.get("mqtt.broker"));
        }
    }

    /**
     * Checks every setting, looked up by property key, and returns the value of each (defaults filled in) plus
     * the derived values under {@code derived.*}.
     *
     * @throws Invalid naming the first setting that is missing or wrong
     */
    public static Map<String, String> resolve(Function<String, String> lookup) {
        Map<String, String> values = new LinkedHashMap<>();
        for (Setting s : ALL) {
            String raw = lookup.apply(s.key());
            if (raw == null || raw.isEmpty()) {
                if (s.required()) {
                    throw new Invalid(s.env() + " is required (" + s.help() + "); set it in the environment, "
                            + "with " + s.flag() + " or as " + s.key() + " in application.properties");
                }
                raw = s.defaultValue();
            }
            try {
                values.put(s.key(), raw.isEmpty() ? raw : s.check().apply(raw));
            } catch (IllegalArgumentException e) {
                throw new Invalid(s.env() + "=" + quote(raw) + " is not valid: " + e.getMessage());
            }
        }
        if (values.get("delivery").equals("at-least-once") && values.get("spool.overflow").startsWith("drop")) {
            throw new Invalid("SPOOL_OVERFLOW=" + values.get("spool.overflow") + " drops messages, which "
                    + "DELIVERY=at-least-once never does: use SPOOL_OVERFLOW=block or DELIVERY=buffered");
        }
        boolean durable = values.get("delivery").equals("durable");
        if (durable && values.get("spool.overflow").equals("drop-oldest")) {
            throw new Invalid("SPOOL_OVERFLOW=drop-oldest does not go with DELIVERY=durable, whose records leave the "
                    + "disk only once Kafka has them: use SPOOL_OVERFLOW=block or drop-newest");
        }
        if (durable) {
            spoolDir(values.get("spool.dir"));
        }
        String topicMap = values.get("topic.map");
        if (!topicMap.isEmpty()) {
            Path file = configDir(values.get("config.dir")).resolve(topicMap).toAbsolutePath().normalize();
            TopicMap.load(topicMap, file); // checked now: a bad map stops start-up, naming the rule and line
            values.put(DERIVED + "topic-map", file.toString());
        } else {
            values.put(DERIVED + "topic-map", "");
        }
        security(values);
        String host = shortHostName();
        String broker = values.get("mqtt.broker");
        values.put(DERIVED + "mqtt.url", (Boolean.parseBoolean(values.get("mqtt.tls")) ? "ssl" : "tcp") + "://"
                + (broker.contains(":") && !broker.startsWith("[") ? "[" + broker + "]" : broker)
                + ":" + values.get("mqtt.port"));
        String group = values.get("mqtt.shared.group");
        List<String> filters = new ArrayList<>();
        for (String filter : split(values.get("mqtt.topic"))) {
            if (!group.isEmpty() && filter.startsWith("$share/")) {
                throw new Invalid("MQTT_TOPIC filter " + filter + " is a shared subscription already and "
                        + "MQTT_SHARED_GROUP=" + group + " would share it again: drop one of them");
            }
            filters.add(group.isEmpty() ? filter : "$share/" + group + "/" + filter);
        }
        values.put(DERIVED + "mqtt.filters", String.join(",", filters));
        String receiveMaximum = values.get("mqtt.receive.maximum");
        // durable: the most MQTT allows, so the broker goes on sending through a slow sync of the disk (a second or
        // more on a busy machine) instead of queueing, and dropping past its own limit; else sized to the batch
        values.put(DERIVED + "mqtt.receive-maximum", !receiveMaximum.isEmpty() ? receiveMaximum
                : durable ? "65535" : Integer.toString(Math.min(65535, Math.max(Integer.parseInt(
                        values.get("kafka.max.batch.size")), 2 * Integer.parseInt(values.get("kafka.batch.size"))))));
        String clientId = values.get("mqtt.client.id");
        values.put(DERIVED + "mqtt.client-id", clientId.isEmpty() ? host : clientId.replace("%h", host));
        List<String> brokers = new ArrayList<>();
        for (String b : values.get("kafka.broker").split(",")) {
            brokers.add(hasPort(b) ? b : b + ":" + values.get("kafka.port"));
        }
        values.put(DERIVED + "kafka.brokers", String.join(",", brokers));
        String mechanism = values.get("kafka.sasl.mechanism");
        values.put(DERIVED + "kafka.security-protocol", (mechanism.isEmpty() ? "" : "SASL_")
                + (Boolean.parseBoolean(values.get("kafka.tls")) ? "SSL" : "PLAINTEXT"));
        return values;
    }

    /** The folder of CONFIG_DIR, the working directory when it is empty. */
    static Path configDir(String setting) {
        return setting == null || setting.isEmpty() ? Path.of("").toAbsolutePath() : Path.of(setting).toAbsolutePath();
    }

    /** Bytes a spool folder needs free at start-up. */
    static final long SPOOL_MIN_FREE = 8L << 20;

    /**
     * The durable spool's folder, made if only its last level is missing, checked for a write and for free space.
     *
     * @throws Invalid naming SPOOL_DIR and what is wrong with it
     */
    static Path spoolDir(String setting) {
        Path dir = Path.of(setting).toAbsolutePath().normalize();
        String named = "SPOOL_DIR=" + quote(setting) + " (" + dir + ")";
        try {
            if (!Files.exists(dir)) {
                if (dir.getParent() == null || !Files.isDirectory(dir.getParent())) {
                    throw new Invalid(named + " does not exist, nor does the folder it would be made in");
                }
                Files.createDirectory(dir);
            }
            if (!Files.isDirectory(dir)) {
                throw new Invalid(named + " is not a folder");
            }
            Files.delete(Files.createTempFile(dir, ".write-check", ""));
            long free = Files.getFileStore(dir).getUsableSpace();
            if (free < SPOOL_MIN_FREE) {
                throw new Invalid(named + " has " + free + " bytes free; the spool needs at least " + SPOOL_MIN_FREE);
            }
        } catch (IOException e) {
            throw new Invalid(named + " cannot be written: " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        return dir;
    }

    /** The Kafka SASL login ({@code sasl.jaas.config}) of the resolved settings; empty without SASL. */
    static String jaasConfig(Map<String, String> values) {
        String mechanism = values.get("kafka.sasl.mechanism");
        return mechanism.isEmpty() ? ""
                : (mechanism.equals("PLAIN") ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                        : "org.apache.kafka.common.security.scram.ScramLoginModule")
                + " required username=" + jaasQuote(values.get("kafka.username"))
                + " password=" + jaasQuote(values.get("kafka.password")) + ";";
    }

    /**
     * The TLS files (read and checked now, so a bad one stops start-up naming it) and the credentials, which come in
     * pairs. Messages name settings, never a password.
     */
    private static void security(Map<String, String> values) {
        if (Boolean.parseBoolean(values.get("mqtt.tls"))) {
            Tls.mqtt(values);
        }
        if (!values.get("mqtt.password").isEmpty() && values.get("mqtt.username").isEmpty()) {
            throw new Invalid("MQTT_PASSWORD is set but MQTT_USERNAME is not");
        }
        if (Boolean.parseBoolean(values.get("kafka.tls"))) {
            Tls.kafka(values);
        } else {
            for (String file : List.of("KAFKA_ROOT_CA", "KAFKA_CLIENT_CERT", "KAFKA_CLIENT_KEY")) {
                if (!values.get(file.toLowerCase(Locale.ROOT).replace('_', '.')).isEmpty()) {
                    throw new Invalid(file + " is set but KAFKA_TLS is not true; set KAFKA_TLS=true to use it");
                }
            }
        }
        boolean sasl = !values.get("kafka.sasl.mechanism").isEmpty();
        for (String credential : List.of("KAFKA_USERNAME", "KAFKA_PASSWORD")) {
            boolean set = !values.get(credential.toLowerCase(Locale.ROOT).replace('_', '.')).isEmpty();
            if (sasl && !set) {
                throw new Invalid(credential + " is required when KAFKA_SASL_MECHANISM is set");
            }
            if (!sasl && set) {
                throw new Invalid(credential + " is set but KAFKA_SASL_MECHANISM is not; set it to PLAIN, "
                        + "SCRAM-SHA-256 or SCRAM-SHA-512");
            }
        }
    }

    /** A JAAS option value: in double quotes, with backslash, quote and line breaks escaped. */
    static String jaasQuote(String value) {
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")
                .replace("\r", "\\r") + "\"";
    }

    /** The host name up to its first dot, as the Go version takes it for the client id. */
    static String shortHostName() {
        String name;
        try {
            name = Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
        } catch (IOException | RuntimeException e) {
            try {
                name = InetAddress.getLocalHost().getHostName();
            } catch (IOException ex) {
                name = "metamorphosis";
            }
        }
        int dot = name.indexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    static List<String> split(String list) {
        List<String> items = new ArrayList<>();
        for (String item : list.split(",")) {
            if (!item.isBlank()) {
                items.add(item.strip());
            }
        }
        return items;
    }

    private static String quote(String raw) {
        return "\"" + raw + "\"";
    }

    private static Check any() {
        return v -> v;
    }

    private static Check oneOf(String... allowed) {
        return v -> {
            for (String a : allowed) {
                if (a.equalsIgnoreCase(v.strip())) {
                    return a;
                }
            }
            throw new IllegalArgumentException("expected one of " + String.join(", ", allowed));
        };
    }

    /** As the Go version: "true" in any case is true; "false" in any case is false; anything else is an error. */
    private static Check bool() {
        return v -> {
            String lower = v.strip().toLowerCase(Locale.ROOT);
            if (lower.equals("true") || lower.equals("false")) {
                return lower;
            }
            throw new IllegalArgumentException("expected true or false");
        };
    }

    private static int integer(String v) {
        try {
            return Integer.parseInt(v.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected a whole number");
        }
    }

    private static Check atLeast(int min) {
        return v -> {
            int n = integer(v);
            if (n < min) {
                throw new IllegalArgumentException("expected a whole number of at least " + min);
            }
            return Integer.toString(n);
        };
    }

    private static Check atLeastLong(long min) {
        return v -> {
            long n;
            try {
                n = Long.parseLong(v.strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected a whole number");
            }
            if (n < min) {
                throw new IllegalArgumentException("expected a whole number of at least " + min);
            }
            return Long.toString(n);
        };
    }

    private static Check between(int min, int max) {
        return v -> {
            int n = integer(v);
            if (n < min || n > max) {
                throw new IllegalArgumentException("expected a whole number from " + min + " to " + max);
            }
            return Integer.toString(n);
        };
    }

    /** An MQTT 5 share name: at least one character, none of them '/', '+', '#'. */
    private static Check shareName() {
        return v -> {
            String name = v.strip();
            if (name.isEmpty() || name.chars().anyMatch(c -> c == '/' || c == '+' || c == '#' || c == 0)) {
                throw new IllegalArgumentException("a share name has no '/', '+' or '#'");
            }
            return name;
        };
    }

    private static Check brokerDefaultOrAtLeast1() {
        return v -> {
            int n = integer(v);
            if (n != -1 && n < 1) {
                throw new IllegalArgumentException("expected -1 (the broker's default) or a number of at least 1");
            }
            return Integer.toString(n);
        };
    }

    private static Check port() {
        return v -> {
            int n = integer(v);
            if (n < 1 || n > 65535) {
                throw new IllegalArgumentException("expected a port number from 1 to 65535");
            }
            return Integer.toString(n);
        };
    }

    private static Check host() {
        return v -> {
            String h = v.strip();
            if (!HOST.matcher(h).matches()) {
                throw new IllegalArgumentException("expected a host name");
            }
            return h;
        };
    }

    private static Check hosts() {
        return v -> {
            List<String> items = split(v);
            if (items.isEmpty()) {
                throw new IllegalArgumentException("expected host or host:port, comma-separated");
            }
            for (String item : items) {
                if (!HOST.matcher(item).matches()
                        || hasPort(item) && !port(item.substring(item.lastIndexOf(':') + 1))) {
                    throw new IllegalArgumentException("\"" + item + "\" is not host or host:port");
                }
            }
            return String.join(",", items);
        };
    }

    /** host:port or [v6-address]:port, not host or [v6-address]. */
    private static boolean hasPort(String item) {
        return item.startsWith("[") ? item.contains("]:") : item.contains(":");
    }

    private static boolean port(String digits) {
        try {
            int p = Integer.parseInt(digits);
            return p >= 1 && p <= 65535;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static Check kafkaTopic(boolean optional) {
        return v -> {
            String t = v.strip();
            if (optional && t.isEmpty()) {
                return t;
            }
            if (!KAFKA_TOPIC.matcher(t).matches() || t.equals(".") || t.equals("..")) {
                throw new IllegalArgumentException(
                        "a Kafka topic name has 1 to 249 of the characters a-z A-Z 0-9 . _ -");
            }
            return t;
        };
    }

    /** Topic filters as MQTT 5 defines them: '#' only as the whole last level, '+' only as a whole level. */
    private static Check filters() {
        return v -> {
            List<String> items = split(v);
            if (items.isEmpty()) {
                throw new IllegalArgumentException("expected one or more topic filters, comma-separated");
            }
            for (String filter : items) {
                String[] levels = filter.split("/", -1);
                for (int i = 0; i < levels.length; i++) {
                    String level = levels[i];
                    boolean badHash = level.contains("#") && (!level.equals("#") || i != levels.length - 1);
                    boolean badPlus = level.contains("+") && !level.equals("+");
                    if (badHash || badPlus || filter.indexOf('\0') >= 0) {
                        throw new IllegalArgumentException("\"" + filter + "\" is not an MQTT topic filter");
                    }
                }
            }
            return String.join(",", items);
        };
    }
}

package dev.metamorphosis;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether Kafka accepts writes, as a Camel readiness check (group {@code metamorphosis}, id {@code kafka}): Camel's
 * health registry finds it as a bean, so {@code /observe/health} shows it, and {@code /readyz} ({@link Health})
 * reads it. Kafka is asked on a timer ({@link #watch}, route {@code kafka-watch}) for the partitions of
 * {@code KAFKA_TOPIC}: it accepts writes when it answers and each has a leader. The check answers from the last
 * watch, because a check runs on every HTTP call and must not wait for Kafka's timeout; a change is logged.
 */
public final class KafkaHealthCheck extends AbstractHealthCheck {

    private static final Logger LOG = LoggerFactory.getLogger("health");

    private volatile boolean up;
    private volatile String problem = "not checked yet";
    private Admin admin;

    public KafkaHealthCheck() {
        super("metamorphosis", "kafka");
    }

    @Override
    public boolean isLiveness() {
        return false; // Kafka away is no reason to restart the bridge: the spool holds what arrives meanwhile
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        if (up) {
            builder.up();
        } else {
            builder.down().message("kafka " + problem);
        }
    }

    /** Asks Kafka for the partitions of KAFKA_TOPIC. */
    public void watch() {
        String topic = getCamelContext().resolvePropertyPlaceholders("{{kafka.topic}}");
        int timeout = Integer.parseInt(getCamelContext().resolvePropertyPlaceholders("{{health.kafka.timeout}}"));
        String found = null;
        try {
            TopicDescription description = admin(timeout).describeTopics(List.of(topic)).allTopicNames()
                    .get(timeout, TimeUnit.MILLISECONDS).get(topic);
            if (description.partitions().stream().anyMatch(p -> p.leader() == null)) {
                found = "has no leader for a partition of topic " + topic;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (Exception e) {
            found = "does not answer: " + Bridge.causeOf(e);
        }
        boolean ok = found == null;
        if (ok != up) {
            if (ok) {
                LOG.info("Kafka accepts writes to topic {}", topic);
            } else {
                LOG.warn("Kafka {}", found);
            }
        }
        problem = ok ? "" : found;
        up = ok;
    }

    /** 1 when Kafka accepted writes at the last watch, else 0. */
    public int connected() {
        return up ? 1 : 0;
    }

    /** The bean's destroy method. */
    public synchronized void close() {
        if (admin != null) {
            admin.close();
            admin = null;
        }
    }

    private synchronized Admin admin(int timeout) {
        if (admin == null) {
            admin = Admin.create(Bridge.adminProperties(getCamelContext(), timeout));
        }
        return admin;
    }
}

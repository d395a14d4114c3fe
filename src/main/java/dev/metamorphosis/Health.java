package dev.metamorphosis;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.Exchange;
import org.apache.camel.Route;
import org.apache.camel.ServiceStatus;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Liveness and readiness of the bridge, for {@code GET /healthz} and {@code GET /readyz} (routes/health.camel.yaml).
 * <p>
 * Live, as the Go version: 423 {@code not ready} until every route has started, one {@code mqtt-ingest} route per
 * topic filter among them (so the probe is written and MQTT subscribed); then 200 {@code ok}, also while Kafka or
 * MQTT is down; 503 naming the route once a route has stopped while Camel runs. Ready: every MQTT subscription's
 * client is connected and Kafka accepts writes (it answers, and every partition of {@code KAFKA_TOPIC} has a leader);
 * 503 naming what is down otherwise. MQTT connections are followed by {@link MqttComponent}; Kafka is asked on a timer
 * ({@link #watchKafka}), and a change of its state is logged.
 */
public final class Health implements CamelContextAware {

    private static final Logger LOG = LoggerFactory.getLogger("health");
    static final String INGEST = "mqtt-ingest-";

    private CamelContext context;
    private volatile boolean started;
    private volatile boolean kafka;
    private volatile String kafkaProblem = "not checked yet";
    private Admin admin;

    /** {@code GET /healthz}: sets the status code and the body. */
    public void liveness(Exchange exchange) {
        String broken = brokenRoute();
        if (!started) {
            started = broken == null && context.getStatus().isStarted() && subscriptions() == filters();
        }
        if (!started) {
            respond(exchange, 423, "not ready");
        } else if (broken != null && context.getStatus().isStarted()) {
            respond(exchange, 503, "route " + broken + " is " + context.getRouteController().getRouteStatus(broken));
        } else {
            respond(exchange, 200, "ok");
        }
    }

    /** {@code GET /readyz}: sets the status code and the body. */
    public void readiness(Exchange exchange) {
        List<String> down = new ArrayList<>();
        if (subscriptions() < filters()) {
            down.add("mqtt not subscribed");
        } else if (!mqtt().connected()) {
            down.add("mqtt disconnected");
        }
        if (!kafka) {
            down.add("kafka " + kafkaProblem);
        }
        respond(exchange, down.isEmpty() ? 200 : 503, down.isEmpty() ? "ok" : String.join("; ", down));
    }

    /** Asks Kafka for the partitions of KAFKA_TOPIC: it accepts writes when it answers and each has a leader. */
    public void watchKafka() {
        String topic = context.resolvePropertyPlaceholders("{{kafka.topic}}");
        int timeout = Integer.parseInt(context.resolvePropertyPlaceholders("{{health.kafka.timeout}}"));
        String problem = null;
        try {
            TopicDescription description = admin(timeout).describeTopics(List.of(topic)).allTopicNames()
                    .get(timeout, TimeUnit.MILLISECONDS).get(topic);
            if (description.partitions().stream().anyMatch(p -> p.leader() == null)) {
                problem = "has no leader for a partition of topic " + topic;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (Exception e) {
            problem = "does not answer: " + Bridge.causeOf(e);
        }
        boolean ok = problem == null;
        if (ok != kafka) {
            if (ok) {
                LOG.info("Kafka accepts writes to topic {}", topic);
            } else {
                LOG.warn("Kafka {}", problem);
            }
        }
        kafkaProblem = ok ? "" : problem;
        kafka = ok;
    }

    /** The bean's destroy method. */
    public synchronized void close() {
        if (admin != null) {
            admin.close();
            admin = null;
        }
    }

    /** 1 when every MQTT subscription is in place and its client connected, else 0. */
    public int mqttConnected() {
        return subscriptions() == filters() && mqtt().connected() ? 1 : 0;
    }

    private MqttComponent mqtt() {
        return context.getComponent("paho-mqtt5", MqttComponent.class);
    }

    /** 1 when Kafka accepted writes at the last check, else 0. */
    public int kafkaConnected() {
        return kafka ? 1 : 0;
    }

    private synchronized Admin admin(int timeout) {
        if (admin == null) {
            admin = Admin.create(Bridge.adminProperties(context, timeout));
        }
        return admin;
    }

    private int filters() {
        return Settings.split(context.resolvePropertyPlaceholders("{{mqtt.topic}}")).size();
    }

    private int subscriptions() {
        int n = 0;
        for (Route route : context.getRoutes()) {
            if (route.getId().startsWith(INGEST)
                    && context.getRouteController().getRouteStatus(route.getId()) == ServiceStatus.Started) {
                n++;
            }
        }
        return n;
    }

    /** The id of a route that is not running, or null. */
    private String brokenRoute() {
        for (Route route : context.getRoutes()) {
            if (context.getRouteController().getRouteStatus(route.getId()) != ServiceStatus.Started) {
                return route.getId();
            }
        }
        return null;
    }

    private static void respond(Exchange exchange, int code, String body) {
        exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, code);
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "text/plain; charset=utf-8");
        exchange.getMessage().setBody(body);
    }

    @Override
    public void setCamelContext(CamelContext camelContext) {
        this.context = camelContext;
    }

    @Override
    public CamelContext getCamelContext() {
        return context;
    }
}

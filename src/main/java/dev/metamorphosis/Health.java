package dev.metamorphosis;

import java.util.ArrayList;
import java.util.List;

import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.Exchange;
import org.apache.camel.Route;
import org.apache.camel.ServiceStatus;
import org.apache.camel.health.HealthCheck;

/**
 * Liveness and readiness of the bridge, for {@code GET /healthz} and {@code GET /readyz} (routes/health.camel.yaml).
 * <p>
 * Live, as the Go version: 423 {@code not ready} until every route has started, one {@code mqtt-ingest} route per
 * topic filter among them (so the probe is written and MQTT subscribed); then 200 {@code ok}, also while Kafka or
 * MQTT is down; 503 naming the route once a route has stopped while Camel runs. Ready: every MQTT subscription's
 * client is connected and Camel's readiness check of Kafka ({@link KafkaHealthCheck}) is up; 503 naming what is down
 * otherwise. MQTT connections are followed by {@link MqttComponent}.
 */
public final class Health implements CamelContextAware {

    static final String INGEST = "mqtt-ingest-";

    private CamelContext context;
    private volatile boolean started;
    private KafkaHealthCheck kafka;

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
        HealthCheck.Result kafka = this.kafka.call();
        if (kafka.getState() != HealthCheck.State.UP) {
            down.add(kafka.getMessage().orElse("kafka down"));
        }
        respond(exchange, down.isEmpty() ? 200 : 503, down.isEmpty() ? "ok" : String.join("; ", down));
    }

    /** 1 when every MQTT subscription is in place and its client connected, else 0. */
    public int mqttConnected() {
        return subscriptions() == filters() && mqtt().connected() ? 1 : 0;
    }

    private MqttComponent mqtt() {
        return context.getComponent("paho-mqtt5", MqttComponent.class);
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

    /** The check of Kafka (bean {@code kafkaHealth}), set by reference in routes/health.camel.yaml. */
    public void setKafka(KafkaHealthCheck kafka) {
        this.kafka = kafka;
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

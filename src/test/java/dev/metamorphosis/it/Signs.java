package dev.metamorphosis.it;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.awaitility.core.ConditionTimeoutException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What a fault test checks besides the data: that its fault happened (the signal was sent and taken, the bridge saw
 * Kafka fail: {@code kafka_errors} rose, {@code /readyz} answered 503, the spool filled), and how many records a fault
 * may write to Kafka twice.
 */
final class Signs {

    /** The spool's depth on {@code /metrics}: envelopes received and not yet acknowledged by Kafka. */
    static final String SPOOL_MESSAGES = "metamorphosis_spool_messages";
    /** Seconds since the spool's oldest envelope arrived, on {@code /metrics}. */
    static final String OLDEST_AGE = "metamorphosis_spool_oldest_age_seconds";
    /** The exit status of a process ended by SIGKILL, as Java reports it: 128 + 9. */
    static final int KILLED = 128 + 9;
    /**
     * Envelopes the spool holds once Kafka has taken nothing for 5 s of the fault tests' 100 messages a second (with
     * Kafka up and KAFKA_INTERVAL 1 s it holds about a second's worth); in at-least-once delivery, where the MQTT
     * broker stops sending at its window of unacknowledged messages (seen at 1 to 50 with HiveMQ), 1.
     */
    static long spoolFilling(String delivery) {
        return delivery.equals("at-least-once") ? 1 : 500;
    }

    /** Seconds the spool's oldest envelope waits once Kafka takes nothing: it is written within 1 s otherwise. */
    static final double STUCK_SECONDS = 5;

    private Signs() {
    }

    /** KAFKA_BATCH_SIZE of a bridge with this environment (the default of application.properties unless it sets it). */
    static int batchSize(Map<String, String> environment) {
        String set = environment.get("KAFKA_BATCH_SIZE");
        return Integer.parseInt(set != null ? set : defaults().getProperty("kafka.batch.size").trim());
    }

    /**
     * The most records one fault may write to Kafka twice, in any delivery mode: two batches of KAFKA_BATCH_SIZE, the
     * one Kafka took while its acknowledgement was lost (written again) and the one the MQTT broker delivered again
     * while its acknowledgement waited for Kafka. The Go version wrote 4,359 to 8,514 twice per outage.
     */
    static long duplicatesAtMost(Map<String, String> environment) {
        return 2L * batchSize(environment);
    }

    private static Properties defaults() {
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(BridgeProcess.repo().resolve("application.properties"))) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }

    /** Sends a signal with kill(1), as an operator would, and fails unless kill exits 0 (the process got it). */
    static void signal(String name, long pid) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).redirectErrorStream(true).start();
            String output = new String(kill.getInputStream().readAllBytes());
            assertThat(kill.waitFor(30, TimeUnit.SECONDS)).as("kill -" + name + " " + pid + " ended").isTrue();
            assertThat(kill.exitValue()).as("exit status of kill -" + name + " " + pid + ": " + output).isZero();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The state of a process, from {@code /proc/<pid>/stat}: R running, S sleeping, T stopped by a signal, ... */
    static char state(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // pid (comm) state ...: comm may hold spaces and parentheses, the state follows the last ')'
            return stat.charAt(stat.lastIndexOf(')') + 2);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Waits, while Kafka is down, until the bridge shows it: {@code kafka_errors} above {@code errorsBefore} (a write
     * failed; a dead or silent Kafka fails one after the 15 s of {@code deliveryTimeoutMs}), {@code /readyz} 503 naming
     * Kafka, and the spool filling: its oldest envelope waiting {@value #STUCK_SECONDS} s and more, at least
     * {@link #spoolFilling} envelopes in it. Fails naming what it never saw.
     */
    static void awaitKafkaDown(String delivery, BridgeProcess bridge, double errorsBefore, Duration atMost) {
        awaitSign(delivery + ": kafka_errors above " + errorsBefore, atMost,
                () -> bridge.metric("kafka_errors") > errorsBefore);
        awaitReadyz503(delivery, bridge, "kafka", atMost);
        long filling = spoolFilling(delivery);
        Scrape[] seen = new Scrape[1];
        awaitSign(delivery + ": the spool's oldest envelope waiting " + STUCK_SECONDS + " s, " + filling
                  + " or more in it", atMost, () -> {
            seen[0] = scrape(bridge);
            return seen[0] != null && seen[0].value(OLDEST_AGE) >= STUCK_SECONDS
                   && seen[0].value(SPOOL_MESSAGES) >= filling;
        });
        System.out.printf("SIGN | %s | kafka_errors %.0f | /readyz 503 | %.0f envelopes in the spool, the oldest "
                          + "%.1f s | %.0f MQTT messages unacknowledged%n", delivery, seen[0].value("kafka_errors"),
                seen[0].value(SPOOL_MESSAGES), seen[0].value(OLDEST_AGE),
                seen[0].value("metamorphosis_mqtt_unacknowledged_messages"));
    }

    /** {@code /metrics} now, or null while the bridge does not answer. */
    static Scrape scrape(BridgeProcess bridge) {
        Http.Response metrics = Http.get(bridge.healthPort(), "/metrics");
        return metrics == null || metrics.status() != 200 ? null : new Scrape(metrics.body());
    }

    /** Waits until {@code /readyz} answers 503 with a body naming {@code what} ("kafka", "mqtt"). */
    static void awaitReadyz503(String delivery, BridgeProcess bridge, String what, Duration atMost) {
        awaitSign(delivery + ": /readyz 503 naming " + what, atMost, () -> {
            Http.Response ready = Http.get(bridge.healthPort(), "/readyz");
            return ready != null && ready.status() == 503 && ready.body().contains(what);
        });
    }

    /**
     * Scrapes {@code /metrics} until the spool holds something, and returns that scrape: its
     * {@value #SPOOL_MESSAGES} and {@code mqtt_received} are of one moment.
     */
    static Scrape awaitSpoolHolding(String delivery, BridgeProcess bridge, Duration atMost) {
        Scrape[] last = new Scrape[1];
        awaitSign(delivery + ": envelopes in the spool", atMost, () -> {
            last[0] = scrape(bridge);
            Double depth = last[0] == null ? null : last[0].value(SPOOL_MESSAGES);
            return depth != null && depth > 0;
        });
        return last[0];
    }

    private static void awaitSign(String sign, Duration atMost, java.util.concurrent.Callable<Boolean> seen) {
        try {
            await(sign).atMost(atMost).pollInterval(Duration.ofMillis(250)).until(seen);
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("the fault left no sign: never saw " + sign + " within " + atMost, e);
        }
    }
}

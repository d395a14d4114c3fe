package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The disk of the durable spool fills up during a run (a 10 MiB tmpfs as SPOOL_DIR, Kafka unreachable, 40,000
 * messages of 200 bytes: about 12 MB of records): the failed writes are counted and logged, MQTT is held back, the
 * bridge keeps running; once Kafka is back it takes what is on disk, the space comes back, and every message arrives.
 */
@Execution(ExecutionMode.CONCURRENT)
@Timeout(value = 6, unit = TimeUnit.MINUTES) // its longest run in ./mvnw verify: 133 s
class SpoolDiskFullIT {

    private static final int MESSAGES = 40_000;

    @Test
    void should_hold_mqtt_back_while_the_disk_is_full_and_lose_nothing_once_kafka_makes_room() throws Exception {
        Path mount = Files.createTempDirectory("spool-disk");
        int mounted = run("mount", "-t", "tmpfs", "-o", "size=10m", "tmpfs", mount.toString());
        if (!Tools.ci()) {
            Assumptions.assumeTrue(mounted == 0, "mounting a tmpfs needs root");
        }
        assertThat(mounted).as("mount a 10 MiB tmpfs").isZero();
        try (TcpProxy toKafka = new TcpProxy();
             KafkaBroker kafka = KafkaBroker.startBehind("disk-full", toKafka);
             Traffic traffic = new Traffic("disk-full", 3)) {
            Map<String, String> env = BridgeProcess.environment(Brokers.mqtt().port(), kafka.proxied(), "disk-full",
                    "durable");
            env.put("SPOOL_DIR", mount.resolve("spool").toString());
            try (BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory("disk-full"), env)) {
                bridge.awaitSubscribed(Duration.ofSeconds(90));
                toKafka.refuse(true);
                traffic.burst(Brokers.mqtt().url(), MESSAGES);
                Awaitility.await("writes to the full disk fail").atMost(Duration.ofSeconds(120))
                        .pollInterval(Duration.ofMillis(500))
                        .until(() -> metric(bridge, "metamorphosis_spool_write_errors_total") > 0);
                assertThat(bridge.stderr()).contains("Could not write the spool to disk in SPOOL_DIR=");
                double onDisk = metric(bridge, "metamorphosis_spool_messages");
                assertThat(onDisk).as("records on disk when it is full").isBetween(20_000.0, MESSAGES - 1.0);
                assertThat(Files.getFileStore(mount).getUsableSpace()).as("free bytes").isLessThan(1024 * 1024);
                assertThat(bridge.isAlive()).as("running").isTrue();

                toKafka.refuse(false);
                Traffic.Tally t = traffic.awaitAll(kafka.bootstrap(), "disk-full", Duration.ofSeconds(180));
                Traffic.report(t.line("spool-disk-full", "durable"));
                assertThat(t.lost()).as("lost").isZero();
                assertThat(t.reordered()).as("out of order").isZero();
                assertThat(t.duplicated()).as("duplicated").isZero();
                Awaitility.await("the space back").atMost(Duration.ofSeconds(60))
                        .until(() -> metric(bridge, "metamorphosis_spool_disk_bytes") < 2 * 1024 * 1024);
                assertThat(bridge.stdout()).contains("The spool is written to disk again");
            }
        } finally {
            run("umount", "-l", mount.toString());
        }
    }

    private static double metric(BridgeProcess bridge, String name) {
        Http.Response page = Http.get(bridge.healthPort(), "/metrics");
        Double value = page == null || page.status() != 200 ? null : new Scrape(page.body()).value(name);
        return value == null ? -1 : value;
    }

    private static int run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
    }
}

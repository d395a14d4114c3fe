package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a spooled message costs: the bridge's live heap, after a full GC, with 40,000 messages of 200 bytes in its
 * spool (Kafka out of reach) against the same bridge with an empty spool. Prints the figure docs/delivery.md quotes,
 * and holds it within 25 % of that and at most 600 bytes (the default spool of 100,000 in 60 MB).
 */
@Execution(ExecutionMode.CONCURRENT)
@Timeout(value = 8, unit = TimeUnit.MINUTES) // its longest run in ./mvnw verify: 176 s
class SpoolMemoryIT {

    static final int MESSAGES = 40_000;
    /** Bytes of heap a spooled 200-byte message takes, as docs/delivery.md quotes it. */
    static final int QUOTED = 500;

    @Test
    void should_hold_a_spooled_200_byte_message_in_about_500_bytes_of_heap() throws IOException {
        try (TcpProxy toKafka = new TcpProxy();
             KafkaBroker kafka = KafkaBroker.startBehind("spool-memory", toKafka);
             Traffic traffic = new Traffic("spool-memory", 10)) {
            Map<String, String> env = BridgeProcess.environment(Brokers.mqtt().port(), kafka.proxied(),
                    "spool-memory", "buffered");
            env.put("SPOOL_MAX_MESSAGES", "1000000");
            env.put("JAVA_OPTS", "-Xmx512m");
            try (BridgeProcess bridge = BridgeProcess.start(Files.createTempDirectory("spool-memory"), env)) {
                bridge.awaitSubscribed(Duration.ofSeconds(90));
                toKafka.refuse(true);
                long empty = liveHeap(bridge);
                traffic.burst(Brokers.mqtt().url(), MESSAGES);
                Awaitility.await("all spooled").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1))
                        .until(() -> spooled(bridge) == MESSAGES);
                long full = liveHeap(bridge);
                long perMessage = (full - empty) / MESSAGES;
                Traffic.report("RESULT | spool-memory | buffered | " + MESSAGES + " messages of 200 bytes | "
                                   + perMessage + " bytes of heap per spooled message");
                assertThat(perMessage).isBetween(QUOTED * 3L / 4, Math.min(QUOTED * 5L / 4, 600));
                toKafka.refuse(false);
                traffic.awaitAll(kafka.bootstrap(), "spool-memory", Duration.ofSeconds(180));
            }
        }
    }

    private static double spooled(BridgeProcess bridge) {
        return new Scrape(Http.get(bridge.healthPort(), "/metrics").body()).value("metamorphosis_spool_messages");
    }

    /**
     * Used heap after a full collection, in bytes, as the JVM reports it: the sum over its generations (the serial
     * collector the launcher sets reports the young and the old apart, G1 one heap).
     */
    private static long liveHeap(BridgeProcess bridge) {
        Tools.jcmd(bridge.pid(), "GC.run");
        String info = Tools.jcmd(bridge.pid(), "GC.heap_info");
        Matcher used = Pattern.compile("total \\d+K, used (\\d+)K").matcher(info);
        long kib = 0;
        while (used.find()) {
            kib += Long.parseLong(used.group(1));
        }
        assertThat(kib).as(info).isPositive();
        return kib * 1024;
    }
}

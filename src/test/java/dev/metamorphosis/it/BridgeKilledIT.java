package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The bridge killed (SIGKILL) mid-stream and started again 3 s later: in at-least-once mode the broker delivers
 * again what was not acknowledged, so nothing is lost; in durable mode what was acknowledged is in the spool on disk,
 * which the new bridge writes first, and the broker delivers again the rest; buffered mode loses its spool, as the Go
 * version did.
 */
@Execution(ExecutionMode.CONCURRENT)
class BridgeKilledIT {

    @Test
    void should_lose_nothing_in_at_least_once_and_durable_mode_when_killed_and_restarted() throws IOException {
        String kafka = Brokers.kafka().bootstrap();
        Path dir = Files.createTempDirectory("bridge-killed");
        Path durableDir = Files.createTempDirectory("bridge-killed-durable"); // its spool folder of its own
        Map<String, String> aloEnv = BridgeProcess.environment(Brokers.mqtt().port(), kafka, "killed-alo",
                "at-least-once");
        Map<String, String> bufEnv = BridgeProcess.environment(Brokers.mqtt().port(), kafka, "killed-buf", "buffered");
        Map<String, String> durEnv = BridgeProcess.environment(Brokers.mqtt().port(), kafka, "killed-dur", "durable");
        try (Traffic a = new Traffic("killed-alo", 3); Traffic b = new Traffic("killed-buf", 3);
             Traffic c = new Traffic("killed-dur", 3)) {
            BridgeProcess atLeastOnce = BridgeProcess.start(dir, aloEnv).awaitSubscribed(Duration.ofSeconds(90));
            BridgeProcess buffered = BridgeProcess.start(dir, bufEnv).awaitSubscribed(Duration.ofSeconds(90));
            BridgeProcess durable = BridgeProcess.start(durableDir, durEnv).awaitSubscribed(Duration.ofSeconds(90));
            a.start(Brokers.mqtt().url(), 200);
            b.start(Brokers.mqtt().url(), 200);
            c.start(Brokers.mqtt().url(), 200);
            Faults.last(Duration.ofSeconds(10));
            atLeastOnce.kill();
            buffered.kill();
            durable.kill();
            Faults.last(Duration.ofSeconds(3));
            try (BridgeProcess alo2 = BridgeProcess.start(dir, aloEnv);
                 BridgeProcess buf2 = BridgeProcess.start(dir, bufEnv);
                 BridgeProcess dur2 = BridgeProcess.start(durableDir, durEnv)) {
                alo2.awaitSubscribed(Duration.ofSeconds(90));
                buf2.awaitSubscribed(Duration.ofSeconds(90));
                dur2.awaitSubscribed(Duration.ofSeconds(90));
                Faults.last(Duration.ofSeconds(10));
                a.stop();
                b.stop();
                c.stop();
                Traffic.Tally alo = a.awaitAll(kafka, "killed-alo", Duration.ofSeconds(120));
                Traffic.Tally dur = c.awaitAll(kafka, "killed-dur", Duration.ofSeconds(120));
                Traffic.Tally buf = b.awaitTail(Brokers.mqtt().url(), kafka, "killed-buf", Duration.ofSeconds(120));
                Traffic.report(alo.line("bridge-sigkill-and-restart", "at-least-once"));
                Traffic.report(buf.line("bridge-sigkill-and-restart", "buffered"));
                Traffic.report(dur.line("bridge-sigkill-and-restart", "durable"));
                for (Traffic.Tally t : new Traffic.Tally[] {alo, dur}) {
                    assertThat(t.lost()).as("lost").isZero();
                    assertThat(t.reordered()).as("out of order").isZero();
                    assertThat(t.published()).isGreaterThan(3000);
                }
                assertThat(dur.duplicated()).as("duplicated, durable").isLessThanOrEqualTo(
                        BridgeProcess.DURABLE_DUPLICATES_AT_MOST);
            }
        }
    }
}

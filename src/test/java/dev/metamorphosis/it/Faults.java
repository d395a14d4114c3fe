package dev.metamorphosis.it;

import java.time.Duration;

/** The length of a fault, or of a phase of traffic around it: scenario time, not a wait for a condition. */
final class Faults {
    private Faults() {
    }

    /** The rest of a phase that ends at {@code end} (nothing when it has ended). */
    static void lastUntil(java.time.Instant end) {
        Duration rest = Duration.between(java.time.Instant.now(), end);
        if (!rest.isNegative()) {
            last(rest);
        }
    }

    static void last(Duration phase) {
        try {
            Thread.sleep(phase.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}

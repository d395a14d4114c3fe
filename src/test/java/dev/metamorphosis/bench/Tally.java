package dev.metamorphosis.bench;

import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;

/**
 * What arrived of what the publisher sent: counts, duplicates, order per MQTT topic and publishing connection (the
 * only order MQTT promises), first and last arrival, and every message's time from publish to arrival.
 */
final class Tally {

    private final Map<Integer, BitSet> seen = new HashMap<>();
    private final Map<String, Integer> lastSeq = new HashMap<>();
    private long[] latencies = new long[1 << 16];
    private int count;
    volatile long delivered;
    long duplicated;
    long reordered;
    long firstArrival = Long.MAX_VALUE;
    volatile long lastArrival;

    /** Counts a message; its order is checked when its topic is given. */
    synchronized void add(String topic, Stamp stamp, long arrivalMillis) {
        delivered++;
        if (seen.computeIfAbsent(stamp.connection(), c -> new BitSet()).get(stamp.seq())) {
            duplicated++;
        } else {
            seen.get(stamp.connection()).set(stamp.seq());
            Integer last = topic == null ? null : lastSeq.put(topic + '#' + stamp.connection(), stamp.seq());
            if (last != null && last > stamp.seq()) {
                reordered++;
            }
        }
        firstArrival = Math.min(firstArrival, arrivalMillis);
        lastArrival = Math.max(lastArrival, arrivalMillis);
        if (count == latencies.length) {
            latencies = Arrays.copyOf(latencies, count * 2);
        }
        latencies[count++] = arrivalMillis - stamp.publishedMillis();
    }

    /** Forgets everything so far (the warm-up). */
    synchronized void clear() {
        seen.clear();
        lastSeq.clear();
        count = 0;
        delivered = 0;
        duplicated = 0;
        reordered = 0;
        firstArrival = Long.MAX_VALUE;
        lastArrival = 0;
    }

    synchronized long distinct() {
        return seen.values().stream().mapToLong(BitSet::cardinality).sum();
    }

    /** The given percentile (0 to 100) of the times from publish to arrival, in ms. */
    synchronized long latencyPercentile(double percentile) {
        if (count == 0) {
            return -1;
        }
        long[] sorted = Arrays.copyOf(latencies, count);
        Arrays.sort(sorted);
        return sorted[(int) Math.min(count - 1, Math.ceil(percentile / 100 * count) - 1)];
    }
}

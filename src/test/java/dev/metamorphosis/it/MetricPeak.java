package dev.metamorphosis.it;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The highest value of one metric on a bridge's {@code /metrics}, sampled every 100 ms from creation to close: how a
 * test shows a bound held through a fault, not only at its end.
 */
public final class MetricPeak implements AutoCloseable {

    private final BridgeProcess bridge;
    private final String metric;
    private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
    private double max = Double.NEGATIVE_INFINITY;
    private double last = Double.NaN;
    private int samples;

    public MetricPeak(BridgeProcess bridge, String metric) {
        this.bridge = bridge;
        this.metric = metric;
        sampler.scheduleWithFixedDelay(this::sample, 0, 100, TimeUnit.MILLISECONDS);
    }

    private void sample() {
        double value = bridge.metric(metric);
        if (!Double.isNaN(value)) {
            synchronized (this) {
                max = Math.max(max, value);
                last = value;
                samples++;
            }
        }
    }

    /** The highest value sampled so far. */
    public synchronized double max() {
        return max;
    }

    /** The value of the last sample. */
    public synchronized double last() {
        return last;
    }

    /** How many samples the bridge answered. */
    public synchronized int samples() {
        return samples;
    }

    @Override
    public String toString() {
        return metric + ": highest " + max() + ", last " + last() + " of " + samples() + " samples";
    }

    /** Stops sampling; the figures stay. */
    @Override
    public void close() {
        sampler.shutdownNow();
        try {
            sampler.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

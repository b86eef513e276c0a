package dev.ignis.frontend.console;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Durations as the console draws them: counts per bucket (not cumulative), merged over Duration
 * timers that share bucket bounds, with p50 and p99 estimated from the buckets.
 *
 * @param boundsMs  each bucket's upper bound in milliseconds, ascending
 * @param counts    invokes in each bucket (above the previous bound, at most this one)
 * @param overflow  invokes above the last bound
 * @param count     all invokes
 */
record Histogram(double[] boundsMs, long[] counts, long overflow, long count) {

    static final Histogram EMPTY = new Histogram(new double[0], new long[0], 0, 0);

    /** The merged histogram of {@code timers}; those whose bounds differ from the first are left out. */
    static Histogram of(List<Timer> timers) {
        double[] bounds = null;
        long[] cumulative = null;
        long count = 0;
        for (Timer t : timers) {
            CountAtBucket[] buckets = t.takeSnapshot().histogramCounts();
            double[] b = new double[buckets.length];
            for (int i = 0; i < buckets.length; i++) {
                b[i] = buckets[i].bucket(TimeUnit.MILLISECONDS);
            }
            if (bounds == null) {
                bounds = b;
                cumulative = new long[b.length];
            } else if (!Arrays.equals(bounds, b)) {
                continue;
            }
            for (int i = 0; i < buckets.length; i++) {
                cumulative[i] += (long) buckets[i].count(); // Prometheus histograms: counts at each bound are cumulative
            }
            count += t.count();
        }
        if (bounds == null) {
            return EMPTY;
        }
        long[] counts = new long[bounds.length];
        long below = 0;
        for (int i = 0; i < bounds.length; i++) {
            counts[i] = Math.max(0, cumulative[i] - below);
            below = Math.max(below, cumulative[i]);
        }
        return new Histogram(bounds, counts, Math.max(0, count - below), count);
    }

    /** The two merged: same bounds, or whichever is not empty. */
    Histogram plus(Histogram other) {
        if (other.boundsMs.length == 0) {
            return this;
        }
        if (boundsMs.length == 0) {
            return other;
        }
        if (!Arrays.equals(boundsMs, other.boundsMs)) {
            throw new IllegalArgumentException("histograms with different buckets");
        }
        long[] sum = counts.clone();
        for (int i = 0; i < sum.length; i++) {
            sum[i] += other.counts[i];
        }
        return new Histogram(boundsMs, sum, overflow + other.overflow, count + other.count);
    }

    /**
     * The {@code q} quantile in milliseconds, interpolated linearly inside its bucket (as Prometheus's
     * {@code histogram_quantile}); the last bound when it falls above it; NaN without invokes.
     */
    double quantileMs(double q) {
        if (count == 0 || boundsMs.length == 0) {
            return Double.NaN;
        }
        double rank = q * count;
        long below = 0;
        for (int i = 0; i < boundsMs.length; i++) {
            if (below + counts[i] >= rank && counts[i] > 0) {
                double lower = i == 0 ? 0 : boundsMs[i - 1];
                return lower + (boundsMs[i] - lower) * (rank - below) / counts[i];
            }
            below += counts[i];
        }
        return boundsMs[boundsMs.length - 1];
    }
}

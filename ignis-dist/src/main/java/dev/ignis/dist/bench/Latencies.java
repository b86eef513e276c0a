package dev.ignis.dist.bench;

import java.util.Arrays;

/** Latency samples in nanoseconds, summarized as medians and tails. */
record Latencies(long[] nanos) {
    double percentileMs(double p) {
        long[] s = nanos.clone();
        Arrays.sort(s);
        int i = (int) Math.min(s.length - 1, Math.max(0, Math.ceil(p / 100.0 * s.length) - 1));
        return s[i] / 1e6;
    }

    double p50() {
        return percentileMs(50);
    }

    double p99() {
        return percentileMs(99);
    }
}

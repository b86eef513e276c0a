package dev.ignis.placement;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The hybrid histogram policy of Shahrad et al., "Serverless in the Wild" (USENIX ATC '20), keep-alive half: each
 * function's idle times go into a histogram of 1-minute bins up to 4 hours; once it has enough samples and most of
 * them fall inside the range, the keep-alive window is the 99th percentile plus a 10% margin. A function seen too
 * little, or whose gaps are mostly beyond the range, keeps the fixed default. Rarely-invoked functions stop holding
 * memory they almost never use; frequent ones keep exactly what covers their gaps.
 */
public final class HistogramKeepAlive implements KeepAlivePolicy {
    static final int BINS = 240; // minutes
    static final int MIN_SAMPLES = 10;
    static final double IN_RANGE = 0.5;

    private final Duration fallback;
    private final Map<String, int[]> histograms = new HashMap<>();
    private final Map<String, Integer> beyond = new HashMap<>();

    public HistogramKeepAlive(Duration fallback) {
        this.fallback = fallback;
    }

    @Override
    public void observeIdle(String function, Duration idle) {
        final long minute = idle.toMinutes();
        if (minute >= BINS) {
            beyond.merge(function, 1, Integer::sum);
        } else {
            histograms.computeIfAbsent(function, f -> new int[BINS])[(int) minute]++;
        }
    }

    @Override
    public Duration keepAlive(String function) {
        final int[] bins = histograms.get(function);
        if (bins == null) {
            return fallback;
        }
        int inRange = 0;
        for (int count : bins) {
            inRange += count;
        }
        final int out = beyond.getOrDefault(function, 0);
        if (inRange + out < MIN_SAMPLES || inRange < IN_RANGE * (inRange + out)) {
            return fallback;
        }
        final int target = (int) Math.ceil(0.99 * inRange);
        int seen = 0;
        for (int minute = 0; minute < BINS; minute++) {
            seen += bins[minute];
            if (seen >= target) {
                return Duration.ofSeconds((long) ((minute + 1) * 60 * 1.1));
            }
        }
        return fallback;
    }

    @Override
    public String name() {
        return "histogram p99";
    }
}

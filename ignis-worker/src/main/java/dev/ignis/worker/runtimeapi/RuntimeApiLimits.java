package dev.ignis.worker.runtimeapi;

import java.time.Duration;
import java.util.Objects;

/**
 * Bounds of a worker's Runtime API servers against the runtimes (tenant code) that talk to them.
 *
 * @param bodyBudgetBytes bytes that request bodies being read and handled may hold at once, all sandboxes
 *                        together ({@link BodyBudget}); a body beyond it is refused with 413
 * @param readTimeout     how long a request that has started (part of its head or body arrived) may take to
 *                        arrive whole before its connection is closed; a connection between requests (a parked
 *                        {@code GET /next}, a runtime computing its answer) never times out
 */
public record RuntimeApiLimits(long bodyBudgetBytes, Duration readTimeout) {
    public RuntimeApiLimits {
        Objects.requireNonNull(readTimeout, "readTimeout");
        if (bodyBudgetBytes <= 0) {
            throw new IllegalArgumentException("bodyBudgetBytes must be positive");
        }
        if (readTimeout.toMillis() < 1 || readTimeout.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("readTimeout must be between 1 ms and " + Integer.MAX_VALUE + " ms");
        }
    }

    /** A quarter of the heap, within 32 MiB (five 6 MB responses) and 256 MiB, for bodies; 30 s read timeout. */
    public static RuntimeApiLimits defaults() {
        long quarter = Runtime.getRuntime().maxMemory() / 4;
        return new RuntimeApiLimits(Math.clamp(quarter, 32L << 20, 256L << 20), Duration.ofSeconds(30));
    }
}

package dev.ignis.bench;

import org.HdrHistogram.Histogram;

/**
 * What one phase measured against one target. Latencies in nanoseconds: {@code all} successful
 * requests, split into {@code warm} and {@code cold} by the platform's per-invoke record;
 * {@code init} the Init Durations reported for the cold ones; {@code signing} the client's SigV4 work.
 * {@code cpuSeconds}: CPU time the whole machine spent busy during the phase (every process: load
 * generator, platform, runtimes), from {@code /proc/stat}; NaN where unknown. Divided by the requests
 * it is the cost of one request, a steadier A/B figure on a noisy machine than latency or rate.
 *
 * @param clients closed-loop clients (0 for open loop)
 * @param rate    open-loop request rate per second (0 for closed loop)
 */
public record PhaseResult(String name, String target, int clients, double rate, Histogram all, Histogram warm, Histogram cold,
                          Histogram init, Histogram signing, long errors, String firstError, double seconds,
                          double cpuSeconds) {

    public long count() {
        return all.getTotalCount();
    }

    public double perSecond() {
        return (count() + errors) / seconds;
    }

    /** Machine CPU time per request, in microseconds (NaN when unknown). */
    public double cpuMicrosPerRequest() {
        return cpuSeconds * 1e6 / (count() + errors);
    }

    public double p(double percentile) {
        return Load.ms(all, percentile);
    }
}

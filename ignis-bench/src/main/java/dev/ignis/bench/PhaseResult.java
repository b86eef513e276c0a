package dev.ignis.bench;

import org.HdrHistogram.Histogram;

/**
 * What one phase measured against one target. Latencies in nanoseconds: {@code all} successful
 * requests, split into {@code warm} and {@code cold} by the platform's per-invoke record;
 * {@code init} the Init Durations reported for the cold ones; {@code signing} the client's SigV4 work.
 *
 * @param clients closed-loop clients (0 for open loop)
 * @param rate    open-loop request rate per second (0 for closed loop)
 */
public record PhaseResult(String name, String target, int clients, double rate, Histogram all, Histogram warm, Histogram cold,
                          Histogram init, Histogram signing, long errors, String firstError, double seconds) {

    public long count() {
        return all.getTotalCount();
    }

    public double perSecond() {
        return (count() + errors) / seconds;
    }

    public double p(double percentile) {
        return Load.ms(all, percentile);
    }
}

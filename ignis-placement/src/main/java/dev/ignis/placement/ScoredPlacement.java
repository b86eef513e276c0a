package dev.ignis.placement;

import java.util.List;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * The talk's placement: "pick a bright worker, a worker in an optimal state to take a new work". Among the workers
 * that fit, the highest score wins:
 * <pre>
 *   score = PACK · used-after-placing / total        (fill workers: fewer hosts, denser packing)
 *         − SPREAD · same / (same + 1)               (one function's sandboxes apart: its bursts are synchronized,
 *                                                     so together they would contend for one host's CPUs)
 *         − HEAT · min(heat, 2)                      (avoid hosts whose CPUs were recently oversubscribed)
 * </pre>
 * Decorrelation is the point the talk makes about packing many accounts' workloads onto big workers: sandboxes of
 * unrelated functions rarely peak together, sandboxes of one function always do.
 */
public final class ScoredPlacement implements PlacementPolicy {
    static final double PACK = 1.0;
    static final double SPREAD = 0.6;
    static final double HEAT = 0.5;

    @Override
    public Optional<String> choose(String function, long memoryMb, List<Candidate> candidates, RandomGenerator random) {
        Candidate best = null;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (Candidate c : candidates) {
            if (!c.fits(memoryMb)) {
                continue;
            }
            final double used = (c.totalMb() - c.freeMb() + memoryMb) / (double) c.totalMb();
            final double score = PACK * used - SPREAD * c.sameFunction() / (c.sameFunction() + 1.0) - HEAT * Math.min(c.heat(), 2.0);
            if (score > bestScore) {
                bestScore = score;
                best = c;
            }
        }
        return Optional.ofNullable(best).map(Candidate::worker);
    }

    @Override
    public String name() {
        return "scored";
    }
}

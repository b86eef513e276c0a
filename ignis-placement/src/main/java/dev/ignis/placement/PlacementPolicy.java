package dev.ignis.placement;

import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * Picks the worker for a new sandbox of {@code memoryMb} for {@code function} among {@code candidates} (the
 * assignment partition's leader calls it, as the talk says only the leader places). Empty when none fits.
 */
public interface PlacementPolicy {

    Optional<String> choose(String function, long memoryMb, List<Candidate> candidates, RandomGenerator random);

    String name();

    /** Any worker that fits, uniformly. */
    PlacementPolicy RANDOM = new Named("random", (fn, mb, cs, rnd) -> {
        final List<Candidate> fit = cs.stream().filter(c -> c.fits(mb)).toList();
        return fit.isEmpty() ? Optional.empty() : Optional.of(fit.get(rnd.nextInt(fit.size())).worker());
    });

    /** The worker with the most free memory (Ignis's cluster placement before this module). */
    PlacementPolicy LEAST_LOADED = new Named("least-loaded", (fn, mb, cs, rnd) -> cs.stream().filter(c -> c.fits(mb))
            .max(Comparator.comparingLong(Candidate::freeMb)).map(Candidate::worker));

    /** The fullest worker that still fits (best fit): fewest workers, no regard for who shares them. */
    PlacementPolicy BIN_PACKING = new Named("bin-packing", (fn, mb, cs, rnd) -> cs.stream().filter(c -> c.fits(mb))
            .min(Comparator.comparingLong(Candidate::freeMb)).map(Candidate::worker));

    /** Packing, tempered by spreading one function's sandboxes and by each worker's recent heat ({@link ScoredPlacement}). */
    PlacementPolicy SCORED = new ScoredPlacement();

    /** A policy given as a lambda, with its name. */
    record Named(String name, Chooser chooser) implements PlacementPolicy {
        @Override
        public Optional<String> choose(String function, long memoryMb, List<Candidate> candidates, RandomGenerator random) {
            return chooser.choose(function, memoryMb, candidates, random);
        }
    }

    @FunctionalInterface
    interface Chooser {
        Optional<String> choose(String function, long memoryMb, List<Candidate> candidates, RandomGenerator random);
    }
}

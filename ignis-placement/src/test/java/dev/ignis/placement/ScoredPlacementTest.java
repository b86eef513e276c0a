package dev.ignis.placement;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ScoredPlacementTest {
    final SplittableRandom random = new SplittableRandom(1);

    @Test
    void packsOntoTheFullerWorkerWhenNothingElseDiffers() {
        final List<Candidate> cs = List.of(new Candidate("empty", 16_384, 16_384, 0, 0), new Candidate("half", 16_384, 8_192, 0, 0));
        assertThat(PlacementPolicy.SCORED.choose("f", 512, cs, random)).contains("half");
        assertThat(PlacementPolicy.LEAST_LOADED.choose("f", 512, cs, random)).contains("empty");
        assertThat(PlacementPolicy.BIN_PACKING.choose("f", 512, cs, random)).contains("half");
    }

    @Test
    void spreadsOneFunctionsSandboxesAndAvoidsHotWorkers() {
        final List<Candidate> sameFunction = List.of(new Candidate("has-3-of-f", 16_384, 8_192, 3, 0),
                new Candidate("other", 16_384, 10_000, 0, 0));
        assertThat(PlacementPolicy.SCORED.choose("f", 512, sameFunction, random)).contains("other");
        final List<Candidate> hot = List.of(new Candidate("hot", 16_384, 8_192, 0, 1.5), new Candidate("cool", 16_384, 10_000, 0, 0.1));
        assertThat(PlacementPolicy.SCORED.choose("f", 512, hot, random)).contains("cool");
    }

    @Test
    void nothingFitsNothingIsChosen() {
        final List<Candidate> cs = List.of(new Candidate("full", 16_384, 100, 0, 0));
        for (PlacementPolicy p : List.of(PlacementPolicy.RANDOM, PlacementPolicy.LEAST_LOADED, PlacementPolicy.BIN_PACKING, PlacementPolicy.SCORED)) {
            assertThat(p.choose("f", 512, cs, random)).as(p.name()).isEmpty();
        }
    }
}

package dev.ignis.placement.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.placement.HistogramKeepAlive;
import dev.ignis.placement.KeepAlivePolicy;
import dev.ignis.placement.PlacementPolicy;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class SimulationTest {
    static final Simulation.Config SIX_HOURS = new Simulation.Config(Simulation.Fleet.defaults(), Duration.ofHours(6),
            Duration.ofMillis(250), 42);

    @Test
    void theTraceModelMatchesThePublishedShape() {
        final List<FunctionProfile> fs = TraceModel.functions(20_000, 500, 1);
        final double hourlyOrLess = fs.stream().filter(f -> f.perDay() <= 24).count() / (double) fs.size();
        final double minutelyOrLess = fs.stream().filter(f -> f.perDay() <= 1440).count() / (double) fs.size();
        // Shahrad et al.: ~45% of functions at most hourly, ~81% at most once a minute.
        assertThat(hourlyOrLess).isBetween(0.40, 0.56);
        assertThat(minutelyOrLess).isBetween(0.78, 0.90);
        final double max = fs.stream().mapToDouble(FunctionProfile::perDay).max().orElseThrow();
        final double min = fs.stream().mapToDouble(FunctionProfile::perDay).min().orElseThrow();
        assertThat(Math.log10(max / min)).as("orders of magnitude of rates").isGreaterThanOrEqualTo(6.5);
    }

    @Test
    void aSeedGivesTheSameRunTwice() {
        final List<FunctionProfile> fs = TraceModel.functions(300, 40, 7);
        final Simulation.Result a = Simulation.run(fs, PlacementPolicy.SCORED, new HistogramKeepAlive(Duration.ofMinutes(10)), SIX_HOURS);
        final Simulation.Result b = Simulation.run(fs, PlacementPolicy.SCORED, new HistogramKeepAlive(Duration.ofMinutes(10)), SIX_HOURS);
        assertThat(a).isEqualTo(b);
        assertThat(a.invocations()).isPositive();
    }

    @Test
    void everyInvocationIsServedAndAWarmPoolMeansFewerColdStartsThanInvocations() {
        final List<FunctionProfile> fs = TraceModel.functions(500, 60, 3);
        for (PlacementPolicy p : Comparison.PLACEMENTS) {
            final Simulation.Result r = Simulation.run(fs, p, KeepAlivePolicy.fixed(Duration.ofMinutes(10)), SIX_HOURS);
            assertThat(r.coldStarts()).as(p.name()).isLessThan(r.invocations() / 2);
            assertThat(r.allocatedMemoryShare()).as(p.name()).isLessThanOrEqualTo(1.0).isGreaterThanOrEqualTo(r.busyMemoryShare());
        }
    }

    @Test
    void withoutAnyKeepAliveEveryInvocationIsACold() {
        final List<FunctionProfile> fs = TraceModel.functions(200, 20, 5);
        final Simulation.Result r = Simulation.run(fs, PlacementPolicy.LEAST_LOADED, KeepAlivePolicy.fixed(Duration.ZERO), SIX_HOURS);
        // An idle sandbox older than 0 ms is never reused, except by an arrival at the very instant it finished.
        assertThat(r.coldStarts()).isGreaterThanOrEqualTo((long) (r.invocations() * 0.99));
    }

    @Test
    void histogramKeepAliveHoldsLessIdleMemoryThanTenFixedMinutes() {
        final List<FunctionProfile> fs = TraceModel.functions(1_000, 100, 11);
        final Simulation.Result fixed = Simulation.run(fs, PlacementPolicy.SCORED, KeepAlivePolicy.fixed(Duration.ofMinutes(10)), SIX_HOURS);
        final Simulation.Result hist = Simulation.run(fs, PlacementPolicy.SCORED, new HistogramKeepAlive(Duration.ofMinutes(10)), SIX_HOURS);
        assertThat(hist.allocatedMemoryShare() * hist.fleetHours()).isLessThan(fixed.allocatedMemoryShare() * fixed.fleetHours());
    }
}

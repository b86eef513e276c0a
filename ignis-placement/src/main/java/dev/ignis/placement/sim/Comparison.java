package dev.ignis.placement.sim;

import dev.ignis.placement.HistogramKeepAlive;
import dev.ignis.placement.KeepAlivePolicy;
import dev.ignis.placement.PlacementPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/** Runs one workload under every placement and keep-alive policy and prints the table (`ignis simulate`). */
public final class Comparison {
    public static final List<PlacementPolicy> PLACEMENTS = List.of(PlacementPolicy.RANDOM, PlacementPolicy.LEAST_LOADED,
            PlacementPolicy.BIN_PACKING, PlacementPolicy.SCORED);

    private Comparison() {}

    /** Keep-alive policies are stateful (they learn), so each run gets a fresh one. */
    public static List<Supplier<KeepAlivePolicy>> keepAlives() {
        return List.of(() -> KeepAlivePolicy.fixed(Duration.ofMinutes(10)), () -> new HistogramKeepAlive(Duration.ofMinutes(10)));
    }

    public static List<Simulation.Result> run(int functions, int accounts, Simulation.Config config) {
        final List<FunctionProfile> workload = TraceModel.functions(functions, accounts, config.seed());
        final List<Simulation.Result> results = new ArrayList<>();
        for (Supplier<KeepAlivePolicy> keepAlive : keepAlives()) {
            for (PlacementPolicy placement : PLACEMENTS) {
                results.add(Simulation.run(workload, placement, keepAlive.get(), config));
            }
        }
        return results;
    }

    public static String table(List<Simulation.Result> results) {
        final StringBuilder out = new StringBuilder();
        out.append("| placement | keep-alive | invocations | cold starts | p75 function's cold share | evictions | added p50 ms | added p99 ms | queue p99 ms "
                + "| busy memory | allocated memory | sandboxes/worker | fleet-hours | peak workers |\n");
        out.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (Simulation.Result r : results) {
            out.append(String.format("| %s | %s | %,d | %.2f%% | %.1f%% | %,d | %.1f | %.1f | %.0f | %.1f%% | %.1f%% | %.1f | %.1f | %d |%n",
                    r.placement(), r.keepAlive(), r.invocations(), 100 * r.coldStartRate(), 100 * r.functionColdRateP75(), r.evictions(), r.addedLatencyP50Ms(),
                    r.addedLatencyP99Ms(), r.queueP99Ms(), 100 * r.busyMemoryShare(), 100 * r.allocatedMemoryShare(),
                    r.sandboxesPerWorker(), r.fleetHours(), r.peakWorkers()));
        }
        return out.toString();
    }
}

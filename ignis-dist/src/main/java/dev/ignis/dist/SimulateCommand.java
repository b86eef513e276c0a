package dev.ignis.dist;

import dev.ignis.placement.sim.Comparison;
import dev.ignis.placement.sim.Simulation;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `ignis simulate`: the trace-replay simulator, every placement and keep-alive policy on one seeded workload. */
@Command(name = "simulate", description = "Replay a seeded Azure-Functions-like workload against each placement and keep-alive "
        + "policy on a simulated fleet; prints one table (cold starts, added latency, memory, fleet-hours).")
final class SimulateCommand implements Callable<Integer> {
    @Option(names = "--functions", defaultValue = "300", description = "Functions in the workload (default 300)") int functions;
    @Option(names = "--accounts", defaultValue = "40", description = "Accounts they belong to (default 40)") int accounts;
    @Option(names = "--hours", defaultValue = "7", description = "Simulated hours, warm-up included (default 7)") int hours;
    @Option(names = "--warmup-hours", defaultValue = "1", description = "Hours not counted at the start (default 1)") int warmupHours;
    @Option(names = "--seed", defaultValue = "42", description = "Seed of the workload and the run (default 42)") long seed;

    @Override
    public Integer call() {
        if (functions < 1 || accounts < 1 || hours < 1 || warmupHours < 0 || warmupHours >= hours) {
            System.err.println("ignis simulate: --functions, --accounts and --hours must be positive, --warmup-hours below --hours");
            return 2;
        }
        final long t0 = System.nanoTime();
        final var config = new Simulation.Config(Simulation.Fleet.defaults(), Duration.ofHours(hours), Duration.ofHours(warmupHours),
                Duration.ofMillis(250), seed);
        System.out.print(Comparison.table(Comparison.run(functions, accounts, config)));
        System.out.printf("%d functions, %d accounts, %d h (first %d h not counted), seed %d; fleet %s; %.1f s%n",
                functions, accounts, hours, warmupHours, seed, Simulation.Fleet.defaults(), (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}

package dev.ignis.dist;

import dev.ignis.dist.bench.InvokeBench;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `ignis bench`: warm invoke latency and throughput beside a loopback echo, and cold starts. */
@Command(name = "bench", description = "Measure warm invokes against a loopback HTTP echo, and sandbox cold starts (one run).")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--requests", description = "Requests per scenario (default 3000)")
    int requests = 3000;

    @Option(names = "--runtime-home", description = "Where runtimes are installed (default ./.ignis-data)")
    String runtimeHome = ".ignis-data";

    @Override
    public Integer call() throws Exception {
        InvokeBench.main(new String[] {Integer.toString(requests), runtimeHome});
        return 0;
    }
}

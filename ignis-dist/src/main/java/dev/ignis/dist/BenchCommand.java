package dev.ignis.dist;

import dev.ignis.dist.bench.BenchRun;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `ignis bench`: runs a committed scenario against Ignis (and the echo floor, or another build) and writes the report. */
@Command(name = "bench", description = "Load-test Ignis with a scenario file; report latency (warm/cold), throughput and overhead over an echo floor.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--scenario", description = "Scenario file (default bench/scenarios/invoke.json)")
    Path scenario = Path.of("bench/scenarios/invoke.json");

    @Option(names = "--baseline", description = "echo: measure a plain loopback HTTP echo server in the same run (default); none: skip it")
    String baseline = "echo";

    @Option(names = "--out", description = "Directory for <scenario>.json, .html and .png (default bench/reports)")
    Path out = Path.of("bench/reports");

    @Option(names = "--endpoint", description = "Measure a running Ignis at this URL instead of starting one (needs --credentials)")
    String endpoint;

    @Option(names = "--credentials", description = "AWS credentials file with the key to sign with (e.g. .ignis-data/aws/credentials)")
    Path credentials;

    @Option(names = "--ab", description = "A/B: also build this git revision and run every phase against both builds, alternating")
    String ab;

    @Option(names = "--ab-with", description = "A/B: build B from this git revision too (default: B is this build)")
    String abWith;

    @Option(names = "--rounds", description = "A/B rounds (default 3)")
    int rounds = 3;

    @Option(names = "--scale", description = "Multiply every phase's request count (e.g. 0.2 for a quick look; default 1)")
    double scale = 1;

    @Option(names = "--runtime-home", description = "Where runtimes are installed (default ./.ignis-data)")
    Path runtimeHome = Path.of(".ignis-data");

    @Override
    public Integer call() throws Exception {
        var run = new BenchRun(scenario, !baseline.equals("none"), out, scale, runtimeHome.toAbsolutePath());
        if (ab != null) {
            run.ab(ab, abWith, rounds);
        } else if (endpoint != null) {
            if (credentials == null) {
                System.err.println("ignis bench: --endpoint needs --credentials");
                return 2;
            }
            run.remote(endpoint, credentials);
        } else {
            run.inProcess();
        }
        return 0;
    }
}

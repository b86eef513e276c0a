package dev.ignis.dist;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Unmatched;

/** `ignis jmh [REGEX] [JMH options]`: the JMH benchmarks of the hot code paths (module ignis-bench). */
@Command(name = "jmh", description = "Run the JMH benchmarks of the hot code paths (SigV4, request handling, config lookup, leases, Runtime API).")
final class JmhCommand implements Callable<Integer> {
    @Parameters(arity = "0..1", description = "Benchmark name regex (default: all, e.g. SigV4Bench)")
    String include;

    @Unmatched
    List<String> jmhOptions = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        List<String> args = new ArrayList<>(jmhOptions);
        // forked benchmark JVMs need the same native access as the platform
        args.addAll(List.of("-jvmArgsAppend", "--enable-native-access=ALL-UNNAMED"));
        if (include != null) {
            args.add(include);
        }
        org.openjdk.jmh.Main.main(args.toArray(String[]::new));
        return 0;
    }
}

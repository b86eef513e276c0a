package dev.ignis.chunk;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/** Medians and percentiles for the benchmarks; results also go to target/chunk-benchmarks.txt. */
public final class Stats {
    private Stats() {
    }

    public static double percentile(double[] xs, double p) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s[Math.min(s.length - 1, (int) Math.floor(p * (s.length - 1) + 0.5))];
    }

    public static double median(double[] xs) {
        return percentile(xs, 0.5);
    }

    public static void report(String line) {
        System.out.println("BENCH " + line);
        try {
            Files.writeString(Path.of("target", "chunk-benchmarks.txt"), line + System.lineSeparator(),
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.err.println("cannot append benchmark result: " + e);
        }
    }
}

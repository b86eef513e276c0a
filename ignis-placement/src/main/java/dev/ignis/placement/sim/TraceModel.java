package dev.ignis.placement.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Functions drawn from the published statistics of the Azure Functions trace (Shahrad et al., "Serverless in the
 * Wild", USENIX ATC '20): invocation rates spread over eight orders of magnitude, about half the functions invoked
 * at most once an hour and ~80% at most once a minute (log10 of invocations/day ~ N(1.4, 1.6), clipped to
 * [-0.5, 6.5]); execution times log-normal with a median around 0.6 s; most functions small in memory; a quarter
 * follow the day, a seventh arrive in bursts. Seeded: the same seed gives the same functions.
 */
public final class TraceModel {
    private static final int[] MEMORY = {128, 256, 512, 1024, 2048};
    private static final double[] MEMORY_WEIGHT = {0.35, 0.25, 0.20, 0.12, 0.08};

    private TraceModel() {}

    public static List<FunctionProfile> functions(int count, int accounts, long seed) {
        final SplittableRandom r = new SplittableRandom(seed);
        final List<FunctionProfile> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            final double log10PerDay = Math.max(-0.5, Math.min(6.5, 1.4 + 1.6 * gaussian(r)));
            final double duration = Math.min(60_000, 600 * Math.exp(1.3 * gaussian(r)));
            final double u = r.nextDouble();
            final FunctionProfile.Pattern pattern = u < 0.60 ? FunctionProfile.Pattern.STEADY
                    : u < 0.85 ? FunctionProfile.Pattern.DIURNAL : FunctionProfile.Pattern.BURSTY;
            out.add(new FunctionProfile("f" + i, "a" + r.nextInt(accounts), memory(r), duration, Math.pow(10, log10PerDay), pattern));
        }
        return out;
    }

    private static int memory(SplittableRandom r) {
        double u = r.nextDouble();
        for (int i = 0; i < MEMORY.length; i++) {
            u -= MEMORY_WEIGHT[i];
            if (u <= 0) {
                return MEMORY[i];
            }
        }
        return MEMORY[MEMORY.length - 1];
    }

    static double gaussian(SplittableRandom r) {
        // Box-Muller; SplittableRandom has no nextGaussian before Java 17's RandomGenerator default, which it has.
        return r.nextGaussian();
    }
}

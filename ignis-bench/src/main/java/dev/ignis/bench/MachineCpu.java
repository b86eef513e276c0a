package dev.ignis.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time the whole machine has spent busy since boot, from the first line of {@code /proc/stat}:
 * user, nice, system, irq, softirq and steal (not idle, not iowait). Linux counts it in USER_HZ
 * ticks, 100 a second on every architecture Ignis runs on, so a difference over a phase of a few
 * seconds is good to about 1%.
 */
final class MachineCpu {
    private static final Path STAT = Path.of("/proc/stat");
    private static final double TICKS_PER_SECOND = 100;

    private MachineCpu() {}

    /** Busy seconds since boot, or NaN when {@code /proc/stat} cannot be read. */
    static double busySeconds() {
        try (var lines = Files.lines(STAT)) {
            String first = lines.findFirst().orElse("");
            String[] f = first.trim().split("\\s+");
            if (f.length < 9 || !f[0].equals("cpu")) {
                return Double.NaN;
            }
            // cpu user nice system idle iowait irq softirq steal ...
            long busy = 0;
            for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
                busy += Long.parseLong(f[i]);
            }
            return busy / TICKS_PER_SECOND;
        } catch (IOException | NumberFormatException e) {
            return Double.NaN;
        }
    }
}

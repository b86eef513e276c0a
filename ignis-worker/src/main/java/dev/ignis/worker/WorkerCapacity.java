package dev.ignis.worker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the sandboxes of one worker may hold together. The worker's cgroup is limited to it (the
 * kernel's bound, whatever the tenants do) and the worker admits a new sandbox only while it fits
 * (a refusal is {@link WorkerAtCapacityException}, which placement turns into another worker or a 429).
 *
 * <p>Memory is reserved as Lambda reserves it: a sandbox holds its whole MemorySize from create to
 * retire, and the sum never exceeds {@code memoryMb}. Pids are admitted by what is in use: each
 * sandbox's own limit (512 by default) is a ceiling that almost none reach, so reserving it would
 * refuse most of what the host can run; instead a create is refused while the worker's cgroup has
 * fewer than {@link #START_PIDS} of {@code pids} left, and the cgroup's limit stops forks beyond it.
 *
 * @param memoryMb memory for all sandboxes of the worker (sum of their MemorySize), MB
 * @param pids     processes and threads of all sandboxes of the worker together
 */
public record WorkerCapacity(long memoryMb, long pids) {
    /** Pids a sandbox needs to start (launcher, bwrap, a runtime's first threads). */
    public static final long START_PIDS = 64;

    public WorkerCapacity {
        if (memoryMb < 64 || pids < START_PIDS) {
            throw new IllegalArgumentException("capacity must be at least 64 MB and " + START_PIDS + " pids: " + memoryMb + " MB, " + pids + " pids");
        }
    }

    /** The whole host's share for sandboxes: see {@link #ofHost(int)}. */
    public static WorkerCapacity ofHost() {
        return ofHost(1);
    }

    /**
     * One of {@code workers} equal shares of what the host leaves to sandboxes: memory is MemTotal less
     * a reserve for the host and the workers themselves (an eighth, at least 1 GiB); pids are half of
     * the smaller of {@code kernel.pid_max} and {@code kernel.threads-max} (the other half stays the host's).
     */
    public static WorkerCapacity ofHost(int workers) {
        long memTotalMb = memTotalKb(Path.of("/proc/meminfo")) / 1024;
        long memory = memTotalMb - Math.max(1024, memTotalMb / 8);
        long pids = Math.min(readLong(Path.of("/proc/sys/kernel/pid_max")), readLong(Path.of("/proc/sys/kernel/threads-max"))) / 2;
        int n = Math.max(1, workers);
        return new WorkerCapacity(Math.max(64, memory / n), Math.max(START_PIDS, pids / n));
    }

    static long memTotalKb(Path meminfo) {
        try {
            for (String line : Files.readAllLines(meminfo)) {
                if (line.startsWith("MemTotal:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("no MemTotal in " + meminfo);
    }

    /** By lines: {@code Files.readString} reads one byte of a /proc/sys file on this kernel (it trusts the size, 0). */
    private static long readLong(Path file) {
        try {
            return Long.parseLong(Files.readAllLines(file).getFirst().trim());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package dev.ignis.worker.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Resource limits for sandboxes through Linux control groups, on either hierarchy.
 *
 * <p>Hosts differ: this development machine mounts the v1 controllers ({@code memory}, {@code cpu},
 * {@code pids}, ...) under {@code /sys/fs/cgroup/<controller>} and an (almost empty) v2 hierarchy at
 * {@code /sys/fs/cgroup/unified}; current distributions mount only v2 at {@code /sys/fs/cgroup}.
 * {@link #detect} picks whichever hierarchy actually carries the memory controller.
 */
public sealed interface Cgroups permits CgroupsV1, CgroupsV2 {

    /** CPU period used for the CFS quota (100 ms, the kernel default). */
    long CPU_PERIOD_MICROS = 100_000;
    /** Lambda's ratio: 1,769 MB of memory buys one vCPU. */
    int MB_PER_VCPU = 1769;

    /** Limits for one sandbox. */
    record Limits(long memoryBytes, long cpuQuotaMicros, long cpuPeriodMicros, int pidsMax) {
        /** Memory = MemorySize, CPU = period * mem / 1769 (at least 1 ms per period), pids as given. */
        public static Limits forMemory(int memoryMb, int pidsMax) {
            long quota = Math.max(1000, CPU_PERIOD_MICROS * memoryMb / MB_PER_VCPU);
            return new Limits(memoryMb * 1024L * 1024L, quota, CPU_PERIOD_MICROS, pidsMax);
        }
    }

    /** One sandbox's control group (one directory per controller on v1, one directory on v2). */
    interface Group {
        /** The {@code cgroup.procs} files a process must be written to (all controllers). */
        List<Path> procsFiles();

        /** Peak memory use since the group was created, in bytes (0 when the kernel cannot tell). */
        long peakMemoryBytes();

        /** How many processes the kernel OOM killer has killed in this group. */
        long oomKills();

        /** SIGKILLs every process in the group and waits (bounded) until it is empty. */
        void killAll();

        /** Kills what is left and removes the group's directories. */
        void remove();
    }

    /** Creates the group for one sandbox, limits applied, no process in it yet. */
    Group create(String sandboxName, Limits limits);

    /**
     * Limits this worker's parent group: every sandbox of the worker together (ready shells included)
     * uses at most {@code memoryBytes} of memory (no swap) and {@code pids} processes and threads.
     */
    void limitAll(long memoryBytes, long pids);

    /** Processes and threads in all of this worker's groups now. */
    long pidsInUse();

    /** Kills and removes groups left by an earlier run of the same worker. */
    void removeStale();

    /** Kills and removes every sandbox group of this worker, then the worker's parent group(s). */
    void removeAll();

    /** Human-readable description, e.g. "cgroup v1 (memory,cpu,pids) under ...". */
    String describe();

    /** Picks the hierarchy that has the memory controller; {@code workerGroup} names this worker's parent group. */
    static Cgroups detect(String workerGroup) {
        Path root = Path.of("/sys/fs/cgroup");
        Optional<Path> v2 = CgroupsV2.findMountWithMemory(root);
        if (v2.isPresent()) {
            return new CgroupsV2(v2.get(), workerGroup);
        }
        if (Files.isRegularFile(root.resolve("memory/memory.limit_in_bytes"))) {
            return CgroupsV1.forCurrentProcess(root, workerGroup);
        }
        throw new IllegalStateException("no cgroup hierarchy with the memory controller under " + root
                + ": the process sandbox needs cgroups for memory limits");
    }

    // ---- small file helpers shared by both implementations ----

    static void write(Path file, String value) {
        try {
            Files.writeString(file, value);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write '" + value + "' to " + file, e);
        }
    }

    static String read(Path file) {
        try {
            return Files.readString(file).trim();
        } catch (IOException e) {
            return "";
        }
    }

    static long readLong(Path file) {
        String s = read(file);
        try {
            return s.isEmpty() ? 0 : Long.parseLong(s);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** Value of "key N" in a flat keyed file such as memory.events or memory.oom_control. */
    static long keyed(Path file, String key) {
        for (String line : read(file).split("\n")) {
            String[] kv = line.trim().split("\\s+");
            if (kv.length == 2 && kv[0].equals(key)) {
                try {
                    return Long.parseLong(kv[1]);
                } catch (NumberFormatException e) {
                    return 0;
                }
            }
        }
        return 0;
    }

    /** SIGKILLs the pids listed in a cgroup.procs file until it stays empty (bounded to ~2 s). */
    static void killProcs(Path procs) {
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (System.nanoTime() < deadline) {
            String s = read(procs);
            if (s.isEmpty()) {
                return;
            }
            for (String pid : s.split("\\s+")) {
                try {
                    ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
                } catch (NumberFormatException ignored) {
                    // a torn read; the next round sees it again
                }
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** rmdir with a few retries: the kernel refuses until the last task has fully exited. */
    static void rmdir(Path dir) {
        for (int i = 0; i < 100 && Files.exists(dir); i++) {
            try {
                Files.deleteIfExists(dir);
                return;
            } catch (IOException e) {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}

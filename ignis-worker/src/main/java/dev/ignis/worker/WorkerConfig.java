package dev.ignis.worker;

import dev.ignis.runtimes.RuntimeDefinition;
import dev.ignis.worker.runtimeapi.RuntimeApiLimits;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * Configuration of a {@link SandboxWorker} and its {@link BubblewrapDriver}.
 *
 * @param workerId        short id, [a-z0-9-]{1,24}; names this worker's network namespaces and cgroups
 * @param dataDir         worker state: logs under {@code logs/<account>/<function>/}, the seccomp program
 * @param runtimes        runtime id to its definition (the runtimes module's catalog)
 * @param clock           wall clock for deadlines and log timestamps (durations use the monotonic clock)
 * @param uidBase         start of the host's pool of sandbox uids/gids: each worker of the host claims its own
 *                        block {@code uidBase + k * uidCount} ({@code sandbox.UidRanges}), one uid per live sandbox
 * @param uidCount        the size of a worker's block (bounds its live sandboxes)
 * @param pidsMax         cgroup pids limit per sandbox (fork bombs stop here)
 * @param initTimeout     the init phase bound (Lambda: 10 s)
 * @param logFileMaxBytes size at which a function's log file rotates
 * @param logFilesKept    rotated files kept per function, current one included
 * @param warmNetns       network namespaces created up front
 * @param runtimeApi      the Runtime API's bounds against runtimes: body budget, read timeout
 * @param capacity        what this worker's sandboxes may hold together (admission and the worker cgroup's limits)
 */
public record WorkerConfig(
        String workerId,
        Path dataDir,
        Function<String, Optional<RuntimeDefinition>> runtimes,
        InstantSource clock,
        int uidBase,
        int uidCount,
        int pidsMax,
        Duration initTimeout,
        long logFileMaxBytes,
        int logFilesKept,
        int warmNetns,
        RuntimeApiLimits runtimeApi,
        WorkerCapacity capacity) {

    public WorkerConfig {
        Objects.requireNonNull(workerId, "workerId");
        if (!workerId.matches("[a-z0-9-]{1,24}")) {
            throw new IllegalArgumentException("workerId must match [a-z0-9-]{1,24}: " + workerId);
        }
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(runtimes, "runtimes");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(initTimeout, "initTimeout");
        Objects.requireNonNull(runtimeApi, "runtimeApi");
        if (uidBase < 1000 || uidCount < 1 || (long) uidBase + uidCount > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("uid range must be unprivileged (>= 1000) and non-empty");
        }
        if (pidsMax < 16) {
            throw new IllegalArgumentException("pidsMax must be at least 16");
        }
        Objects.requireNonNull(capacity, "capacity");
    }

    /**
     * Defaults: a block of 10,000 uids from 200000, 512 pids, 10 s init, 10 MB x 3 log files, 2 warm namespaces,
     * {@link RuntimeApiLimits#defaults}, the host's capacity ({@link WorkerCapacity#ofHost()}).
     */
    public static WorkerConfig defaults(String workerId, Path dataDir,
                                        Function<String, Optional<RuntimeDefinition>> runtimes) {
        return new WorkerConfig(workerId, dataDir, runtimes, InstantSource.system(), 200_000, 10_000, 512,
                Duration.ofSeconds(10), 10L * 1024 * 1024, 3, 2, RuntimeApiLimits.defaults(), WorkerCapacity.ofHost());
    }

    /** This configuration with another capacity. */
    public WorkerConfig withCapacity(WorkerCapacity c) {
        return new WorkerConfig(workerId, dataDir, runtimes, clock, uidBase, uidCount, pidsMax, initTimeout, logFileMaxBytes,
                logFilesKept, warmNetns, runtimeApi, c);
    }
}

package dev.ignis.dist;

import dev.ignis.worker.WorkerCapacity;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How a single-node platform is started.
 *
 * @param keepAlive how long an idle sandbox is kept warm before it is retired
 * @param workerId  names this node's network namespaces and cgroups; unique per running platform
 * @param runtimeHome where managed runtimes are installed ({@code <runtimeHome>/runtimes/<id>}); installing
 *                  trains class-data archives once, so tests share one home across data directories
 * @param journalAssignment the sandbox table on a (one-peer) journal instead of in memory; on a single
 *                  node the sandboxes die with the process either way, so memory is the default
 * @param workerCapacity what the worker's sandboxes may hold together (default: the host's, {@link WorkerCapacity#ofHost()})
 * @param metricsPort the operator's port on 127.0.0.1 ({@code /metrics} without a token, the probes); -1: none, 0: a free one
 * @param s3 the S3-compatible store packages and layer archives may come from ({@code --s3-endpoint}); null: none
 * @param sandboxDriver the worker's sandbox driver ({@code SandboxDrivers.NAMES}: {@code process}, the default, {@code gvisor} or {@code microvm})
 */
public record PlatformConfig(Path dataDir, String host, int port, Duration keepAlive, String workerId, Path runtimeHome,
                             boolean journalAssignment, WorkerCapacity workerCapacity, int metricsPort, S3PackageStore.Settings s3,
                             String sandboxDriver) {

    public PlatformConfig(Path dataDir, String host, int port, Duration keepAlive, String workerId, Path runtimeHome,
                          boolean journalAssignment, WorkerCapacity workerCapacity, int metricsPort, S3PackageStore.Settings s3) {
        this(dataDir, host, port, keepAlive, workerId, runtimeHome, journalAssignment, workerCapacity, metricsPort, s3, "process");
    }

    public PlatformConfig(Path dataDir, String host, int port, Duration keepAlive, String workerId, Path runtimeHome) {
        this(dataDir, host, port, keepAlive, workerId, runtimeHome, false, WorkerCapacity.ofHost(), -1, null);
    }

    public PlatformConfig(Path dataDir, String host, int port, Duration keepAlive, String workerId, Path runtimeHome,
                          boolean journalAssignment, WorkerCapacity workerCapacity, int metricsPort) {
        this(dataDir, host, port, keepAlive, workerId, runtimeHome, journalAssignment, workerCapacity, metricsPort, null);
    }

    public PlatformConfig withS3(S3PackageStore.Settings store) {
        return new PlatformConfig(dataDir, host, port, keepAlive, workerId, runtimeHome, journalAssignment, workerCapacity, metricsPort, store, sandboxDriver);
    }

    public PlatformConfig withMetricsPort(int metricsPort) {
        return new PlatformConfig(dataDir, host, port, keepAlive, workerId, runtimeHome, journalAssignment, workerCapacity, metricsPort, s3, sandboxDriver);
    }

    public static PlatformConfig defaults(Path dataDir, String host, int port) {
        return new PlatformConfig(dataDir, host, port, Duration.ofMinutes(5), workerIdFor(dataDir), dataDir);
    }

    public PlatformConfig withJournalAssignment(boolean journal) {
        return new PlatformConfig(dataDir, host, port, keepAlive, workerId, runtimeHome, journal, workerCapacity, metricsPort, s3, sandboxDriver);
    }

    public PlatformConfig withWorkerCapacity(WorkerCapacity capacity) {
        return new PlatformConfig(dataDir, host, port, keepAlive, workerId, runtimeHome, journalAssignment, capacity, metricsPort, s3, sandboxDriver);
    }

    public PlatformConfig withSandboxDriver(String driver) {
        return new PlatformConfig(dataDir, host, port, keepAlive, workerId, runtimeHome, journalAssignment, workerCapacity, metricsPort, s3, driver);
    }

    /**
     * The worker id of a data directory: stable across restarts, so a platform that starts after a
     * crash (kill -9) removes the network namespaces and cgroups its predecessor left behind; and
     * distinct per data directory, so platforms of parallel checkouts never collide.
     */
    public static String workerIdFor(Path dataDir) {
        return "w" + Integer.toString(dataDir.toAbsolutePath().normalize().toString().hashCode() & 0x7fffffff, 36);
    }

}

package dev.ignis.dist;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How a single-node platform is started.
 *
 * @param keepAlive how long an idle sandbox is kept warm before it is retired
 * @param workerId  names this node's network namespaces and cgroups; unique per running platform
 * @param runtimeHome where managed runtimes are installed ({@code <runtimeHome>/runtimes/<id>}); installing
 *                  trains class-data archives once, so tests share one home across data directories
 */
public record PlatformConfig(Path dataDir, String host, int port, Duration keepAlive, String workerId, Path runtimeHome) {

    public static PlatformConfig defaults(Path dataDir, String host, int port) {
        return new PlatformConfig(dataDir, host, port, Duration.ofMinutes(5), uniqueWorkerId(), dataDir);
    }

    /** Unique among platforms on this host: network namespaces and cgroups are named after it. */
    public static String uniqueWorkerId() {
        return "w" + ProcessHandle.current().pid() + "-" + Integer.toString(java.util.concurrent.ThreadLocalRandom.current().nextInt(1 << 20), 36);
    }
}

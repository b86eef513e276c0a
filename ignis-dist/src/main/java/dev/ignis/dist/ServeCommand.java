package dev.ignis.dist;

import dev.ignis.common.Json;
import dev.ignis.config.ConfigStore;
import dev.ignis.worker.WorkerCapacity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * `ignis serve`: every role in one JVM on embedded defaults; or, with {@code --peers}, one node of a
 * cluster with the roles its cluster file gives it.
 */
@Command(name = "serve", description = "Start the single-node platform (frontend, config, assignment, worker), "
        + "or one node of a cluster (--peers FILE --node ID).")
final class ServeCommand implements Callable<Integer> {
    @Mixin
    DataDirOption dataDir;

    @Option(names = "--host", description = "Listen address (env IGNIS_HOST; default 127.0.0.1)")
    String host;

    @Option(names = "--port", description = "Listen port (env IGNIS_PORT; default 9000; 0 picks a free one)")
    Integer port;

    @Option(names = "--runtime-home", description = "Where managed runtimes are installed (default: the data directory)")
    Path runtimeHome;

    @Option(names = "--keep-alive", description = "Idle sandbox keep-alive in seconds (default 300)")
    long keepAliveSeconds = 300;

    @Option(names = "--assignment", description = "Single node: where the sandbox table lives: in-memory (default) or journal")
    String assignment = "in-memory";

    @Option(names = "--sandbox-memory", description = "Single node: MB of memory for all sandboxes together; a sandbox "
            + "beyond it is refused with 429 (default: the host's memory less an eighth, at least 1 GiB)")
    Long sandboxMemoryMb;

    @Option(names = "--sandbox-pids", description = "Single node: processes and threads of all sandboxes together "
            + "(default: half of the smaller of kernel.pid_max and kernel.threads-max)")
    Long sandboxPids;

    @Option(names = "--metrics-port", description = "Serve GET /metrics (no token), /healthz and /readyz on 127.0.0.1 at this "
            + "port (env IGNIS_METRICS_PORT; default none: metrics at /ignis-admin/metrics with the admin token)")
    Integer metricsPort;

    @Option(names = "--sandbox", description = "Single node: the sandbox driver: process (default; bubblewrap, the host's "
            + "kernel), gvisor (gVisor's runsc: a user-space kernel per sandbox; apt-get install runsc) or microvm (each "
            + "sandbox its own kernel under QEMU's microvm machine; KVM where the host has it, else TCG)")
    String sandbox = "process";

    @Option(names = "--s3-endpoint", description = "Single node: an S3-compatible store (e.g. MinIO) that Code.S3Bucket/S3Key and "
            + "layer Content.S3Bucket/S3Key are read from (env IGNIS_S3_ENDPOINT; credentials IGNIS_S3_ACCESS_KEY_ID, "
            + "IGNIS_S3_SECRET_ACCESS_KEY; region IGNIS_S3_REGION, default us-east-1); none: such requests are refused")
    String s3Endpoint;
    @Option(names = "--log-format", description = "The platform's log on stderr: text (default) or json, one object per line "
            + "with the request id, account and function of the request served (env IGNIS_LOG_FORMAT)")
    String logFormat;

    @Option(names = "--peers", description = "Cluster mode: the cluster file (nodes, roles, addresses; see `ignis cluster up`)")
    Path peers;

    @Option(names = "--node", description = "Cluster mode: this node's id in the cluster file")
    String node;

    @Option(names = "--role", split = ",", description = "Cluster mode: the roles this node runs (frontend, config, assignment, "
            + "worker); must match the cluster file")
    java.util.List<String> roles;

    @Override
    public Integer call() throws Exception {
        try {
            LogFormat.parse(logFormat != null ? logFormat : System.getenv("IGNIS_LOG_FORMAT")).apply();
        } catch (IllegalArgumentException e) {
            System.err.println("ignis: " + e.getMessage());
            return 2;
        }
        if (peers != null || node != null || roles != null) {
            return serveClusterNode();
        }
        if (!assignment.equals("in-memory") && !assignment.equals("journal")) {
            System.err.println("ignis: --assignment must be in-memory or journal");
            return 2;
        }
        if (!dev.ignis.worker.SandboxDrivers.NAMES.contains(sandbox)) {
            System.err.println("ignis: --sandbox must be one of " + String.join(", ", dev.ignis.worker.SandboxDrivers.NAMES));
            return 2;
        }
        Path data = dataDir.get();
        String h = host != null ? host : env("IGNIS_HOST", "127.0.0.1");
        int p = port != null ? port : Integer.parseInt(env("IGNIS_PORT", "9000"));
        WorkerCapacity host = WorkerCapacity.ofHost();
        WorkerCapacity capacity;
        try {
            capacity = new WorkerCapacity(sandboxMemoryMb != null ? sandboxMemoryMb : host.memoryMb(),
                    sandboxPids != null ? sandboxPids : host.pids());
        } catch (IllegalArgumentException e) {
            System.err.println("ignis: --sandbox-memory/--sandbox-pids: " + e.getMessage());
            return 2;
        }
        var cfg = new PlatformConfig(data, h, p, Duration.ofSeconds(keepAliveSeconds), PlatformConfig.workerIdFor(data),
                runtimeHome != null ? runtimeHome.toAbsolutePath() : data, assignment.equals("journal"), capacity, metricsPort())
                .withSandboxDriver(sandbox);
        try {
            cfg = cfg.withS3(S3PackageStore.Settings.fromEnvironment(s3Endpoint));
        } catch (IllegalArgumentException e) {
            System.err.println("ignis: --s3-endpoint: " + e.getMessage());
            return 2;
        }
        DataDirLock lock = DataDirLock.acquire(data);
        Platform platform;
        try {
            platform = Platform.start(cfg);
        } catch (RuntimeException e) {
            lock.close();
            System.err.println("ignis: cannot start: " + e.getMessage());
            return 1;
        }
        CountDownLatch stopped = stopOnShutdown(platform, lock);
        writeServerFile(data, h, platform.port(), platform.metricsPort());
        String endpoint = "http://" + h + ":" + platform.port();
        if (platform.config().image().allAccounts().isEmpty()) {
            firstStart(platform.config(), data, endpoint);
        }
        System.out.println("Ignis is serving the Lambda API on " + endpoint + " (data: " + data + ")");
        System.out.println("Console (sign in with " + data.resolve("admin.token") + "): " + endpoint + dev.ignis.frontend.console.Console.PATH + "/");
        if (platform.metricsPort() >= 0) {
            System.out.println("Metrics and probes on http://" + OpsListener.HOST + ":" + platform.metricsPort() + "/metrics");
        }
        System.out.println("Runtimes: " + String.join(", ", platform.runtimes().all().stream().map(r -> r.id()).sorted().toList()));
        System.out.flush();
        stopped.await();
        return 0;
    }

    private int serveClusterNode() throws Exception {
        if (peers == null || node == null) {
            System.err.println("ignis: cluster mode needs both --peers FILE and --node ID");
            return 2;
        }
        final dev.ignis.cluster.Topology topology;
        try {
            topology = dev.ignis.cluster.Topology.read(peers);
            var me = topology.require(node);
            if (roles != null) {
                var wanted = new java.util.HashSet<dev.ignis.cluster.Topology.Role>();
                for (String r : roles) {
                    wanted.add(dev.ignis.cluster.Topology.parseRole(r.trim()));
                }
                if (!wanted.equals(me.roles())) {
                    System.err.println("ignis: --role " + String.join(",", roles) + " does not match node " + node + "'s roles "
                            + me.roles() + " in " + peers);
                    return 2;
                }
            }
        } catch (RuntimeException e) {
            System.err.println("ignis: " + e.getMessage());
            return 2;
        }
        Path data = dataDir.get();
        DataDirLock lock = DataDirLock.acquire(data);
        ClusterNode cn;
        try {
            cn = ClusterNode.start(topology, node, data, runtimeHome != null ? runtimeHome.toAbsolutePath() : data,
                    Duration.ofSeconds(keepAliveSeconds), metricsPort());
        } catch (RuntimeException e) {
            lock.close();
            System.err.println("ignis: cannot start node " + node + ": " + e);
            return 1;
        }
        CountDownLatch stopped = stopOnShutdown(cn, lock);
        writeServerFile(data, cn.node().host(), cn.httpPort(), cn.metricsPort());
        System.out.println("Ignis node " + node + " (" + cn.node().roles() + ") is up"
                + (cn.httpPort() > 0 ? "; Lambda API on http://" + cn.node().host() + ":" + cn.httpPort() : ""));
        System.out.flush();
        stopped.await();
        return 0;
    }

    /** On SIGTERM/Ctrl-C: stop what runs, release the data directory, then let {@code call} return. */
    private static CountDownLatch stopOnShutdown(AutoCloseable running, DataDirLock lock) {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                running.close();
            } catch (Exception e) {
                System.err.println("ignis: stopping failed: " + e);
            }
            lock.close();
            stopped.countDown();
        }));
        return stopped;
    }

    /** Creates the default account and an AWS CLI profile for it; the secret is printed this once. */
    private static void firstStart(ConfigStore config, Path data, String endpoint) throws IOException {
        var key = config.createAccount("default");
        Path aws = data.resolve("aws");
        Files.createDirectories(aws);
        Secrets.writePrivate(aws.resolve("credentials"), "[ignis]\naws_access_key_id = " + key.accessKeyId()
                + "\naws_secret_access_key = " + key.secretAccessKey() + "\n");
        Secrets.writePrivate(aws.resolve("config"), "[profile ignis]\nregion = " + dev.ignis.config.Region.NAME
                + "\nendpoint_url = " + endpoint + "\noutput = json\n");
        System.out.println("Created the default account " + key.accountId());
        System.out.println("  aws_access_key_id     = " + key.accessKeyId());
        System.out.println("  aws_secret_access_key = " + key.secretAccessKey());
        System.out.println("An AWS CLI profile 'ignis' was written; use it with:");
        System.out.println("  export AWS_SHARED_CREDENTIALS_FILE=" + aws.resolve("credentials") + " AWS_CONFIG_FILE=" + aws.resolve("config")
                + " AWS_PROFILE=ignis");
    }

    /** Lets local commands find the running server. */
    static void writeServerFile(Path data, String host, int port) throws IOException {
        writeServerFile(data, host, port, -1);
    }

    /** @param metricsPort the operator's port on 127.0.0.1, or -1 */
    static void writeServerFile(Path data, String host, int port, int metricsPort) throws IOException {
        Secrets.writePrivate(data.resolve("server.json"), Json.mapper().writeValueAsString(
                Map.of("host", host, "port", port, "pid", ProcessHandle.current().pid(), "metricsPort", metricsPort)));
    }

    /** --metrics-port, else IGNIS_METRICS_PORT, else -1 (none). */
    private int metricsPort() {
        return metricsPort != null ? metricsPort : Integer.parseInt(env("IGNIS_METRICS_PORT", "-1"));
    }

    private static String env(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v;
    }
}

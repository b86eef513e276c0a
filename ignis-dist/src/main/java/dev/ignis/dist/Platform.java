package dev.ignis.dist;

import dev.ignis.assignment.Assignment;
import dev.ignis.assignment.InMemoryAssignment;
import dev.ignis.assignment.replicated.Partitioning;
import dev.ignis.assignment.replicated.ReplicatedAssignment;
import dev.ignis.assignment.replicated.ReplicatedPartition;
import dev.ignis.journal.JournalConfig;
import dev.ignis.async.EventQueue;
import dev.ignis.assignment.SandboxKey;
import dev.ignis.config.CodeStore;
import dev.ignis.config.ConfigImage;
import dev.ignis.config.ConfigStore;
import dev.ignis.config.FunctionEntry;
import dev.ignis.config.FunctionKey;
import dev.ignis.config.SecretSealer;
import dev.ignis.frontend.FrontendServer;
import dev.ignis.frontend.console.Console;
import dev.ignis.frontend.InvokePath;
import dev.ignis.frontend.LambdaApi;
import dev.ignis.frontend.SigV4Verifier;
import dev.ignis.journal.RatisJournal;
import dev.ignis.runtimes.RuntimeCatalog;
import dev.ignis.worker.SandboxDrivers;
import dev.ignis.worker.SandboxWorker;
import dev.ignis.worker.WorkerConfig;
import dev.ignis.worker.sandbox.SandboxReach;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashSet;
import java.util.Set;

/**
 * Every role of Ignis in one JVM (the single-node default): config on a one-peer Ratis journal,
 * frontend, in-memory assignment, one process worker. All wiring of the process happens here.
 */
public final class Platform implements AutoCloseable {
    private final ConfigStore config;
    private final SandboxWorker worker;
    private final Assignment assignment;
    private final AutoCloseable assignmentJournal;
    private final FrontendServer frontend;
    private final RuntimeCatalog runtimes;
    private final EventQueue events;
    private final FrontendServer ops;
    private final S3PackageStore s3;

    private Platform(ConfigStore config, SandboxWorker worker, Assignment assignment, AutoCloseable assignmentJournal,
                     FrontendServer frontend, RuntimeCatalog runtimes, EventQueue events, FrontendServer ops, S3PackageStore s3) {
        this.ops = ops;
        this.s3 = s3;
        this.assignmentJournal = assignmentJournal;
        this.events = events;
        this.config = config;
        this.worker = worker;
        this.assignment = assignment;
        this.frontend = frontend;
        this.runtimes = runtimes;
    }

    /** Opens only the config store of a data directory (for offline administration). */
    public static ConfigStore openConfig(Path dataDir, Set<String> runtimeIds) {
        createPrivateDir(dataDir);
        return new ConfigStore(sm -> RatisJournal.single("config", dataDir.resolve("journal/config"), sm),
                codeStore(dataDir), SecretSealer.open(dataDir), runtimeIds, Clock.systemUTC());
    }

    /** The code store of a data directory; env IGNIS_CODE_STORAGE_LIMIT (bytes) sets each account's code storage quota. */
    static CodeStore codeStore(Path dataDir) {
        String limit = System.getenv("IGNIS_CODE_STORAGE_LIMIT");
        if (limit == null || limit.isBlank()) {
            return new CodeStore(dataDir);
        }
        try {
            return new CodeStore(dataDir, new CodeStore.Settings(Long.parseLong(limit.trim()), CodeStore.Settings.defaults().unpackUid()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("IGNIS_CODE_STORAGE_LIMIT must be a number of bytes, not " + limit, e);
        }
    }

    /** Opens only the event queue of a data directory (for offline administration; its poller does not run). */
    public static EventQueue openEvents(Path dataDir) {
        return new EventQueue(sm -> RatisJournal.single("events", dataDir.resolve("journal/events"), sm),
                event -> new EventQueue.Result(EventQueue.Kind.PLATFORM_ERROR, null, null), Clock.systemUTC(), EventQueue.Settings.aws());
    }

    public static Platform start(PlatformConfig cfg) {
        Clock clock = Clock.systemUTC();
        Path data = cfg.dataDir().toAbsolutePath();
        createPrivateDir(data);
        // sandboxes read their code below the data directory and their runtimes below the runtime home
        SandboxReach.requireTraversable(data, "the data directory");
        RuntimeCatalog runtimes = RuntimeCatalog.install(cfg.runtimeHome().toAbsolutePath());
        SandboxReach.requireTraversable(cfg.runtimeHome(), "the runtime home");
        Set<String> ids = new HashSet<>();
        runtimes.all().forEach(r -> ids.add(r.id()));
        ConfigStore config = openConfig(data, ids);
        SandboxWorker worker = null;
        Assignment assignment = null;
        ReplicatedPartition partition = null;
        EventQueue events = null;
        FrontendServer ops = null;
        S3PackageStore s3 = null;
        try {
            s3 = cfg.s3() == null ? null : new S3PackageStore(cfg.s3());
            WorkerConfig workerConfig = SandboxDrivers.configFor(cfg.sandboxDriver(),
                    WorkerConfig.defaults(cfg.workerId(), data.resolve("worker"), runtimes::find).withCapacity(cfg.workerCapacity()));
            worker = new SandboxWorker(workerConfig, SandboxDrivers.create(cfg.sandboxDriver(), workerConfig));
            SandboxWorker w = worker;
            if (cfg.journalAssignment()) {
                partition = ReplicatedPartition.open(JournalConfig.singlePeer(Partitioning.groupName(0),
                        data.resolve("journal/assignment")), spec -> w, id -> id.equals(w.workerId()) ? w : null, clock, cfg.keepAlive());
                assignment = partition.assignment();
                forgetDeadSandboxes(partition.assignment(), w);
            } else {
                assignment = new InMemoryAssignment(spec -> w, clock, cfg.keepAlive());
            }
            Assignment a = assignment;
            config.onChange(image -> a.retireWhere(key -> !current(image, key)));
            var verifier = verifier(config, clock);
            var invokePath = new java.util.concurrent.atomic.AtomicReference<InvokePath>();
            events = new EventQueue(sm -> RatisJournal.single("events", data.resolve("journal/events"), sm),
                    event -> AsyncInvocations.run(invokePath.get(), event), clock, EventQueue.Settings.aws());
            var metrics = new Metrics(events, assignment);
            invokePath.set(new InvokePath(config, assignment, events, metrics.registry()));
            String adminToken = Secrets.adminToken(data);
            // the operator's web console, in front of the admin endpoint and behind the same token
            var admin = new Console(new Admin.Endpoint(config, events, metrics, adminToken), adminToken,
                    new Console.Sources(config, metrics.registry(), assignment, data.resolve("worker")), clock);
            var api = new LambdaApi(verifier, config, Secrets.codeLinkKey(data), clock, invokePath.get(), events, admin, s3);
            var health = Probes.singleNode(config, partition == null ? null : partition.assignment(), runtimes, data, cfg.runtimeHome());
            ops = cfg.metricsPort() >= 0 ? OpsListener.start(cfg.metricsPort(), metrics, health) : null;
            var frontend = new FrontendServer(cfg.host(), cfg.port(), api, health);
            events.start();
            return new Platform(config, worker, assignment, partition, frontend, runtimes, events, ops, s3);
        } catch (RuntimeException e) {
            if (ops != null) {
                ops.close();
            }
            if (s3 != null) {
                s3.close();
            }
            if (events != null) {
                events.close();
            }
            if (partition != null) {
                partition.close();
            } else if (assignment != null) {
                assignment.close();
            }
            if (worker != null) {
                worker.close();
            }
            config.close();
            throw e;
        }
    }

    /** SigV4 verification against the access keys of a configuration image (local or replica). */
    static SigV4Verifier verifier(ConfigStore config, Clock clock) {
        return new SigV4Verifier(id -> config.image().key(id)
                .map(k -> new SigV4Verifier.Caller(k.accountId(), k.accessKeyId(), config.secret(k).orElseThrow())), clock);
    }

    /** A sandbox is current while its function version still exists at the same revision. */
    static boolean current(ConfigImage image, SandboxKey key) {
        FunctionEntry e = image.function(new FunctionKey(key.accountId(), key.functionName())).orElse(null);
        if (e == null) {
            return false;
        }
        var c = e.version(key.version());
        return c != null && c.revisionId().equals(key.revisionId());
    }

    public int port() {
        return frontend.port();
    }

    public ConfigStore config() {
        return config;
    }

    /** The operator's port on 127.0.0.1 ({@code --metrics-port}), or -1 when there is none. */
    public int metricsPort() {
        return ops == null ? -1 : ops.port();
    }

    /**
     * A single node's sandboxes die with it: after a restart, the journal's table names sandboxes
     * that no longer exist. Once this member leads, they are retired before the first invoke.
     */
    private static void forgetDeadSandboxes(ReplicatedAssignment assignment, SandboxWorker worker) {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (!assignment.isLeader()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the assignment journal did not become ready in 30 s");
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while opening the assignment journal", e);
            }
        }
        Set<String> live = new HashSet<>();
        worker.sandboxes().forEach(h -> live.add(h.sandboxId()));
        assignment.reconcile(worker.workerId(), live);
    }

    public Assignment assignment() {
        return assignment;
    }

    public EventQueue events() {
        return events;
    }

    public RuntimeCatalog runtimes() {
        return runtimes;
    }

    @Override
    public void close() {
        if (ops != null) {
            ops.close();
        }
        frontend.close();
        events.close();
        assignment.close();
        if (assignmentJournal != null) {
            try {
                assignmentJournal.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        worker.close();
        config.close();
        if (s3 != null) {
            s3.close();
        }
    }

    /**
     * The data directory is traversable but not listable by others (0711): sandboxes run as
     * unprivileged uids and bubblewrap must reach the unpacked code below it, while every secret
     * in it is a 0600 file.
     */
    static void createPrivateDir(Path dir) {
        try {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

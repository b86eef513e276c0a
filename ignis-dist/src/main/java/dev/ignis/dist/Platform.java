package dev.ignis.dist;

import dev.ignis.assignment.InMemoryAssignment;
import dev.ignis.async.EventQueue;
import dev.ignis.assignment.SandboxKey;
import dev.ignis.config.CodeStore;
import dev.ignis.config.ConfigImage;
import dev.ignis.config.ConfigStore;
import dev.ignis.config.FunctionEntry;
import dev.ignis.config.FunctionKey;
import dev.ignis.config.SecretSealer;
import dev.ignis.frontend.FrontendServer;
import dev.ignis.frontend.InvokePath;
import dev.ignis.frontend.LambdaApi;
import dev.ignis.frontend.SigV4Verifier;
import dev.ignis.journal.RatisJournal;
import dev.ignis.runtimes.RuntimeCatalog;
import dev.ignis.worker.ProcessWorker;
import dev.ignis.worker.WorkerConfig;
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
    private final ProcessWorker worker;
    private final InMemoryAssignment assignment;
    private final FrontendServer frontend;
    private final RuntimeCatalog runtimes;
    private final EventQueue events;

    private Platform(ConfigStore config, ProcessWorker worker, InMemoryAssignment assignment, FrontendServer frontend, RuntimeCatalog runtimes,
                     EventQueue events) {
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
                new CodeStore(dataDir), SecretSealer.open(dataDir), runtimeIds, Clock.systemUTC());
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
        RuntimeCatalog runtimes = RuntimeCatalog.install(cfg.runtimeHome().toAbsolutePath());
        Set<String> ids = new HashSet<>();
        runtimes.all().forEach(r -> ids.add(r.id()));
        ConfigStore config = openConfig(data, ids);
        ProcessWorker worker = null;
        InMemoryAssignment assignment = null;
        EventQueue events = null;
        try {
            worker = new ProcessWorker(WorkerConfig.defaults(cfg.workerId(), data.resolve("worker"), runtimes::find));
            ProcessWorker w = worker;
            assignment = new InMemoryAssignment(spec -> w, clock, cfg.keepAlive());
            InMemoryAssignment a = assignment;
            config.onChange(image -> a.retireWhere(key -> !current(image, key)));
            var verifier = new SigV4Verifier(id -> config.image().key(id)
                    .map(k -> new SigV4Verifier.Caller(k.accountId(), k.accessKeyId(), config.secret(k).orElseThrow())), clock);
            var invokePath = new java.util.concurrent.atomic.AtomicReference<InvokePath>();
            events = new EventQueue(sm -> RatisJournal.single("events", data.resolve("journal/events"), sm),
                    event -> AsyncInvocations.run(invokePath.get(), event), clock, EventQueue.Settings.aws());
            invokePath.set(new InvokePath(config, assignment, events));
            var api = new LambdaApi(verifier, config, Secrets.codeLinkKey(data), clock, invokePath.get(), events,
                    new Admin.Endpoint(config, events, new Metrics(events, assignment), Secrets.adminToken(data)));
            var frontend = new FrontendServer(cfg.host(), cfg.port(), api);
            events.start();
            return new Platform(config, worker, assignment, frontend, runtimes, events);
        } catch (RuntimeException e) {
            if (events != null) {
                events.close();
            }
            if (assignment != null) {
                assignment.close();
            }
            if (worker != null) {
                worker.close();
            }
            config.close();
            throw e;
        }
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

    public InMemoryAssignment assignment() {
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
        frontend.close();
        events.close();
        assignment.close();
        worker.close();
        config.close();
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

package dev.ignis.worker.gvisor;

import dev.ignis.worker.SandboxDriver;
import dev.ignis.worker.SandboxSpec;
import dev.ignis.worker.WorkerAtCapacityException;
import dev.ignis.worker.WorkerConfig;
import dev.ignis.worker.runtimeapi.RuntimeEvent;
import dev.ignis.worker.sandbox.Cgroups;
import dev.ignis.worker.sandbox.HostClaims;
import dev.ignis.worker.sandbox.NetNamespaces;
import dev.ignis.worker.sandbox.SandboxLauncher;
import dev.ignis.worker.sandbox.UidRanges;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.BitSet;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code gvisor} sandbox driver: each sandbox is a gVisor sandbox ({@code runsc}, ptrace platform), so the
 * runtime's system calls are served by gVisor's user-space kernel, not the host's. Around it, what the process
 * driver gives every sandbox: its own cgroup (memory = MemorySize, CPU proportional to memory, pids bounded), its own
 * network namespace holding only the Runtime API's listener on 127.0.0.1:9001, its own unprivileged host uid (runsc
 * runs rootless: the Sentry, the Gofer and the stubs are that uid), a read-only root, code and runtime, and a
 * {@code /tmp} of EphemeralStorage. The start path is the process driver's launcher with runsc as its program
 * ({@link RunscCommand}); the runtime's command and environment reach {@code /.ignis-await} inside gVisor on its
 * standard input, so the bundle on disk holds no function variable. See docs/sandbox-gvisor.md.
 *
 * <p>No ready shells and no snapshots yet: a sandbox on host networking cannot be checkpointed (see the doc).
 * Sandbox processes are started from one long-lived owner thread, like the process driver's.
 */
public final class GvisorDriver implements SandboxDriver {
    private static final Logger LOG = LoggerFactory.getLogger(GvisorDriver.class);
    static final int RUNTIME_API_PORT = 9001;
    /**
     * Host tasks a sandbox's kernel needs beyond its runtime's own (added to the pids limit): the Sentry's and
     * Gofer's threads, and on the ptrace platform a stub per guest address space. Measured: a shell running curl
     * in a loop peaked at 209 host tasks, so the process driver's limit of 128 killed it.
     */
    static final int KERNEL_TASKS = 384;

    private final WorkerConfig config;
    private final Runsc runsc;
    private final Path base;
    private final Path noSeccomp;
    private final Path awaitBinary;
    private final Path launcher;
    private final HostClaims claim;
    private final UidRanges.Claim uids;
    private final BitSet uidsInUse = new BitSet();
    private final Cgroups cgroups;
    private final NetNamespaces netns;
    private final ExecutorService owner;
    private final SandboxLauncher.Ready launchers;
    private final SecureRandom random = new SecureRandom();

    public GvisorDriver(WorkerConfig config) {
        this(config, Runsc.DEFAULT);
    }

    /** {@code runscBinary}: where runsc is; probed now (missing, broken or too old: refused, saying what to install). */
    public GvisorDriver(WorkerConfig config, Path runscBinary) {
        if (!"root".equals(System.getProperty("user.name"))) {
            throw new IllegalStateException("the gvisor sandbox driver must run as root (namespaces, cgroups, uid drop)");
        }
        this.runsc = Runsc.probe(runscBinary);
        this.config = config;
        Path sandboxDir = config.dataDir().resolve("sandbox");
        this.base = config.dataDir().resolve("gvisor");
        try {
            Files.createDirectories(sandboxDir);
            Files.setPosixFilePermissions(sandboxDir, PosixFilePermissions.fromString("rwx------"));
            this.launcher = SandboxLauncher.build(sandboxDir);
            this.noSeccomp = sandboxDir.resolve("no-seccomp"); // the launcher's fd 4: gVisor filters its own calls
            Files.write(noSeccomp, new byte[0]);
            // runsc runs as the sandbox's uid: bundles, root skeletons and state live below a directory others may
            // traverse (not list); each sandbox's own parts are its uid's, or root's and read-only
            Files.createDirectories(base);
            Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
            RunscCommand.deleteTree(base.resolve("bundles")); // an earlier run of this worker's
            RunscCommand.deleteTree(base.resolve("state"));
            Path bin = base.resolve("bin");
            Files.createDirectories(bin);
            Files.setPosixFilePermissions(bin, PosixFilePermissions.fromString("rwx--x--x"));
            this.awaitBinary = bin.resolve("ignis-await");
            Files.copy(launcher, awaitBinary, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(awaitBinary, PosixFilePermissions.fromString("r-xr-xr-x"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the gvisor driver's directories under " + config.dataDir(), e);
        }
        this.claim = HostClaims.claim(config.workerId());
        for (String dead : HostClaims.sweepAbandoned(o -> {
            NetNamespaces.removeAll(netnsPrefix(o));
            Cgroups.detect(cgroupName(o)).removeAll();
        })) {
            LOG.info("removed the network namespaces and cgroups of worker {}, which died without cleaning up", dead);
        }
        this.uids = UidRanges.claim(config.uidBase(), config.uidCount());
        this.cgroups = Cgroups.detect(cgroupName(config.workerId()));
        cgroups.removeStale();
        cgroups.limitAll(config.capacity().memoryMb() * 1024 * 1024, config.capacity().pids());
        this.netns = new NetNamespaces(netnsPrefix(config.workerId()), config.warmNetns());
        this.owner = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "ignis-gvisor-owner-" + config.workerId());
            t.setDaemon(true);
            return t;
        });
        this.launchers = new SandboxLauncher.Ready(launcher, owner, 2);
        LOG.info("worker {}: gvisor sandbox driver, {} on {}", config.workerId(), runsc.describe(), cgroups.describe());
    }

    @Override
    public String name() {
        return "gvisor";
    }

    /** The runsc this driver found (the startup probe's result). */
    public Runsc runsc() {
        return runsc;
    }

    @Override
    public Availability probe() {
        try {
            Runsc.probe(runsc.binary());
            return new Availability.Available();
        } catch (IllegalStateException e) {
            return new Availability.Unavailable(e.getMessage());
        }
    }

    @Override
    public boolean canSnapshot() {
        return false; // runsc cannot checkpoint a sandbox on host networking (docs/sandbox-gvisor.md)
    }

    @Override
    public long pidsInUse() {
        return cgroups.pidsInUse();
    }

    @Override
    public SandboxDriver.Sandbox start(Start start) {
        SandboxSpec spec = start.spec();
        String id = newId();
        int uid = allocateUid();
        NetNamespaces.Netns ns = null;
        Cgroups.Group group = null;
        RunscCommand.Prepared prepared = null;
        Process process = null;
        try {
            ns = netns.acquire();
            start.runtimeApi().listen(netns.openLoopbackListener(ns, RUNTIME_API_PORT));
            Cgroups.Limits limits = Cgroups.Limits.forMemory(spec.memoryMb(), config.pidsMax() + KERNEL_TASKS);
            group = cgroups.create(id, limits);
            prepared = RunscCommand.prepare(runsc, base, awaitBinary, noSeccomp, new RunscCommand.Params(id, group.procsFiles(),
                    ns.path(), uid, start.runtime(), spec.codeDirectory(), start.ephemeralStorageBytes(), limits.memoryBytes(),
                    limits.cpuQuotaMicros(), limits.cpuPeriodMicros(), config.pidsMax(), // the runtime's own: RLIMIT_NPROC
                    spec.layersDirectory()));
            long t0 = System.nanoTime();
            process = launchers.start(prepared.launcherArgs(), SandboxLauncher.Ready.runtimeMessage(start.runtime().command(), start.environment()));
            return new GvisorSandbox(id, process, ns, group, uid, prepared, t0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failedStart(start, group, process, ns, uid, prepared, id);
            throw new IllegalStateException("interrupted while starting a sandbox", e);
        } catch (ExecutionException | IOException | RuntimeException e) {
            failedStart(start, group, process, ns, uid, prepared, id);
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            throw new IllegalStateException("could not start a gVisor sandbox for " + spec.functionArn() + ": " + cause.getMessage(), cause);
        }
    }

    private void failedStart(Start start, Cgroups.Group group, Process process, NetNamespaces.Netns ns, int uid,
                             RunscCommand.Prepared prepared, String id) {
        if (group != null) {
            kill(group, process, "sandbox " + id);
        }
        start.runtimeApi().close(); // before the namespace its listener lives in goes back
        giveBack(group, ns, uid, prepared);
    }

    /** One gVisor sandbox: runsc and everything it started (one cgroup), its namespace, uid, bundle and state. */
    private final class GvisorSandbox implements SandboxDriver.Sandbox {
        private final String id;
        private final Process process;
        private final NetNamespaces.Netns ns;
        private final Cgroups.Group group;
        private final int uid;
        private final RunscCommand.Prepared prepared;
        private final long runtimeStarted;
        private final CompletableFuture<RuntimeEvent.Exited> exit;
        private final AtomicBoolean closed = new AtomicBoolean();

        GvisorSandbox(String id, Process process, NetNamespaces.Netns ns, Cgroups.Group group, int uid,
                      RunscCommand.Prepared prepared, long runtimeStarted) {
            this.id = id;
            this.process = process;
            this.ns = ns;
            this.group = group;
            this.uid = uid;
            this.prepared = prepared;
            this.runtimeStarted = runtimeStarted;
            // `runsc run` waits for the sandbox and exits with its init's status (128+n for a signal); it ends when
            // the Sentry is OOM-killed too, which the cgroup's counter tells
            this.exit = process.onExit().thenApply(ph -> new RuntimeEvent.Exited(ph.exitValue(), group.oomKills() > 0));
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public long runtimeStartedNanos() {
            return runtimeStarted;
        }

        @Override
        public InputStream output() {
            return process.getInputStream();
        }

        @Override
        public CompletableFuture<RuntimeEvent.Exited> exit() {
            return exit;
        }

        @Override
        public Stats stats() {
            return new Stats(group.peakMemoryBytes(), group.oomKills());
        }

        @Override
        public void stop() {
            kill(group, process, "sandbox " + id);
            try {
                exit.get(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                LOG.warn("sandbox {}: no exit seen within 2 s of its kill", id);
            }
        }

        @Override
        public void close() {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            stop();
            giveBack(group, ns, uid, prepared);
        }
    }

    @Override
    public void close() {
        launchers.close();
        owner.shutdown();
        try {
            if (!owner.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.warn("worker {}: the gvisor owner thread did not finish within 10 s of close", config.workerId());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        netns.close();
        cgroups.removeAll();
        owner.shutdownNow();
        uids.close();
        claim.close();
    }

    /** SIGKILLs every process of the cgroup (runsc, the Sentry, the Gofer, the stubs) and waits (≤ 5 s) for runsc. */
    private static void kill(Cgroups.Group cgroup, Process process, String what) {
        cgroup.killAll();
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        try {
            process.onExit().get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("{} did not exit within 5 s of SIGKILL", what);
        }
    }

    /** Returns what a sandbox held once every process of it is gone. Null parts were never taken. */
    private void giveBack(Cgroups.Group group, NetNamespaces.Netns ns, int uid, RunscCommand.Prepared prepared) {
        if (group != null) {
            group.remove();
        }
        if (ns != null) {
            netns.release(ns);
        }
        if (prepared != null) {
            try {
                prepared.remove();
            } catch (UncheckedIOException e) {
                LOG.warn("could not remove a gVisor sandbox's bundle or state: {}", e.getMessage());
            }
        }
        freeUid(uid);
    }

    private static String netnsPrefix(String workerId) {
        return "ignis-" + workerId + "-";
    }

    private static String cgroupName(String workerId) {
        return "ignis-" + workerId;
    }

    private String newId() {
        byte[] b = new byte[6];
        random.nextBytes(b);
        return "sb-" + HexFormat.of().formatHex(b);
    }

    private synchronized int allocateUid() {
        int slot = uidsInUse.nextClearBit(0);
        if (slot >= config.uidCount()) {
            throw new WorkerAtCapacityException(config.workerId(), "all " + config.uidCount() + " of its sandbox uids are in use");
        }
        uidsInUse.set(slot);
        return uids.range().first() + slot;
    }

    private synchronized void freeUid(int uid) {
        uidsInUse.clear(uid - uids.range().first());
    }
}

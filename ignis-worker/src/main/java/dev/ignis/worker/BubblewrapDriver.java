package dev.ignis.worker;

import dev.ignis.runtimes.RuntimeDefinition;
import dev.ignis.worker.runtimeapi.RuntimeEvent;
import dev.ignis.worker.sandbox.Cgroups;
import dev.ignis.worker.sandbox.HostClaims;
import dev.ignis.worker.sandbox.Mounts;
import dev.ignis.worker.sandbox.NetNamespaces;
import dev.ignis.worker.sandbox.SandboxCommand;
import dev.ignis.worker.sandbox.SandboxLauncher;
import dev.ignis.worker.sandbox.SeccompFilter;
import dev.ignis.worker.sandbox.UidRanges;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HexFormat;
import java.util.List;
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
 * The {@code process} sandbox driver: each sandbox is a bubblewrap-confined process tree (all namespaces, no
 * capabilities, an unprivileged host uid, seccomp), in its own cgroup (memory = MemorySize, CPU proportional to
 * memory, pids bounded) and its own network namespace, where the worker's Runtime API listens on 127.0.0.1:9001.
 * See docs/sandbox-process.md.
 *
 * <p>Two start paths: in a ready shell ({@link ReadyShells}: bwrap's setup done ahead, the code mounted over its
 * {@code /var/task}) or from scratch (a waiting launcher runs bwrap). Must run as root. Sandbox processes are started
 * from one long-lived owner thread: bwrap's {@code --die-with-parent} is tied to the thread that forked it, so a
 * sandbox started from a request thread would die with it.
 *
 * <p>Over 400 lines on purpose: it is the whole life of a process sandbox's host resources (uid, network namespace,
 * cgroup, slot) — taken in two start paths, given back on failure, on close and by the sweep of a dead worker — and
 * every take is easier to check against its give-back in one file.
 */
public final class BubblewrapDriver implements SandboxDriver {
    private static final Logger LOG = LoggerFactory.getLogger(BubblewrapDriver.class);
    static final int RUNTIME_API_PORT = 9001;
    /** Ready shells' slots: {@code <worker id>.<sandbox id>/task|stage}. */
    static final Path SLOTS = Path.of("/run/ignis/slots");
    private static final Path BWRAP = Path.of("/usr/bin/bwrap");

    /** How sandboxes are started. */
    public enum StartPath {
        /** In a ready shell when one of the kind waits, else from scratch; a shell of the kind is readied after. */
        AUTO,
        /** Always from scratch (no ready shells are kept). */
        FROM_SCRATCH,
        /** Always in a ready shell, readied now when none waits (tests run every start through the shell path). */
        READY_SHELL
    }

    private final WorkerConfig config;
    private final StartPath path;
    private final HostClaims claim;
    /** This worker's own block of host uids, disjoint from every other worker's on the host. */
    private final UidRanges.Claim uids;
    private final BitSet uidsInUse = new BitSet();
    private final Cgroups cgroups;
    private final NetNamespaces netns;
    private final ExecutorService owner;
    private final Path seccompFile;
    private final Path launcher;
    /** The waiting program every sandbox binds in (a world-readable copy of the launcher; see SandboxCommand). */
    private final Path awaitBinary;
    private final SandboxLauncher.Ready launchers;
    private final ReadyShells shells;
    private final SecureRandom random = new SecureRandom();

    /** The default start path: {@link StartPath#AUTO}, or {@code FROM_SCRATCH} with {@code -Dignis.readyShells=false}. */
    public BubblewrapDriver(WorkerConfig config) {
        this(config, Boolean.parseBoolean(System.getProperty("ignis.readyShells", "true")) ? StartPath.AUTO : StartPath.FROM_SCRATCH);
    }

    public BubblewrapDriver(WorkerConfig config, StartPath path) {
        if (probeHost() instanceof Availability.Unavailable(String why)) {
            throw new IllegalStateException("the process sandbox driver cannot run here: " + why);
        }
        this.config = config;
        this.path = path;
        Path sandboxDir = config.dataDir().resolve("sandbox");
        try {
            Files.createDirectories(sandboxDir);
            Files.setPosixFilePermissions(sandboxDir, PosixFilePermissions.fromString("rwx------"));
            this.seccompFile = sandboxDir.resolve("seccomp.bpf");
            Files.write(seccompFile, SeccompFilter.bytes()); // read by the root launcher, never by the tenant
            this.launcher = SandboxLauncher.build(sandboxDir);
            // Ready shells: bwrap binds sources as the sandbox's uid, so this directory is traversable
            // (not listable) by others, and the waiting program is a world-readable copy of the launcher.
            Path shellsDir = config.dataDir().resolve("shells");
            Files.createDirectories(shellsDir);
            Files.setPosixFilePermissions(shellsDir, PosixFilePermissions.fromString("rwx--x--x"));
            // Slots (mount points) live beside the network namespaces, under /run, never in a data directory
            // that someone may delete; a worker that died leaves them to the next worker's sweep.
            Files.createDirectories(SLOTS);
            Files.setPosixFilePermissions(SLOTS, PosixFilePermissions.fromString("rwx--x--x"));
            this.awaitBinary = shellsDir.resolve("ignis-await");
            Files.copy(launcher, awaitBinary, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(awaitBinary, PosixFilePermissions.fromString("r-xr-xr-x"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the sandbox directory " + sandboxDir, e);
        }
        this.claim = HostClaims.claim(config.workerId());
        removeSlots(config.workerId()); // an earlier run under this worker id
        for (String dead : HostClaims.sweepAbandoned(owner -> {
            removeSlots(owner);
            NetNamespaces.removeAll(netnsPrefix(owner));
            Cgroups.detect(cgroupName(owner)).removeAll();
        })) {
            LOG.info("removed the network namespaces and cgroups of worker {}, which died without cleaning up", dead);
        }
        this.uids = UidRanges.claim(config.uidBase(), config.uidCount()); // after the sweep: dead owners' sandboxes are gone
        this.cgroups = Cgroups.detect(cgroupName(config.workerId()));
        cgroups.removeStale();
        cgroups.limitAll(config.capacity().memoryMb() * 1024 * 1024, config.capacity().pids());
        this.netns = new NetNamespaces(netnsPrefix(config.workerId()), config.warmNetns());
        this.owner = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "ignis-sandbox-owner-" + config.workerId());
            t.setDaemon(true);
            return t;
        });
        this.launchers = new SandboxLauncher.Ready(launcher, owner, 2);
        this.shells = path == StartPath.FROM_SCRATCH ? null : new ReadyShells(new ReadyShells.Factory() {
            @Override
            public ReadyShells.Shell start(ReadyShells.Kind kind) throws IOException {
                return startShell(kind);
            }

            @Override
            public void discard(ReadyShells.Shell shell) {
                discardShell(shell);
            }
        }, owner);
        LOG.info("worker {}: process sandbox driver ({}) on {}", config.workerId(), path, cgroups.describe());
    }

    /** Whether this host can run bubblewrap sandboxes: root, and bwrap installed (no side effects). */
    public static Availability probeHost() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return new Availability.Unavailable("the process sandbox driver must run as root (namespaces, cgroups, uid drop)");
        }
        if (!Files.isExecutable(BWRAP)) {
            return new Availability.Unavailable(BWRAP + " is required by the process sandbox driver (apt-get install bubblewrap)");
        }
        return new Availability.Available();
    }

    @Override
    public String name() {
        return "process";
    }

    @Override
    public Availability probe() {
        return probeHost();
    }

    @Override
    public boolean canSnapshot() {
        return false;
    }

    @Override
    public long pidsInUse() {
        return cgroups.pidsInUse();
    }

    @Override
    public SandboxDriver.Sandbox start(Start start) {
        var kind = new ReadyShells.Kind(start.runtime().id(), start.spec().memoryMb(), start.spec().ephemeralStorageMb());
        if (shells == null || start.spec().layersDirectory() != null) {
            return fromScratch(start); // a ready shell's /opt is empty and fixed: functions with layers start without one
        }
        ReadyShells.Shell shell = path == StartPath.READY_SHELL ? shellNow(kind) : shells.take(kind);
        try {
            return shell != null ? inShell(shell, start) : fromScratch(start);
        } finally {
            if (path == StartPath.AUTO) {
                shells.want(kind); // only now, so the next shell's bwrap does not compete with this start for the CPU
            }
        }
    }

    /** The ready shell of {@code kind}, readied now on the owner thread if none waits. */
    private ReadyShells.Shell shellNow(ReadyShells.Kind kind) {
        ReadyShells.Shell s = shells.take(kind);
        if (s != null) {
            return s;
        }
        try {
            return owner.submit(() -> startShell(kind)).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while readying a shell", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof WorkerAtCapacityException full) {
                throw full;
            }
            throw new IllegalStateException("could not ready a shell: " + e.getCause().getMessage(), e.getCause());
        }
    }

    private SandboxDriver.Sandbox fromScratch(Start start) {
        SandboxSpec spec = start.spec();
        String id = newId();
        int uid = allocateUid();
        NetNamespaces.Netns ns = null;
        Cgroups.Group group = null;
        Process process = null;
        try {
            ns = netns.acquire();
            start.runtimeApi().listen(netns.openLoopbackListener(ns, RUNTIME_API_PORT));
            group = cgroups.create(id, Cgroups.Limits.forMemory(spec.memoryMb(), config.pidsMax()));
            List<String> args = SandboxCommand.launcherArgs(new SandboxCommand.Params(group.procsFiles(), seccompFile,
                    ns.path(), uid, start.runtime(), spec.codeDirectory(), start.ephemeralStorageBytes(), spec.layersDirectory()), awaitBinary);
            long t0 = System.nanoTime();
            process = launchers.start(args, SandboxLauncher.Ready.runtimeMessage(start.runtime().command(), start.environment()));
            return new BwrapSandbox(id, process, ns, group, uid, null, t0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failedStart(start, group, process, ns, uid, id);
            throw new IllegalStateException("interrupted while starting a sandbox", e);
        } catch (ExecutionException | IOException | RuntimeException e) {
            failedStart(start, group, process, ns, uid, id);
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            throw new IllegalStateException("could not start a sandbox for " + spec.functionArn() + ": " + cause.getMessage(), cause);
        }
    }

    private void failedStart(Start start, Cgroups.Group group, Process process, NetNamespaces.Netns ns, int uid, String id) {
        if (group != null) {
            kill(group, process, "sandbox " + id);
        }
        start.runtimeApi().close(); // before the namespace its listener lives in goes back
        giveBack(group, ns, uid);
    }

    /**
     * A cold start in a ready shell: the function's code mounted read-only over the shell's empty {@code /var/task},
     * its Runtime API opened, then the runtime's command and environment handed to the waiting program, which execs
     * it. Init Duration runs from the mount, like a start from scratch's from the launcher's start.
     */
    private SandboxDriver.Sandbox inShell(ReadyShells.Shell shell, Start start) {
        long t0 = System.nanoTime();
        try {
            Mounts.bindReadOnly(start.spec().codeDirectory(), shell.slot().resolve("stage"), shell.slot().resolve("task"));
            start.runtimeApi().listen(netns.openLoopbackListener(shell.netns(), RUNTIME_API_PORT));
            var sandbox = new BwrapSandbox(shell.id(), shell.process(), shell.netns(), shell.cgroup(), shell.uid(), shell.slot(), t0);
            try (OutputStream in = shell.process().getOutputStream()) {
                in.write(SandboxLauncher.Ready.runtimeMessage(start.runtime().command(), start.environment()));
            }
            return sandbox;
        } catch (IOException | RuntimeException e) {
            start.runtimeApi().close();
            discardShell(shell);
            throw new IllegalStateException("could not start a sandbox for " + start.spec().functionArn() + ": " + e.getMessage(), e);
        }
    }

    /** Runs on the owner thread (see the class comment): a shell of {@code kind}, waiting for its runtime. */
    private ReadyShells.Shell startShell(ReadyShells.Kind kind) throws IOException {
        RuntimeDefinition rt = config.runtimes().apply(kind.runtime())
                .orElseThrow(() -> new IllegalStateException("runtime " + kind.runtime() + " is gone"));
        String id = newId();
        int uid = allocateUid();
        Path slot = SLOTS.resolve(config.workerId() + "." + id);
        NetNamespaces.Netns ns = null;
        Cgroups.Group group = null;
        try {
            ns = netns.acquire();
            group = cgroups.create(id, Cgroups.Limits.forMemory(kind.memoryMb(), config.pidsMax()));
            Path task = slot.resolve("task");
            Files.createDirectories(task);
            Files.createDirectories(slot.resolve("stage"));
            Files.setPosixFilePermissions(slot, PosixFilePermissions.fromString("rwx--x--x"));
            Files.setPosixFilePermissions(task, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(slot.resolve("stage"), PosixFilePermissions.fromString("rwx------"));
            Mounts.bindShared(task);
            List<String> command = new ArrayList<>();
            command.add(launcher.toString());
            command.addAll(SandboxCommand.launcherArgs(new SandboxCommand.Params(group.procsFiles(), seccompFile,
                    ns.path(), uid, rt, task, kind.ephemeralStorageMb() * 1024L * 1024L, null), awaitBinary));
            ProcessBuilder pb = new ProcessBuilder(command);
            pb.environment().clear(); // the runtime's environment comes with its command, at assignment
            pb.redirectErrorStream(true); // the runtime's stdout and stderr: one pipe, one log (see SandboxLog)
            return new ReadyShells.Shell(id, kind, pb.start(), ns, group, uid, slot);
        } catch (IOException | RuntimeException e) {
            giveBack(group, ns, uid);
            releaseSlot(slot);
            throw e;
        }
    }

    /** Stops a shell that was never used (or failed at assignment) and gives back everything it held. */
    private void discardShell(ReadyShells.Shell shell) {
        kill(shell.cgroup(), shell.process(), "ready shell " + shell.id());
        giveBack(shell.cgroup(), shell.netns(), shell.uid());
        releaseSlot(shell.slot());
    }

    /** One bubblewrap sandbox: its process tree, cgroup, network namespace, uid and (from a ready shell) slot. */
    private final class BwrapSandbox implements SandboxDriver.Sandbox {
        private final String id;
        private final Process process;
        private final NetNamespaces.Netns ns;
        private final Cgroups.Group group;
        private final int uid;
        /** The ready shell's slot this sandbox started in (its code is mounted there), or null. */
        private final Path slot;
        private final long runtimeStarted;
        private final CompletableFuture<RuntimeEvent.Exited> exit;
        private final AtomicBoolean closed = new AtomicBoolean();

        BwrapSandbox(String id, Process process, NetNamespaces.Netns ns, Cgroups.Group group, int uid, Path slot, long runtimeStarted) {
            this.id = id;
            this.process = process;
            this.ns = ns;
            this.group = group;
            this.uid = uid;
            this.slot = slot;
            this.runtimeStarted = runtimeStarted;
            // bwrap is the tree's root (--die-with-parent, --as-pid-1): its exit is the sandbox's
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
            // the OOM count is a keyed file (open, read, parse): only once the sandbox has ended, not after every invoke
            return new Stats(group.peakMemoryBytes(), exit.isDone() ? group.oomKills() : 0);
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
            if (slot != null) {
                releaseSlot(slot);
            }
            giveBack(group, ns, uid);
        }

        /** Whether it started in a ready shell (tests). */
        boolean inShell() {
            return slot != null;
        }
    }

    /** Whether the sandbox started in a ready shell (tests and diagnostics). */
    static boolean startedInShell(SandboxDriver.Sandbox sandbox) {
        return sandbox instanceof BwrapSandbox b && b.inShell();
    }

    /** The host uids this worker's sandboxes run as (tests and diagnostics). */
    UidRanges.Range uidRange() {
        return uids.range();
    }

    /** Ready shells waiting now (tests and diagnostics). */
    int readyShells() {
        return shells == null ? 0 : shells.size();
    }

    @Override
    public void close() {
        launchers.close();
        if (shells != null) {
            shells.close();
        }
        // a shell start still running on the owner thread finishes and, seeing the shells closed,
        // discards its shell (and its slot mount) before the namespaces and cgroups go
        owner.shutdown();
        try {
            if (!owner.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.warn("worker {}: the owner thread did not finish within 10 s of close", config.workerId());
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

    /** SIGKILLs every process of the cgroup and waits (≤ 5 s) for {@code process} (null: none started) to be reaped. */
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

    /**
     * Returns what a sandbox (or a shell) held, once every process of it is gone: its cgroup, its network namespace
     * (only now: every socket in it is closed too) and its uid. Null parts were never taken.
     */
    private void giveBack(Cgroups.Group group, NetNamespaces.Netns ns, int uid) {
        if (group != null) {
            group.remove();
        }
        if (ns != null) {
            netns.release(ns);
        }
        freeUid(uid);
    }

    /** Unmounts and deletes the slots a worker of this id left (it died, or this is its restart). */
    private static void removeSlots(String workerId) {
        String prefix = SLOTS + "/" + workerId + ".";
        Mounts.detachWhere(point -> point.startsWith(prefix));
        try (var dirs = Files.list(SLOTS)) {
            for (Path slot : dirs.filter(d -> d.toString().startsWith(prefix)).toList()) {
                releaseSlot(slot);
            }
        } catch (IOException e) {
            LOG.warn("could not list {}: {}", SLOTS, e.toString());
        }
    }

    /** Unmounts a slot (the function's code, then the slot's own bind) and deletes its directories. */
    private static void releaseSlot(Path slot) {
        try {
            Mounts.detachAll(slot.resolve("task"));
            Mounts.detachAll(slot.resolve("stage"));
            Files.deleteIfExists(slot.resolve("stage"));
            Files.deleteIfExists(slot.resolve("task"));
            Files.deleteIfExists(slot);
        } catch (IOException | RuntimeException e) {
            LOG.warn("could not release sandbox slot {}: {}", slot, e.toString());
        }
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

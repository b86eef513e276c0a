package dev.ignis.worker;

import dev.ignis.common.LambdaException;
import dev.ignis.runtimes.RuntimeDefinition;
import dev.ignis.worker.logs.FunctionLogFile;
import dev.ignis.worker.logs.LogFiles;
import dev.ignis.worker.logs.SandboxLog;
import dev.ignis.worker.runtimeapi.BodyBudget;
import dev.ignis.worker.runtimeapi.Invocation;
import dev.ignis.worker.runtimeapi.RuntimeApi;
import dev.ignis.worker.runtimeapi.RuntimeApiServer;
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
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker with the {@code process} sandbox driver: each sandbox is a bubblewrap-confined process
 * tree (all namespaces, no capabilities, an unprivileged host uid, seccomp), in its own cgroup
 * (memory = MemorySize, CPU proportional to memory, pids bounded) and its own network namespace,
 * where the worker's Runtime API listens on 127.0.0.1:9001. See docs/sandbox-process.md.
 *
 * <p>Must run as root (it creates namespaces and cgroups and drops each sandbox to its own uid).
 * Sandbox processes are started from one long-lived owner thread: bwrap's {@code --die-with-parent}
 * is tied to the thread that forked it, so a sandbox started from a request thread would die with it.
 */
public final class ProcessWorker implements Worker {
    private static final Logger LOG = LoggerFactory.getLogger(ProcessWorker.class);
    static final int RUNTIME_API_PORT = 9001;
    private static final DateTimeFormatter STREAM_DATE = DateTimeFormatter.ofPattern("yyyy/MM/dd").withZone(ZoneOffset.UTC);

    private final WorkerConfig config;
    private final Cgroups cgroups;
    private final NetNamespaces netns;
    /** Bytes the Runtime API bodies of all sandboxes may hold at once. */
    private final BodyBudget runtimeApiBodies;
    private final ExecutorService owner;
    private final Path seccompFile;
    private final Map<String, Sandbox> sandboxes = new ConcurrentHashMap<>();
    private final Map<Path, FunctionLogFile> logFiles = new ConcurrentHashMap<>();
    private final BitSet uidsInUse = new BitSet();
    private final SecureRandom random = new SecureRandom();
    private final Outcomes outcomes;
    private final HostClaims claim;
    /** This worker's own block of host uids, disjoint from every other worker's on the host. */
    private final UidRanges.Claim uids;
    private final Admission admission;
    /** The admission ticket of each live sandbox, given back when it is retired. */
    private final Map<String, Admission.Ticket> admitted = new ConcurrentHashMap<>();
    private final SandboxLauncher.Ready launchers;
    private final Path launcher;
    /** Ready shells' slots: {@code <worker id>.<sandbox id>/task|stage}. */
    static final Path SLOTS = Path.of("/run/ignis/slots");
    /** The waiting program every sandbox binds in (a world-readable copy of the launcher; see SandboxCommand). */
    private final Path awaitBinary;
    private final ReadyShells shells;
    private final InvokeDeadlines deadlines;

    public ProcessWorker(WorkerConfig config) {
        this.config = config;
        if (!"root".equals(System.getProperty("user.name"))) {
            throw new IllegalStateException("the process worker must run as root (namespaces, cgroups, uid drop)");
        }
        if (!Files.isExecutable(Path.of("/usr/bin/bwrap"))) {
            throw new IllegalStateException("/usr/bin/bwrap is required by the process sandbox driver");
        }
        try {
            Files.createDirectories(config.dataDir());
            Path sandboxDir = config.dataDir().resolve("sandbox");
            Files.createDirectories(sandboxDir);
            Files.setPosixFilePermissions(sandboxDir, PosixFilePermissions.fromString("rwx------"));
            Path logs = config.dataDir().resolve("logs");
            Files.createDirectories(logs);
            Files.setPosixFilePermissions(logs, PosixFilePermissions.fromString("rwx------"));
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
            throw new UncheckedIOException("cannot prepare worker data directory " + config.dataDir(), e);
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
        this.admission = new Admission(config.workerId(), config.capacity(), cgroups::pidsInUse);
        this.netns = new NetNamespaces(netnsPrefix(config.workerId()), config.warmNetns());
        this.runtimeApiBodies = new BodyBudget(config.runtimeApi().bodyBudgetBytes());
        this.owner = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "ignis-sandbox-owner-" + config.workerId());
            t.setDaemon(true);
            return t;
        });
        this.outcomes = new Outcomes(config.clock());
        this.deadlines = new InvokeDeadlines(config.workerId());
        this.launchers = new SandboxLauncher.Ready(launcher, owner, 2);
        this.shells = Boolean.parseBoolean(System.getProperty("ignis.readyShells", "true"))
                ? new ReadyShells(new ReadyShells.Factory() {
                    @Override
                    public ReadyShells.Shell start(ReadyShells.Kind kind) throws IOException {
                        return startShell(kind);
                    }

                    @Override
                    public void discard(ReadyShells.Shell shell) {
                        discardShell(shell);
                    }
                }, owner)
                : null;
        LOG.info("worker {} ready: {}", config.workerId(), cgroups.describe());
    }

    @Override
    public String workerId() {
        return config.workerId();
    }

    @Override
    public SandboxHandle createSandbox(SandboxSpec spec) {
        RuntimeDefinition rt = config.runtimes().apply(spec.runtime()).orElseThrow(() -> new LambdaException(502,
                "InvalidRuntimeException", "Runtime " + spec.runtime() + " is not supported by worker " + workerId()));
        validate(spec);
        SandboxCommand.checkReachable(spec.codeDirectory());
        if (spec.layersDirectory() != null) {
            SandboxCommand.checkReachable(spec.layersDirectory());
        }
        Admission.Ticket ticket = admission.admit(spec.memoryMb()); // a refusal comes before anything is taken
        try {
            SandboxHandle h = start(spec, rt);
            admitted.put(h.sandboxId(), ticket);
            return h;
        } catch (RuntimeException e) {
            admission.release(ticket);
            throw e;
        }
    }

    private SandboxHandle start(SandboxSpec spec, RuntimeDefinition rt) {
        if (shells == null || spec.layersDirectory() != null) {
            return startNew(spec, rt); // a ready shell's /opt is empty and fixed: functions with layers start without one
        }
        var kind = new ReadyShells.Kind(rt.id(), spec.memoryMb(), spec.ephemeralStorageMb());
        ReadyShells.Shell shell = shells.take(kind);
        try {
            return shell != null ? startInShell(shell, spec, rt) : startNew(spec, rt);
        } finally {
            // only now, so the next shell's bwrap does not compete with this start for the CPU
            shells.want(kind);
        }
    }

    private SandboxHandle startNew(SandboxSpec spec, RuntimeDefinition rt) {
        String id = "sb-" + HexFormat.of().formatHex(randomBytes(6));
        int uid = allocateUid();
        NetNamespaces.Netns ns = null;
        RuntimeApiServer server = null;
        Cgroups.Group group = null;
        Sandbox sb = null;
        try {
            ns = netns.acquire();
            ServerSocketChannel listener = netns.openLoopbackListener(ns, RUNTIME_API_PORT);
            server = runtimeApiServer(listener, id);
            group = cgroups.create(id, Cgroups.Limits.forMemory(spec.memoryMb(), config.pidsMax()));
            String stream = newLogStream(spec);
            sb = new Sandbox(id, spec, ns, server, group, uid, stream);
            List<String> args = SandboxCommand.launcherArgs(new SandboxCommand.Params(group.procsFiles(), seccompFile,
                    ns.path(), uid, rt, spec.codeDirectory(), spec.ephemeralStorageMb() * 1024L * 1024L, spec.layersDirectory()), awaitBinary);
            Map<String, String> env = SandboxEnvironment.of(spec, rt, stream, "127.0.0.1:" + RUNTIME_API_PORT);
            long t0 = System.nanoTime();
            attach(sb, launchers.start(args, SandboxLauncher.Ready.runtimeMessage(rt.command(), env)));
            awaitInit(sb, t0);
            return sb.handle;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cleanupFailedStart(id, sb, server, group, ns, uid);
            throw new IllegalStateException("interrupted while starting a sandbox", e);
        } catch (ExecutionException | IOException | RuntimeException e) {
            cleanupFailedStart(id, sb, server, group, ns, uid);
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            throw new IllegalStateException("could not start a sandbox for " + spec.functionArn() + ": " + cause.getMessage(), cause);
        }
    }

    private RuntimeApiServer runtimeApiServer(ServerSocketChannel listener, String sandboxId) {
        return new RuntimeApiServer(listener, new RuntimeApi(), sandboxId, runtimeApiBodies, config.runtimeApi().readTimeout());
    }

    /** Makes a started process the sandbox's: its log, its entry in the table, its exit callback. */
    private void attach(Sandbox sb, Process p) {
        sb.process = p;
        sb.log = new SandboxLog(logFile(sb.spec), sb.logStream, config.clock(), p.getInputStream());
        sandboxes.put(sb.id, sb);
        p.onExit().thenAccept(ph -> sb.exited(ph.exitValue()));
    }

    private String newLogStream(SandboxSpec spec) {
        return STREAM_DATE.format(config.clock().instant()) + "/[" + spec.version() + "]" + HexFormat.of().formatHex(randomBytes(16));
    }

    /**
     * A cold start in a ready shell: the function's code mounted read-only over the shell's empty
     * {@code /var/task}, its Runtime API opened, then the runtime's command and environment handed to
     * the waiting program, which execs it. Init Duration runs from the mount, like a normal start's from
     * the launcher's start.
     */
    private SandboxHandle startInShell(ReadyShells.Shell shell, SandboxSpec spec, RuntimeDefinition rt) {
        long t0 = System.nanoTime();
        RuntimeApiServer server = null;
        Sandbox sb = null;
        try {
            Mounts.bindReadOnly(spec.codeDirectory(), shell.slot().resolve("stage"), shell.slot().resolve("task"));
            server = runtimeApiServer(netns.openLoopbackListener(shell.netns(), RUNTIME_API_PORT), shell.id());
            String stream = newLogStream(spec);
            sb = new Sandbox(shell.id(), spec, shell.netns(), server, shell.cgroup(), shell.uid(), stream);
            sb.slot = shell.slot();
            attach(sb, shell.process());
            Map<String, String> env = SandboxEnvironment.of(spec, rt, stream, "127.0.0.1:" + RUNTIME_API_PORT);
            try (OutputStream in = shell.process().getOutputStream()) {
                in.write(SandboxLauncher.Ready.runtimeMessage(rt.command(), env));
            }
            awaitInit(sb, t0);
            return sb.handle;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failedShellStart(shell, sb, server);
            throw new IllegalStateException("interrupted while starting a sandbox", e);
        } catch (IOException | RuntimeException e) {
            failedShellStart(shell, sb, server);
            throw new IllegalStateException("could not start a sandbox for " + spec.functionArn() + ": " + e.getMessage(), e);
        }
    }

    private void failedShellStart(ReadyShells.Shell shell, Sandbox sb, RuntimeApiServer server) {
        if (server != null) {
            server.close();
        }
        if (sb != null) {
            sandboxes.remove(sb.id);
        }
        discardShell(shell);
    }

    /** Runs on the owner thread (see the class comment): a shell of {@code kind}, waiting for its runtime. */
    private ReadyShells.Shell startShell(ReadyShells.Kind kind) throws IOException {
        RuntimeDefinition rt = config.runtimes().apply(kind.runtime())
                .orElseThrow(() -> new IllegalStateException("runtime " + kind.runtime() + " is gone"));
        String id = "sb-" + HexFormat.of().formatHex(randomBytes(6));
        int uid = allocateUid();
        Path slot = SLOTS.resolve(workerId() + "." + id);
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
                    ns.path(), uid, rt, task, kind.ephemeralStorageMb() * 1024L * 1024L), awaitBinary));
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

    private void awaitInit(Sandbox sb, long t0) throws InterruptedException {
        RuntimeEvent ev;
        try {
            ev = sb.server.api().init().get(config.initTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            ev = null;
        } catch (ExecutionException e) {
            ev = awaitExit(sb);
        }
        Duration initDuration = Duration.ofNanos(System.nanoTime() - t0);
        sb.handle = new SandboxHandle(sb.id, workerId(), sb.spec, initDuration);
        if (ev instanceof RuntimeEvent.Ready) {
            return;
        }
        String type;
        byte[] body;
        switch (ev) {
            case RuntimeEvent.Error err -> {
                type = Outcomes.errorType(err, "Runtime.Unknown");
                body = Outcomes.errorBody(err, type);
            }
            case RuntimeEvent.Exited ex -> {
                type = "Runtime.ExitError";
                body = Outcomes.error("Runtime exited with error: " + Sandbox.describeExit(ex), type);
            }
            case null, default -> {
                type = "Sandbox.Timeout";
                body = Outcomes.error(String.format(Locale.ROOT, "Init timed out after %.2f seconds",
                        config.initTimeout().toMillis() / 1000.0), type);
            }
        }
        sb.initErrorType = type;
        sb.initError = body;
        stopProcesses(sb); // AWS discards a sandbox whose init failed; the handle stays until retire()
        sb.log.platform(String.format(Locale.ROOT, "INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: error\tError Type: %s",
                initDuration.toNanos() / 1e6, type));
        LOG.info("sandbox {} of {} failed init: {}", sb.id, sb.spec.functionArn(), type);
    }

    /** The exit event once the exit callback has run (it may lag the init future by a moment). */
    private static RuntimeEvent.Exited awaitExit(Sandbox sb) {
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (sb.exit.get() == null && System.nanoTime() < deadline) {
            Thread.onSpinWait();
            Thread.yield();
        }
        return sb.exit.get();
    }

    @Override
    public InvokeOutcome invoke(String sandboxId, InvokeRequest request) {
        Sandbox sb = sandboxes.get(sandboxId);
        if (sb == null) {
            // The table that leased it and this worker disagree (the worker restarted, or retired it): nothing
            // ran, so the caller retires the entry and sends the invoke to another sandbox.
            throw new SandboxGoneException(sandboxId, "not on worker " + workerId());
        }
        if (!sb.busy.compareAndSet(false, true)) {
            throw new IllegalStateException("sandbox " + sandboxId + " is busy: one invoke at a time");
        }
        try {
            return runInvoke(sb, request);
        } finally {
            sb.inFlight.set(null);
            sb.busy.set(false);
        }
    }

    private InvokeOutcome runInvoke(Sandbox sb, InvokeRequest req) {
        long start = System.nanoTime();
        sb.log.start(req.requestId(), sb.spec.version());
        if (sb.initError != null) {
            return outcomes.finish(sb, req, start, InvokeOutcome.Status.INIT_ERROR, sb.initError, false);
        }
        long timeoutMs = sb.spec.timeoutSeconds() * 1000L;
        Invocation inv = new Invocation(req.requestId(), req.payload() == null ? new byte[0] : req.payload(), config.clock().millis() + timeoutMs,
                req.invokedFunctionArn(), Outcomes.traceId(config.clock()), req.clientContext(), req.cognitoIdentity(),
                new CompletableFuture<>());
        sb.inFlight.set(inv);
        RuntimeEvent ev;
        InvokeDeadlines.Entry watch = deadlines.watch(inv.result(), start + TimeUnit.MILLISECONDS.toNanos(timeoutMs));
        try {
            deliver(sb, inv);
            ev = inv.result().get(); // untimed: the deadline watch completes it with TimedOut
        } catch (InterruptedException e) {
            // the caller gave up mid-invoke: the runtime's state is unknown, so the sandbox goes
            Thread.currentThread().interrupt();
            sb.server.api().abandon(inv);
            stopProcesses(sb);
            sb.log.end(req.requestId(), "REPORT RequestId: " + req.requestId() + "\tStatus: interrupted", false);
            throw new IllegalStateException("invoke " + req.requestId() + " interrupted; sandbox " + sb.id + " was stopped", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        } finally {
            deadlines.unwatch(watch);
        }
        sb.server.api().abandon(inv);
        if (ev instanceof RuntimeEvent.TimedOut) {
            stopProcesses(sb);
            String msg = String.format(Locale.ROOT, "Task timed out after %.2f seconds", timeoutMs / 1000.0);
            sb.log.platform(config.clock().instant() + " " + req.requestId() + " " + msg);
            return outcomes.finish(sb, req, start, InvokeOutcome.Status.TIMEOUT, Outcomes.error(msg, "Sandbox.Timeout"), false);
        }
        return switch (ev) {
            case RuntimeEvent.Response r -> outcomes.finish(sb, req, start, InvokeOutcome.Status.SUCCESS, r.body(), true);
            case RuntimeEvent.Error err -> outcomes.finish(sb, req, start, InvokeOutcome.Status.FUNCTION_ERROR,
                    Outcomes.errorBody(err, Outcomes.errorType(err, "Function.Unknown")), true);
            case RuntimeEvent.TooLarge t -> {
                String msg = "Response payload size exceeded maximum allowed payload size (" + t.limit() + " bytes).";
                sb.log.platform(req.requestId() + " " + msg);
                yield outcomes.finish(sb, req, start, InvokeOutcome.Status.RESPONSE_TOO_LARGE,
                        Outcomes.error(msg, "Function.ResponseSizeTooLarge"), true);
            }
            case RuntimeEvent.Exited ex when !sb.server.api().delivered(req.requestId()) -> {
                // the runtime exited while idle (e.g. after its previous invoke): this invoke never started
                sb.log.platform("END RequestId: " + req.requestId() + " (not started: the runtime had exited: " + Sandbox.describeExit(ex) + ")");
                throw new SandboxGoneException(sb.id, Sandbox.describeExit(ex));
            }
            case RuntimeEvent.Exited ex -> {
                String msg = "RequestId: " + req.requestId() + " Error: Runtime exited with error: " + Sandbox.describeExit(ex);
                sb.log.platform(msg);
                sb.log.platform("Runtime.ExitError");
                if (ex.outOfMemory()) {
                    LOG.info("sandbox {} of {} was OOM-killed at {} MB", sb.id, sb.spec.functionArn(), sb.spec.memoryMb());
                }
                yield outcomes.finish(sb, req, start, InvokeOutcome.Status.EXIT_ERROR, Outcomes.error(msg, "Runtime.ExitError"), false);
            }
            case RuntimeEvent.Ready ready -> throw new IllegalStateException("unexpected " + ready);
            case RuntimeEvent.TimedOut t -> throw new IllegalStateException("unreachable: handled above");
        };
    }

    /**
     * Hands the invocation to the runtime: on this thread when its /next is parked (then returns once
     * the answer is in, or the connection cannot carry it), else queued for the Runtime API's thread.
     */
    private static void deliver(Sandbox sb, Invocation inv) {
        RuntimeEvent.Exited already = sb.exit.get();
        if (already != null) {
            inv.result().complete(already);
            return;
        }
        RuntimeApi.Link parkedNext;
        try {
            parkedNext = sb.server.api().offerToDrive(inv);
        } catch (IllegalStateException gone) {
            inv.result().complete(awaitExit(sb));
            return;
        }
        if (parkedNext != null) {
            sb.server.drive(parkedNext, inv);
        }
    }

    /** Requests the sandbox's Runtime API has served (diagnostics; tests use it to prove isolation). */
    public long runtimeApiRequests(String sandboxId) {
        Sandbox sb = sandboxes.get(sandboxId);
        if (sb == null) {
            throw new IllegalArgumentException("no sandbox " + sandboxId);
        }
        return sb.server.requestCount();
    }

    /** The host uids this worker's sandboxes run as (tests and diagnostics). */
    UidRanges.Range uidRange() {
        return uids.range();
    }

    /** Ready shells waiting now (tests and diagnostics). */
    int readyShells() {
        return shells == null ? 0 : shells.size();
    }

    /** Whether a live sandbox started in a ready shell (tests and diagnostics). */
    boolean startedInShell(String sandboxId) {
        Sandbox sb = sandboxes.get(sandboxId);
        return sb != null && sb.slot != null;
    }

    @Override
    public void retire(String sandboxId) {
        Sandbox sb = sandboxes.remove(sandboxId);
        if (sb != null) {
            destroy(sb);
        }
        Admission.Ticket ticket = admitted.remove(sandboxId);
        if (ticket != null) {
            admission.release(ticket);
        }
    }

    @Override
    public Collection<SandboxHandle> sandboxes() {
        return sandboxes.values().stream().map(s -> s.handle).filter(h -> h != null).toList();
    }

    @Override
    public void close() {
        for (String id : List.copyOf(sandboxes.keySet())) {
            retire(id);
        }
        launchers.close();
        deadlines.close();
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
        logFiles.values().forEach(FunctionLogFile::close);
        uids.close();
        claim.close();
    }

    private static String netnsPrefix(String workerId) {
        return "ignis-" + workerId + "-";
    }

    private static String cgroupName(String workerId) {
        return "ignis-" + workerId;
    }

    /** Kills the whole process tree: every task in the cgroup, then bwrap itself; waits (bounded) for the exit. */
    private static void stopProcesses(Sandbox sb) {
        kill(sb.cgroup, sb.process, "sandbox " + sb.id);
        awaitExit(sb);
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

    private void destroy(Sandbox sb) {
        stopProcesses(sb);
        if (sb.slot != null) {
            releaseSlot(sb.slot);
        }
        sb.server.close();
        sb.server.api().close(new IllegalStateException("retired"));
        if (sb.log != null) {
            sb.log.finish(); // the process tree is gone, so the pipe ends
        }
        giveBack(sb.cgroup, sb.netns, sb.uid);
    }

    /**
     * Returns what a sandbox (or a shell) held, once every process of it is gone: its cgroup, its
     * network namespace (only now: every socket in it is closed too) and its uid. Null parts were never taken.
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

    private void cleanupFailedStart(String id, Sandbox sb, RuntimeApiServer server, Cgroups.Group group,
                                    NetNamespaces.Netns ns, int uid) {
        sandboxes.remove(id);
        if (sb != null && sb.process != null) {
            stopProcesses(sb);
        }
        if (server != null) {
            server.close();
        }
        giveBack(group, ns, uid);
    }

    private FunctionLogFile logFile(SandboxSpec spec) {
        Path dir = LogFiles.directory(config.dataDir(), spec.accountId(), spec.functionName());
        return logFiles.computeIfAbsent(dir, d -> new FunctionLogFile(d, config.logFileMaxBytes(), config.logFilesKept()));
    }

    private static void validate(SandboxSpec spec) {
        if (spec.memoryMb() < 64 || spec.memoryMb() > 10_240) {
            throw LambdaException.invalidParameter("MemorySize must be between 64 and 10240 MB");
        }
        if (spec.timeoutSeconds() < 1 || spec.timeoutSeconds() > 900) {
            throw LambdaException.invalidParameter("Timeout must be between 1 and 900 seconds");
        }
        if (spec.ephemeralStorageMb() < 1 || spec.ephemeralStorageMb() > 10_240) {
            throw LambdaException.invalidParameter("EphemeralStorage must be between 1 and 10240 MB");
        }
    }

    private synchronized int allocateUid() {
        int slot = uidsInUse.nextClearBit(0);
        if (slot >= config.uidCount()) {
            throw new WorkerAtCapacityException(workerId(), "all " + config.uidCount() + " of its sandbox uids are in use");
        }
        uidsInUse.set(slot);
        return uids.range().first() + slot;
    }

    private synchronized void freeUid(int uid) {
        uidsInUse.clear(uid - uids.range().first());
    }

    private byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }
}

package dev.ignis.worker;

import dev.ignis.common.LambdaException;
import dev.ignis.runtimes.RuntimeDefinition;
import dev.ignis.worker.logs.FunctionLogFile;
import dev.ignis.worker.logs.LogFiles;
import dev.ignis.worker.logs.SandboxLog;
import dev.ignis.worker.runtimeapi.BodyBudget;
import dev.ignis.worker.runtimeapi.Invocation;
import dev.ignis.worker.runtimeapi.ResponseStream;
import dev.ignis.worker.runtimeapi.RuntimeApi;
import dev.ignis.worker.runtimeapi.RuntimeApiServer;
import dev.ignis.worker.runtimeapi.RuntimeEvent;
import dev.ignis.worker.sandbox.SandboxCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker: admission, the table of live sandboxes, each sandbox's Runtime API, invoke (deliver, deadline,
 * outcome), logs. Sandboxes themselves come from a {@link SandboxDriver} ({@link BubblewrapDriver} today), which the
 * worker owns and closes. See docs/worker.md. On drivers that snapshot, a function's first cold start is snapshotted
 * after its init and later ones restored (docs/snapshots.md).
 *
 * <p>Over 400 lines: an invoke's whole life (deliver, deadline, every outcome, a streamed response's end) is read best
 * in one place, and the three ways a start goes (boot, boot and snapshot, restore with its fallback to a boot) share
 * the start's undo path with invoke and retire (the sandbox table, the Runtime API's lifecycle, admission tickets);
 * the parts with a life of their own are apart ({@link Outcomes}, {@link InvokeDeadlines}, {@link Admission}, the
 * Runtime API).
 */
public final class SandboxWorker implements Worker {
    private static final Logger LOG = LoggerFactory.getLogger(SandboxWorker.class);
    static final String RUNTIME_API_ADDRESS = "127.0.0.1:9001";
    private static final DateTimeFormatter STREAM_DATE = DateTimeFormatter.ofPattern("yyyy/MM/dd").withZone(ZoneOffset.UTC);

    private final WorkerConfig config;
    private final SandboxDriver driver;
    /** Bytes the Runtime API bodies of all sandboxes may hold at once. */
    private final BodyBudget runtimeApiBodies;
    private final Map<String, LiveSandbox> sandboxes = new ConcurrentHashMap<>();
    private final Map<Path, FunctionLogFile> logFiles = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();
    private final Outcomes outcomes;
    private final Admission admission;
    /** The admission ticket of each live sandbox, given back when it is retired. */
    private final Map<String, Admission.Ticket> admitted = new ConcurrentHashMap<>();
    private final InvokeDeadlines deadlines;

    /** A worker whose sandboxes {@code driver} starts; the worker owns the driver (closes it, also if this fails). */
    public SandboxWorker(WorkerConfig config, SandboxDriver driver) {
        this.config = config;
        this.driver = driver;
        try {
            Files.createDirectories(config.dataDir());
            Path logs = config.dataDir().resolve("logs");
            Files.createDirectories(logs);
            Files.setPosixFilePermissions(logs, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            driver.close();
            throw new UncheckedIOException("cannot prepare worker data directory " + config.dataDir(), e);
        }
        this.admission = new Admission(config.workerId(), config.capacity(), driver::pidsInUse);
        this.runtimeApiBodies = new BodyBudget(config.runtimeApi().bodyBudgetBytes());
        this.outcomes = new Outcomes(config.clock());
        this.deadlines = new InvokeDeadlines(config.workerId());
        LOG.info("worker {} ready with the {} sandbox driver", config.workerId(), driver.name());
    }

    /** A worker with the {@code process} driver ({@link BubblewrapDriver}), as a server runs it. */
    public static SandboxWorker process(WorkerConfig config) {
        return new SandboxWorker(config, new BubblewrapDriver(config));
    }

    @Override
    public String workerId() {
        return config.workerId();
    }

    /** The driver that starts this worker's sandboxes. */
    public SandboxDriver driver() {
        return driver;
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

    /** How one sandbox starts: from scratch, from scratch and then snapshotted, or restored from a snapshot. */
    private enum StartMode { COLD, SNAPSHOT, RESTORE }

    /** Function configurations whose snapshot a cold start is taking now (one taker per configuration). */
    private final java.util.Set<String> snapshotsTaking = ConcurrentHashMap.newKeySet();

    private SandboxHandle start(SandboxSpec spec, RuntimeDefinition rt) {
        if (!driver.canSnapshot()) {
            return start(spec, rt, StartMode.COLD, null);
        }
        String key = SnapshotKey.of(spec, rt);
        if (driver.hasSnapshot(key)) {
            try {
                return start(spec, rt, StartMode.RESTORE, key);
            } catch (RestoreFailed e) {
                LOG.warn("restore of snapshot {} of {} failed ({}); dropping the snapshot and booting a sandbox instead",
                        key, spec.functionArn(), e.getMessage());
                driver.dropSnapshot(key);
            }
        }
        if (snapshotsTaking.add(key)) {
            try {
                return start(spec, rt, StartMode.SNAPSHOT, key);
            } finally {
                snapshotsTaking.remove(key);
            }
        }
        return start(spec, rt, StartMode.COLD, null);
    }

    /** The snapshot key of {@code spec}'s configuration on this worker (tests, diagnostics). */
    String snapshotKey(SandboxSpec spec) {
        return SnapshotKey.of(spec, config.runtimes().apply(spec.runtime()).orElseThrow());
    }

    /** A restore that did not give a ready sandbox (the worker falls back to a cold start). */
    private static final class RestoreFailed extends RuntimeException {
        RestoreFailed(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private SandboxHandle start(SandboxSpec spec, RuntimeDefinition rt, StartMode mode, String key) {
        String stream = newLogStream(spec);
        var endpoint = new LiveSandbox.Endpoint(spec.functionName(), runtimeApiBodies, config.runtimeApi().readTimeout());
        LiveSandbox sb = new LiveSandbox(spec, stream, endpoint);
        sb.restored = mode == StartMode.RESTORE;
        Map<String, String> env = SandboxEnvironment.of(spec, rt, stream, RUNTIME_API_ADDRESS);
        SandboxDriver.Sandbox started;
        try {
            var start = new SandboxDriver.Start(spec, rt, env, endpoint);
            started = switch (mode) {
                case COLD -> driver.start(start);
                case SNAPSHOT -> driver.startSnapshottable(start);
                case RESTORE -> driver.restore(start, key);
            };
        } catch (RuntimeException e) {
            endpoint.close();
            if (mode == StartMode.RESTORE) {
                throw new RestoreFailed(e.getMessage(), e);
            }
            throw e;
        }
        sb.id = started.id();
        sb.started = started;
        started.exit().thenAccept(sb::exited);
        try {
            if (endpoint.server() == null) {
                throw new IllegalStateException("the " + driver.name() + " driver started " + started.id()
                        + " without connecting its Runtime API");
            }
            sb.log = new SandboxLog(logFile(spec), stream, config.clock(), started.output());
            sandboxes.put(sb.id, sb);
            awaitInit(sb, started.runtimeStartedNanos(), mode == StartMode.RESTORE);
            if (mode == StartMode.RESTORE && sb.initError != null) {
                destroy(sb, started);
                throw new RestoreFailed("the restored sandbox did not ask for its next event: " + sb.initErrorType, null);
            }
            if (mode == StartMode.SNAPSHOT && sb.initError == null) {
                try {
                    driver.snapshot(started, key);
                } catch (RuntimeException e) {
                    LOG.warn("could not snapshot {} of {}: {}; it serves on without a snapshot", sb.id, spec.functionArn(),
                            e.getMessage());
                }
            }
            return sb.handle;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            destroy(sb, started);
            throw new IllegalStateException("interrupted while starting a sandbox", e);
        } catch (RestoreFailed e) {
            throw e;
        } catch (RuntimeException e) {
            destroy(sb, started);
            if (mode == StartMode.RESTORE) {
                throw new RestoreFailed(e.getMessage(), e);
            }
            throw new IllegalStateException("could not start a sandbox for " + spec.functionArn() + ": " + e.getMessage(), e);
        }
    }

    private String newLogStream(SandboxSpec spec) {
        byte[] b = new byte[16];
        random.nextBytes(b);
        return STREAM_DATE.format(config.clock().instant()) + "/[" + spec.version() + "]" + HexFormat.of().formatHex(b);
    }

    private void awaitInit(LiveSandbox sb, long t0, boolean restore) throws InterruptedException {
        RuntimeEvent ev;
        try {
            ev = sb.api().init().get(config.initTimeout().toMillis(), TimeUnit.MILLISECONDS);
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
                type = LiveSandbox.exitErrorType(ex);
                body = Outcomes.error("Runtime exited with error: " + LiveSandbox.describeExit(ex), type);
            }
            case null, default -> {
                type = "Sandbox.Timeout";
                body = Outcomes.error(String.format(Locale.ROOT, "Init timed out after %.2f seconds",
                        config.initTimeout().toMillis() / 1000.0), type);
            }
        }
        sb.initErrorType = type;
        sb.initError = body;
        if (restore) {
            return; // the caller destroys it and boots instead
        }
        stop(sb); // AWS discards a sandbox whose init failed; the handle stays until retire()
        sb.log.platform(String.format(Locale.ROOT, "INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: error\tError Type: %s",
                initDuration.toNanos() / 1e6, type));
        LOG.info("sandbox {} of {} failed init: {}", sb.id, sb.spec.functionArn(), type);
    }

    /** The exit event once the exit callback has run (it may lag the init future by a moment). */
    private static RuntimeEvent.Exited awaitExit(LiveSandbox sb) {
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (sb.exit.get() == null && System.nanoTime() < deadline) {
            Thread.onSpinWait();
            Thread.yield();
        }
        return sb.exit.get();
    }

    @Override
    public InvokeOutcome invoke(String sandboxId, InvokeRequest request) {
        return invoke(sandboxId, request, null);
    }

    @Override
    public boolean streamsResponses() {
        return true;
    }

    @Override
    public InvokeOutcome invoke(String sandboxId, InvokeRequest request, ResponseStream stream) {
        LiveSandbox sb = sandboxes.get(sandboxId);
        if (sb == null) {
            // The table that leased it and this worker disagree (the worker restarted, or retired it): nothing
            // ran, so the caller retires the entry and sends the invoke to another sandbox.
            throw new SandboxGoneException(sandboxId, "not on worker " + workerId());
        }
        if (!sb.busy.compareAndSet(false, true)) {
            throw new IllegalStateException("sandbox " + sandboxId + " is busy: one invoke at a time");
        }
        try {
            return runInvoke(sb, request, stream);
        } finally {
            sb.inFlight.set(null);
            sb.busy.set(false);
        }
    }

    private InvokeOutcome runInvoke(LiveSandbox sb, InvokeRequest req, ResponseStream stream) {
        long start = System.nanoTime();
        sb.log.start(req.requestId(), sb.spec.version());
        if (sb.initError != null) {
            return outcomes.finish(sb, req, start, InvokeOutcome.Status.INIT_ERROR, sb.initError, false);
        }
        long timeoutMs = sb.spec.timeoutSeconds() * 1000L;
        Invocation inv = new Invocation(req.requestId(), req.payload() == null ? new byte[0] : req.payload(), config.clock().millis() + timeoutMs,
                req.invokedFunctionArn(), Outcomes.traceId(config.clock()), req.clientContext(), req.cognitoIdentity(),
                new CompletableFuture<>(), stream);
        if (stream != null) {
            // the deadline or the runtime's exit ends a stream that is still arriving: a producer waiting on a slow
            // client gives up (and its connection closes) instead of outliving the invoke
            inv.result().whenComplete((e, x) -> {
                // (an exit before delivery ran nothing: the caller tries another sandbox with the same stream)
                if (e instanceof RuntimeEvent.TimedOut || x != null
                        || e instanceof RuntimeEvent.Exited && sb.api().delivered(req.requestId())) {
                    stream.abort();
                }
            });
        }
        sb.inFlight.set(inv);
        RuntimeEvent ev;
        InvokeDeadlines.Entry watch = deadlines.watch(inv.result(), start + TimeUnit.MILLISECONDS.toNanos(timeoutMs));
        try {
            deliver(sb, inv);
            ev = inv.result().get(); // untimed: the deadline watch completes it with TimedOut
        } catch (InterruptedException e) {
            // the caller gave up mid-invoke: the runtime's state is unknown, so the sandbox goes
            Thread.currentThread().interrupt();
            sb.api().abandon(inv);
            stop(sb);
            sb.log.end(req.requestId(), "REPORT RequestId: " + req.requestId() + "\tStatus: interrupted", false);
            throw new IllegalStateException("invoke " + req.requestId() + " interrupted; sandbox " + sb.id + " was stopped", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        } finally {
            deadlines.unwatch(watch);
        }
        sb.api().abandon(inv);
        if (ev instanceof RuntimeEvent.TimedOut) {
            stop(sb);
            String msg = String.format(Locale.ROOT, "Task timed out after %.2f seconds", timeoutMs / 1000.0);
            sb.log.platform(config.clock().instant() + " " + req.requestId() + " " + msg);
            return outcomes.finish(sb, req, start, InvokeOutcome.Status.TIMEOUT, Outcomes.error(msg, "Sandbox.Timeout"), false);
        }
        return switch (ev) {
            case RuntimeEvent.Response r when stream != null -> {
                sendWhole(stream, r.body()); // a whole body to a caller that takes a stream: one chunk, as Lambda sends it
                yield outcomes.finish(sb, req, start, InvokeOutcome.Status.SUCCESS, new byte[0], true);
            }
            case RuntimeEvent.Response r -> outcomes.finish(sb, req, start, InvokeOutcome.Status.SUCCESS, r.body(), true);
            case RuntimeEvent.Error err -> outcomes.finish(sb, req, start, InvokeOutcome.Status.FUNCTION_ERROR,
                    Outcomes.errorBody(err, Outcomes.errorType(err, "Function.Unknown")), true);
            case RuntimeEvent.TooLarge t -> {
                String msg = "Response payload size exceeded maximum allowed payload size (" + t.limit() + " bytes).";
                sb.log.platform(req.requestId() + " " + msg);
                yield outcomes.finish(sb, req, start, InvokeOutcome.Status.RESPONSE_TOO_LARGE,
                        Outcomes.error(msg, "Function.ResponseSizeTooLarge"), true);
            }
            case RuntimeEvent.Exited ex when !sb.api().delivered(req.requestId()) -> {
                // the runtime exited while idle (e.g. after its previous invoke): this invoke never started
                sb.log.platform("END RequestId: " + req.requestId() + " (not started: the runtime had exited: " + LiveSandbox.describeExit(ex) + ")");
                throw new SandboxGoneException(sb.id, LiveSandbox.describeExit(ex));
            }
            case RuntimeEvent.Exited ex -> {
                String msg = "RequestId: " + req.requestId() + " Error: Runtime exited with error: " + LiveSandbox.describeExit(ex);
                String type = LiveSandbox.exitErrorType(ex);
                sb.log.platform(msg);
                sb.log.platform(type);
                if (ex.outOfMemory()) {
                    LOG.info("sandbox {} of {} was OOM-killed at {} MB", sb.id, sb.spec.functionArn(), sb.spec.memoryMb());
                }
                yield outcomes.finish(sb, req, start, InvokeOutcome.Status.EXIT_ERROR, Outcomes.error(msg, type), false, ex.outOfMemory());
            }
            case RuntimeEvent.Ready ready -> throw new IllegalStateException("unexpected " + ready);
            case RuntimeEvent.TimedOut t -> throw new IllegalStateException("unreachable: handled above");
        };
    }

    private static void sendWhole(ResponseStream stream, byte[] body) {
        if (body.length == 0) {
            return;
        }
        try {
            stream.write(body, 0, body.length);
        } catch (java.io.IOException e) {
            // the stream was ended meanwhile: nothing left to send it to
        }
    }

    /**
     * Hands the invocation to the runtime: on this thread when its /next is parked (then returns once
     * the answer is in, or the connection cannot carry it), else queued for the Runtime API's thread.
     */
    private static void deliver(LiveSandbox sb, Invocation inv) {
        RuntimeEvent.Exited already = sb.exit.get();
        if (already != null) {
            inv.result().complete(already);
            return;
        }
        switch (sb.api().offerToDrive(inv)) {
            case RuntimeApi.Offer.Delivered d -> d.connection().drive(inv); // returns once answered (or undeliverable here)
            case RuntimeApi.Offer.Queued q -> { } // a connection's own thread hands it out
            case RuntimeApi.Offer.Gone g -> inv.result().complete(awaitExit(sb));
            case RuntimeApi.Offer.Busy b -> throw new IllegalStateException("sandbox " + sb.id + " is busy: one invoke at a time");
        }
    }

    /** Requests the sandbox's Runtime API has served (diagnostics; tests use it to prove isolation). */
    public long runtimeApiRequests(String sandboxId) {
        LiveSandbox sb = sandboxes.get(sandboxId);
        if (sb == null) {
            throw new IllegalArgumentException("no sandbox " + sandboxId);
        }
        RuntimeApiServer server = sb.runtimeApi.server();
        return server == null ? 0 : server.requestCount();
    }

    /** What the driver started for a live sandbox, or null (tests and diagnostics). */
    SandboxDriver.Sandbox started(String sandboxId) {
        LiveSandbox sb = sandboxes.get(sandboxId);
        return sb == null ? null : sb.started;
    }

    @Override
    public void retire(String sandboxId) {
        LiveSandbox sb = sandboxes.remove(sandboxId);
        if (sb != null) {
            destroy(sb, sb.started);
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
        deadlines.close();
        driver.close();
        logFiles.values().forEach(FunctionLogFile::close);
    }

    /** Kills the sandbox's processes and waits (bounded) until the worker has seen the exit. */
    private static void stop(LiveSandbox sb) {
        sb.started.stop();
        awaitExit(sb);
    }

    /** Stop, then the Runtime API (its listener lives in what the driver gives back), then the driver's resources. */
    private void destroy(LiveSandbox sb, SandboxDriver.Sandbox started) {
        if (sb.id != null) {
            sandboxes.remove(sb.id, sb);
        }
        started.stop();
        awaitExit(sb);
        sb.runtimeApi.close();
        sb.api().close(new IllegalStateException("retired"));
        if (sb.log != null) {
            sb.log.finish(); // the process tree is gone, so the pipe ends
        }
        started.close();
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
}

package dev.ignis.frontend;

import dev.ignis.assignment.Assignment;
import dev.ignis.assignment.Lease;
import dev.ignis.assignment.SandboxKey;
import dev.ignis.async.EventQueue;
import dev.ignis.common.LambdaException;
import dev.ignis.config.ConfigStore;
import dev.ignis.config.FunctionConfig;
import dev.ignis.config.FunctionEntry;
import dev.ignis.config.FunctionName;
import dev.ignis.config.Region;
import dev.ignis.worker.InvokeOutcome;
import dev.ignis.worker.InvokeRequest;
import dev.ignis.worker.SandboxGoneException;
import dev.ignis.worker.SandboxSpec;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import dev.ignis.worker.runtimeapi.ResponseStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The synchronous invoke, as the talk draws it: parse → resolve config from the local image →
 * throttle → lease a sandbox from assignment → send the payload to the worker → release.
 */
public final class InvokePath implements LambdaApi.Invoker {
    static final int MAX_SYNC_PAYLOAD = 6 * 1024 * 1024;
    /** Lambda hands a function {@code {}} when the caller sent no payload. */
    private static final byte[] EMPTY_EVENT = "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    private static final int MAX_CLIENT_CONTEXT = 3583;
    /** Set on the invoke that cold-started its sandbox: that sandbox's Init Duration in ms (Ignis's own header, not AWS's). */
    public static final String INIT_DURATION_HEADER = "X-Ignis-Init-Duration";
    /** Sandboxes tried for one invoke when a sandbox turns out to be gone before the invoke started. */
    private static final int MAX_ATTEMPTS = 3;

    private final ConfigStore config;
    private final Assignment assignment;
    private final EventQueue events;
    private final ConcurrencyLimiter limiter = new ConcurrencyLimiter(ControlPlane.ACCOUNT_CONCURRENCY_LIMIT);
    private final InvokeMetrics metrics;

    public InvokePath(ConfigStore config, Assignment assignment, EventQueue events) {
        this(config, assignment, events, null);
    }

    /** @param registry where Lambda's invoke metrics go ({@link InvokeMetrics}); null for none */
    public InvokePath(ConfigStore config, Assignment assignment, EventQueue events, io.micrometer.core.instrument.MeterRegistry registry) {
        this.config = config;
        this.assignment = assignment;
        this.events = events;
        this.metrics = registry == null ? InvokeMetrics.NONE : new InvokeMetrics(registry, InvokeMetrics.maxFunctionSeriesFromSystem(),
                limiter::running, limiter::accountRunning, limiter::unreservedRunning);
    }

    /** Lambda's invoke metrics of this path (the async pollers record AsyncEventAge here). */
    public InvokeMetrics metrics() {
        return metrics;
    }

    /** What one synchronous execution produced, and which version ran. */
    public record Execution(InvokeOutcome outcome, String executedVersion) {}

    @Override
    public ApiResponse invoke(dev.ignis.frontend.SigV4Verifier.Caller caller, String name, ApiRequest r, String requestId) {
        var fn = FunctionName.parseAnyAccount(name, caller.accountId());
        String qualifier = fn.qualifierOr(r.query().get("Qualifier"));
        FunctionEntry entry = fn.accountId().equals(caller.accountId()) ? config.function(fn.key())
                : granted(fn, qualifier, caller.accountId(), name);
        FunctionConfig version = resolve(fn, entry, qualifier);
        byte[] payload = r.body().length == 0 ? EMPTY_EVENT : r.body();
        String type = r.header("x-amz-invocation-type") == null ? "RequestResponse" : r.header("x-amz-invocation-type");
        switch (type) {
            case "DryRun" -> {
                return ApiResponse.empty(204);
            }
            case "Event" -> {
                // durably queued before the 202; throttling never rejects an enqueue (the event waits)
                events.enqueue(requestId, fn.accountId(), fn.name(), qualifier, payload);
                metrics.asyncReceived(fn.key());
                return new ApiResponse(202, Map.of(), new byte[0]);
            }
            case "RequestResponse" -> { }
            default -> throw LambdaException.invalidParameter("InvocationType must be RequestResponse, Event or DryRun");
        }
        if (payload.length > MAX_SYNC_PAYLOAD) {
            throw LambdaException.tooLarge("Request must be smaller than " + MAX_SYNC_PAYLOAD + " bytes for the InvokeFunction operation");
        }
        var e = execute(fn, entry, version, qualifier, payload, requestId, clientContext(r.header("x-amz-client-context")),
                "Tail".equals(r.header("x-amz-log-type")));
        return answer(e.outcome(), e.executedVersion());
    }

    /**
     * InvokeWithResponseStream: as {@link #invoke}, but the function's bytes go to the caller as they come, as
     * {@code PayloadChunk} events of AWS's event stream, then one {@code InvokeComplete} (the error, if the function
     * failed, mid-stream or before; the log tail for {@code LogType=Tail}). A refusal before a sandbox took the invoke
     * (throttled, not found, bad input) is an ordinary AWS error; after it, errors travel in {@code InvokeComplete}.
     */
    public ApiResponse invokeWithResponseStream(SigV4Verifier.Caller caller, String name, ApiRequest r, String requestId) {
        var fn = FunctionName.parseAnyAccount(name, caller.accountId());
        String qualifier = fn.qualifierOr(r.query().get("Qualifier"));
        String type = r.header("x-amz-invocation-type") == null ? "RequestResponse" : r.header("x-amz-invocation-type");
        if (!type.equals("RequestResponse") && !type.equals("DryRun")) {
            throw LambdaException.invalidParameter("InvocationType must be RequestResponse or DryRun for InvokeWithResponseStream");
        }
        String logType = r.header("x-amz-log-type");
        if (logType != null && !logType.equals("None") && !logType.equals("Tail")) {
            throw LambdaException.invalidParameter("LogType must be None or Tail");
        }
        String clientContext = clientContext(r.header("x-amz-client-context"));
        FunctionEntry entry = fn.accountId().equals(caller.accountId()) ? config.function(fn.key())
                : granted(fn, qualifier, caller.accountId(), name);
        FunctionConfig version = resolve(fn, entry, qualifier);
        if (type.equals("DryRun")) {
            return ApiResponse.empty(204).withHeader("X-Amz-Executed-Version", version.version());
        }
        byte[] payload = r.body().length == 0 ? EMPTY_EVENT : r.body();
        StreamingExecution x = startStreaming(fn, entry, version, qualifier, payload, requestId, clientContext, "Tail".equals(logType));
        awaitStart(x);
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Type", EventStream.CONTENT_TYPE);
        headers.put("X-Amz-Executed-Version", x.executedVersion());
        return ApiResponse.streamed(200, headers, List.of(), out -> {
            try {
                for (byte[] c = x.stream().take(); c != null; c = x.stream().take()) {
                    out.write(EventStream.payloadChunk(c, 0, c.length));
                    out.flush();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                x.stream().cancel();
                throw new java.io.InterruptedIOException("interrupted");
            } catch (java.io.IOException | RuntimeException e) {
                x.stream().cancel(); // the client left: the function runs on, its bytes dropped
                throw e;
            }
            out.write(complete(x.done()));
            out.flush();
        });
    }

    /** Waits until a sandbox took the streamed invoke; a refusal before that is thrown as the caller's error. */
    static void awaitStart(StreamingExecution x) {
        try {
            x.started().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw LambdaException.service("interrupted");
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
        if (x.done().isCompletedExceptionally()) {
            try {
                x.done().join();
            } catch (CompletionException e) {
                if (e.getCause() instanceof RuntimeException re) {
                    throw re;
                }
                throw e;
            }
        }
    }

    /** The InvokeComplete event of a finished streamed execution: ErrorCode = the error's type, ErrorDetails its message. */
    private static byte[] complete(CompletableFuture<Execution> done) {
        Execution e;
        try {
            e = done.join();
        } catch (CompletionException ex) {
            String message = ex.getCause() instanceof LambdaException le ? le.getMessage() : "Internal failure";
            String code = ex.getCause() instanceof LambdaException le ? le.type() : "ServiceException";
            return EventStream.invokeComplete(code, message, null);
        }
        InvokeOutcome o = e.outcome();
        if (!o.isFunctionError()) {
            return EventStream.invokeComplete(null, null, o.logTail());
        }
        String code = "Unhandled";
        String details = new String(o.payload(), StandardCharsets.UTF_8);
        try {
            var body = dev.ignis.common.Json.mapper().readTree(o.payload());
            if (body != null && body.path("errorType").isTextual()) {
                code = body.get("errorType").asText();
            }
            if (body != null && body.path("errorMessage").isTextual()) {
                details = body.get("errorMessage").asText();
            }
        } catch (java.io.IOException ignored) {
            // not JSON: the body as it is
        }
        return EventStream.invokeComplete(code, details, o.logTail());
    }

    /**
     * Another account's function, by ARN: allowed only when the policy of exactly what was named
     * (the function, or that version or alias) grants the caller's account lambda:InvokeFunction.
     * A missing function is refused the same way, so a caller learns nothing of other accounts.
     * Only cross-account ARNs come here: the usual invoke of one's own function pays nothing.
     * The invoke then runs as the owner's (its sandbox, concurrency and queue), as in Lambda.
     */
    private FunctionEntry granted(FunctionName fn, String qualifier, String callerAccount, String raw) {
        FunctionEntry entry = config.image().function(fn.key()).orElse(null);
        var policy = entry == null ? null : entry.policy(qualifier);
        if (policy == null || policy.statements().stream().noneMatch(s -> s.allowsInvoke(callerAccount))) {
            throw FunctionName.crossAccount(raw);
        }
        return entry;
    }

    /** Runs one invoke synchronously: the path shared by RequestResponse invokes and the async pollers. */
    public Execution execute(String accountId, String functionName, String qualifier, byte[] payload, String requestId) {
        var fn = new FunctionName(accountId, functionName, null);
        FunctionEntry entry = config.function(fn.key());
        return execute(fn, entry, resolve(fn, entry, qualifier), qualifier, payload, requestId, null, false);
    }

    private Execution execute(FunctionName fn, FunctionEntry entry, FunctionConfig version, String qualifier, byte[] payload,
                              String requestId, String clientContext, boolean tail) {
        return execute(fn, entry, version, qualifier, payload, requestId, clientContext, tail, null);
    }

    /**
     * A streamed execution under way: its chunks arrive in {@code stream()}; {@code started()} completes once a sandbox
     * took the invoke (from then on the answer is a stream), {@code done()} with the execution, or with what refused it
     * before it started (throttled, no sandbox: an AWS error for the caller).
     */
    public record StreamingExecution(ResponseStream stream, String executedVersion, CompletableFuture<Void> started,
                                     CompletableFuture<Execution> done) {}

    /**
     * Starts one invoke whose response streams (InvokeWithResponseStream, a streaming function URL) on a thread of its
     * own; the caller reads {@code stream()} while it runs.
     */
    public StreamingExecution executeStreaming(String accountId, String functionName, String qualifier, byte[] payload,
                                               String requestId) {
        var fn = new FunctionName(accountId, functionName, null);
        FunctionEntry entry = config.function(fn.key());
        return startStreaming(fn, entry, resolve(fn, entry, qualifier), qualifier, payload, requestId, null, false);
    }

    private StreamingExecution startStreaming(FunctionName fn, FunctionEntry entry, FunctionConfig version, String qualifier,
                                              byte[] payload, String requestId, String clientContext, boolean tail) {
        var stream = new ResponseStream();
        var started = new CompletableFuture<Void>();
        var done = new CompletableFuture<Execution>();
        Thread.ofVirtual().name("invoke-stream-" + requestId).start(() -> {
            try {
                done.complete(execute(fn, entry, version, qualifier, payload, requestId, clientContext, tail, new Streaming(stream, started)));
            } catch (Throwable t) {
                done.completeExceptionally(t);
            } finally {
                stream.close();
                started.complete(null); // a failure before the start is in done
            }
        });
        return new StreamingExecution(stream, version.version(), started, done);
    }

    /** Where a streamed execution's bytes go, and the signal that a sandbox took it. */
    private record Streaming(ResponseStream stream, CompletableFuture<Void> started) {}

    private Execution execute(FunctionName fn, FunctionEntry entry, FunctionConfig version, String qualifier, byte[] payload,
                              String requestId, String clientContext, boolean tail, Streaming streaming) {
        int reservedTotal = reservedTotal(fn.accountId());
        String invokedArn = ConfigStore.functionArn(fn.accountId(), fn.name()) + (qualifier == null ? "" : ":" + qualifier);
        var key = new SandboxKey(fn.accountId(), fn.name(), version.version(), version.revisionId());
        var meters = metrics.of(key);
        ConcurrencyLimiter.Slot slot;
        try {
            slot = limiter.acquire(fn.key(), entry.reservedConcurrency(), reservedTotal);
        } catch (LambdaException throttled) {
            metrics.throttled(meters);
            throw throttled;
        }
        try (slot) {
            for (int attempt = 1; ; attempt++) {
                Lease lease;
                try {
                    lease = assignment.acquire(key, () -> spec(version), attempt == 1 ? requestId : requestId + "#" + attempt);
                } catch (LambdaException e) {
                    if (e.status() == 429) {
                        metrics.throttled(meters); // no worker had room for a new sandbox: Lambda counts it a throttle
                    }
                    throw e;
                }
                InvokeOutcome outcome;
                if (streaming != null && !lease.worker().streamsResponses()) {
                    assignment.release(lease, true); // nothing ran on it
                    throw LambdaException.invalidParameter("Response streaming is served by a single-node Ignis (ignis serve) only: "
                            + "this cluster's workers cannot stream yet. Call Invoke, which answers with the whole response of up to 6 MB");
                }
                try {
                    var request = new InvokeRequest(requestId, payload, invokedArn, clientContext, null, tail);
                    if (streaming != null) {
                        streaming.started().complete(null);
                        outcome = lease.worker().invoke(lease.sandboxId(), request, streaming.stream());
                    } else {
                        outcome = lease.worker().invoke(lease.sandboxId(), request);
                    }
                } catch (SandboxGoneException gone) {
                    // nothing ran: retire it and send the invoke to another sandbox, as Lambda would
                    assignment.release(lease, false);
                    if (attempt == MAX_ATTEMPTS) {
                        throw LambdaException.service("No working sandbox after " + MAX_ATTEMPTS + " attempts: " + gone.getMessage());
                    }
                    continue;
                } catch (RuntimeException e) {
                    assignment.release(lease, false);
                    throw e;
                }
                metrics.ran(meters, outcome.duration(), outcome.initDuration() != null ? outcome.initDuration() : lease.initDuration(),
                        outcome.isFunctionError());
                assignment.release(lease, outcome.sandboxReusable());
                return new Execution(outcome, version.version());
            }
        }
    }

    /** Reserved concurrency summed per account, computed once per config image rather than on every invoke. */
    private record ReservedTotals(dev.ignis.config.ConfigImage image, Map<String, Integer> byAccount) {}

    private volatile ReservedTotals reservedTotals;

    private int reservedTotal(String accountId) {
        var image = config.image();
        ReservedTotals t = reservedTotals;
        if (t == null || t.image() != image) {
            Map<String, Integer> sums = new java.util.HashMap<>();
            image.functions().values().forEach(e -> {
                if (e.reservedConcurrency() != null) {
                    sums.merge(e.latest().accountId(), e.reservedConcurrency(), Integer::sum);
                }
            });
            t = new ReservedTotals(image, sums);
            reservedTotals = t;
        }
        return t.byAccount().getOrDefault(accountId, 0);
    }

    private static ApiResponse answer(InvokeOutcome outcome, String executedVersion) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Type", "application/json");
        headers.put("X-Amz-Executed-Version", executedVersion);
        if (outcome.isFunctionError()) {
            headers.put("X-Amz-Function-Error", "Unhandled");
        }
        if (outcome.logTail() != null) {
            headers.put("X-Amz-Log-Result", outcome.logTail());
        }
        if (outcome.initDuration() != null) {
            // the REPORT line's Init Duration: lets a client (ignis bench) tell cold invokes from warm ones without Tail
            headers.put(INIT_DURATION_HEADER, String.format(java.util.Locale.ROOT, "%.2f", outcome.initDuration().toNanos() / 1e6));
        }
        return new ApiResponse(200, headers, outcome.payload());
    }

    private SandboxSpec spec(FunctionConfig c) {
        return new SandboxSpec(c.accountId(), Region.NAME, c.functionName(), ConfigStore.functionArn(c.accountId(), c.functionName()),
                c.version(), c.revisionId(), c.runtime(), c.handler(), c.memorySize(), c.timeout(), c.ephemeralStorageSize(),
                c.environment(), config.code().unpacked(c.codeSha256Hex()), config.code().layers(c.layerSha256Hexes()));
    }

    /** $LATEST, a version, or an alias — with an alias's weighted routing applied per invoke. */
    static FunctionConfig resolve(FunctionName fn, FunctionEntry entry, String qualifier) {
        var alias = qualifier == null ? null : entry.aliases().get(qualifier);
        FunctionConfig c = entry.resolve(qualifier);
        if (alias != null) {
            for (var w : alias.additionalVersionWeights().entrySet()) {
                if (ThreadLocalRandom.current().nextDouble() < w.getValue()) {
                    c = entry.version(w.getKey());
                }
            }
        }
        if (c == null) {
            throw ConfigStore.notFound(fn.accountId(), fn.name(), qualifier);
        }
        return c;
    }

    private static String clientContext(String header) {
        if (header == null) {
            return null;
        }
        if (header.length() > MAX_CLIENT_CONTEXT) {
            throw LambdaException.invalidParameter("Client context must be 3583 bytes or less (base64)");
        }
        try {
            return new String(Base64.getDecoder().decode(header), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw LambdaException.invalidParameter("Client context must be valid base64");
        }
    }
}

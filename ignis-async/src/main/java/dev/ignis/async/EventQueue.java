package dev.ignis.async;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ignis.common.Json;
import dev.ignis.common.LambdaException;
import dev.ignis.journal.Journal;
import dev.ignis.journal.JournalStateMachine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lambda's asynchronous invocations: a durable queue of events (on a journal: an event is
 * acknowledged only once it is committed), pollers that run due events through the platform's
 * synchronous invoke path, AWS's retry policy, maximum event age, destinations and a dead-letter
 * store. Delivery is at least once: an event whose invoke was under way when the process died is
 * still pending after the log is replayed, and runs again with the same request id.
 *
 * <p>All timing comes from the injected clock; {@link #runDue()} runs whatever is due now and waits
 * for it, so tests advance a fake clock instead of sleeping.
 */
public final class EventQueue implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EventQueue.class);
    public static final int MAX_EVENT_PAYLOAD = 1024 * 1024;

    /** What invoking an event's function synchronously produced. */
    public record Result(Kind kind, byte[] payload, String executedVersion) {}

    public enum Kind { SUCCESS, FUNCTION_ERROR, THROTTLED, PLATFORM_ERROR, FUNCTION_NOT_FOUND }

    /** The platform's synchronous invoke path, as the pollers use it. */
    public interface FunctionInvoker {
        Result invoke(Event event);
    }

    /**
     * @param firstRetry      wait after the first function error (AWS: about 1 minute)
     * @param secondRetry     wait after the second (AWS: about 2 minutes)
     * @param backoffBase     first wait after a throttle or platform error, doubled each time
     * @param backoffMax      longest such wait
     * @param maxInFlight     events invoked at once
     * @param pollInterval    how often the background poller looks for due events
     */
    public record Settings(Duration firstRetry, Duration secondRetry, Duration backoffBase, Duration backoffMax, int maxInFlight,
                           Duration pollInterval) {
        public static Settings aws() {
            return new Settings(Duration.ofMinutes(1), Duration.ofMinutes(2), Duration.ofSeconds(1), Duration.ofMinutes(5), 64,
                    Duration.ofMillis(20));
        }
    }

    private final AsyncState state = new AsyncState();
    private final Journal journal;
    private final FunctionInvoker invoker;
    private final Clock clock;
    private final Settings settings;
    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
    private final Semaphore slots;
    private final ExecutorService invokers = Executors.newVirtualThreadPerTaskExecutor();
    private final Object wake = new Object();
    private volatile Thread poller;
    private volatile boolean closed;

    public EventQueue(Function<JournalStateMachine, Journal> journals, FunctionInvoker invoker, Clock clock, Settings settings) {
        this.journal = journals.apply(state);
        this.invoker = invoker;
        this.clock = clock;
        this.settings = settings;
        this.slots = new Semaphore(settings.maxInFlight());
    }

    // ---- enqueue ------------------------------------------------------------------------------

    /** Stores the event durably; returns once it is committed. Never throttled: the event waits instead. */
    public void enqueue(String requestId, String accountId, String functionName, String qualifier, byte[] payload) {
        if (payload.length > MAX_EVENT_PAYLOAD) {
            throw LambdaException.tooLarge("Request must be smaller than " + MAX_EVENT_PAYLOAD + " bytes for the InvokeAsync operation");
        }
        long now = clock.millis();
        append(new AsyncRecord.Enqueued(new Event(requestId, accountId, functionName, qualifier, payload, now, 0, 0, now, null)));
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    // ---- event-invoke config ------------------------------------------------------------------

    public EventInvokeConfig putConfig(Event.ConfigKey key, Integer retries, Integer maxAge, String onSuccess, String onFailure, boolean merge) {
        EventInvokeConfig old = merge ? state.explicitConfig(key).orElse(EventInvokeConfig.defaults()) : EventInvokeConfig.defaults();
        int r = retries != null ? retries : old.maximumRetryAttempts();
        int a = maxAge != null ? maxAge : old.maximumEventAgeInSeconds();
        if (r < 0 || r > 2) {
            throw new LambdaException(400, "ValidationException", "1 validation error detected: Value '" + r
                    + "' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2 and greater than or equal to 0");
        }
        if (a < 60 || a > 21_600) {
            throw new LambdaException(400, "ValidationException", "1 validation error detected: Value '" + a
                    + "' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value less than or equal to 21600 and greater than or equal to 60");
        }
        String s = onSuccess != null ? destination(key, onSuccess) : (merge ? old.onSuccess() : null);
        String f = onFailure != null ? destination(key, onFailure) : (merge ? old.onFailure() : null);
        var config = new EventInvokeConfig(r, a, s, f, clock.millis());
        append(new AsyncRecord.ConfigPut(key, config));
        return config;
    }

    public Optional<EventInvokeConfig> config(Event.ConfigKey key) {
        return state.explicitConfig(key);
    }

    public List<Map.Entry<Event.ConfigKey, EventInvokeConfig>> configs(String accountId, String functionName) {
        return state.configs().entrySet().stream()
                .filter(e -> e.getKey().accountId().equals(accountId) && e.getKey().functionName().equals(functionName))
                .sorted(Map.Entry.comparingByKey(java.util.Comparator.comparing(Event.ConfigKey::qualifier)))
                .toList();
    }

    public void deleteConfig(Event.ConfigKey key) {
        if (state.explicitConfig(key).isEmpty()) {
            throw LambdaException.notFound("The function " + key.functionName() + " doesn't have an EventInvokeConfig");
        }
        append(new AsyncRecord.ConfigRemoved(key));
    }

    /** Only Lambda functions of the same account can be destinations here (no SQS, SNS or EventBridge). */
    private static String destination(Event.ConfigKey key, String arn) {
        if (arn.isEmpty()) {
            return null;
        }
        var m = java.util.regex.Pattern.compile("arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:(\\d{12}):function:[a-zA-Z0-9-_]+(:[a-zA-Z0-9-_$]+)?")
                .matcher(arn);
        if (!m.matches()) {
            throw LambdaException.invalidParameter("The destination ARN " + arn + " is invalid: Ignis supports Lambda function destinations only");
        }
        if (!m.group(1).equals(key.accountId())) {
            throw LambdaException.accessDenied("Destination " + arn + " belongs to another account");
        }
        return arn;
    }

    // ---- dead letters -------------------------------------------------------------------------

    public List<DeadLetter> deadLetters() {
        return state.deadLetters();
    }

    public Optional<DeadLetter> deadLetter(String requestId) {
        return state.deadLetter(requestId);
    }

    public List<Event> pending() {
        return state.pendingEvents();
    }

    public void redrive(String requestId) {
        if (state.deadLetter(requestId).isEmpty()) {
            throw LambdaException.notFound("No dead-lettered event " + requestId);
        }
        append(new AsyncRecord.Redriven(requestId, clock.millis()));
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    /** Queue depth, age of the oldest event, retries and dead letters. */
    public Map<String, Object> stats() {
        var s = state.stats();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("depth", s.depth());
        out.put("oldestEventAgeMillis", s.depth() == 0 ? 0 : clock.millis() - s.oldestEnqueuedAt());
        out.put("enqueued", s.enqueued());
        out.put("retries", s.retries());
        out.put("succeeded", s.succeeded());
        out.put("failedToDestination", s.failedToDestination());
        out.put("deadLettered", s.deadLettered());
        out.put("deadLetters", s.deadLetters());
        return out;
    }

    // ---- pollers ------------------------------------------------------------------------------

    /** Starts the background poller. */
    public void start() {
        poller = Thread.ofPlatform().name("async-poller").daemon().start(() -> {
            while (!closed) {
                try {
                    dispatchDue();
                    synchronized (wake) {
                        wake.wait(settings.pollInterval().toMillis());
                    }
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    LOG.warn("async poller pass failed", e);
                }
            }
        });
    }

    /** Runs every event due now and waits until each attempt has ended (for tests with a fake clock). */
    public int runDue() throws InterruptedException {
        List<Future<?>> started = dispatchDue();
        for (Future<?> f : started) {
            try {
                f.get();
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException(e.getCause());
            }
        }
        return started.size();
    }

    private List<Future<?>> dispatchDue() throws InterruptedException {
        List<Future<?>> started = new ArrayList<>();
        if (!journal.isLeader()) {
            return started; // only the leader of a replicated queue runs events; followers hold copies
        }
        for (Event e : state.due(clock.millis())) {
            if (closed || !inFlight.add(e.requestId())) {
                continue;
            }
            slots.acquire();
            started.add(invokers.submit(() -> {
                try {
                    attempt(e);
                } catch (RuntimeException ex) {
                    LOG.warn("async event {} attempt failed in the platform; it stays queued", e.requestId(), ex);
                } finally {
                    inFlight.remove(e.requestId());
                    slots.release();
                }
            }));
        }
        return started;
    }

    private void attempt(Event e) {
        EventInvokeConfig cfg = state.config(e.configKey());
        long now = clock.millis();
        if (now - e.enqueuedAt() > cfg.maximumEventAgeInSeconds() * 1000L) {
            fail(e, cfg, "EventAgeExceeded", null);
            return;
        }
        append(new AsyncRecord.Attempted(e.requestId(), now));
        Event attempted = e.attempted(now);
        Result r = invoker.invoke(attempted);
        long after = clock.millis();
        switch (r.kind()) {
            case SUCCESS -> {
                if (cfg.onSuccess() != null) {
                    sendRecord(cfg.onSuccess(), attempted, "Success", r);
                }
                append(new AsyncRecord.Finished(e.requestId(), "Success"));
            }
            case FUNCTION_ERROR -> {
                if (e.retriesUsed() < cfg.maximumRetryAttempts()) {
                    Duration wait = e.retriesUsed() == 0 ? settings.firstRetry() : settings.secondRetry();
                    append(new AsyncRecord.RetryScheduled(e.requestId(), after + wait.toMillis(), text(r.payload()), true));
                } else {
                    fail(attempted, cfg, "RetriesExhausted", r);
                }
            }
            case THROTTLED, PLATFORM_ERROR -> {
                long backoff = Math.min(settings.backoffMax().toMillis(),
                        settings.backoffBase().toMillis() << Math.min(20, e.attempts()));
                if (after + backoff - e.enqueuedAt() > cfg.maximumEventAgeInSeconds() * 1000L) {
                    fail(attempted, cfg, "EventAgeExceeded", r);
                } else {
                    append(new AsyncRecord.RetryScheduled(e.requestId(), after + backoff, r.kind().name(), false));
                }
            }
            case FUNCTION_NOT_FOUND -> append(new AsyncRecord.DeadLettered(e.requestId(), "FunctionNotFound", after));
        }
    }

    private void fail(Event e, EventInvokeConfig cfg, String condition, Result r) {
        if (cfg.onFailure() != null) {
            sendRecord(cfg.onFailure(), e, condition, r);
            append(new AsyncRecord.Finished(e.requestId(), condition));
        } else {
            append(new AsyncRecord.DeadLettered(e.requestId(), condition, clock.millis()));
        }
    }

    /** AWS's invocation record, queued as an asynchronous invoke of the destination function. */
    private void sendRecord(String destinationArn, Event e, String condition, Result r) {
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("version", "1.0");
        record.put("timestamp", Instant.ofEpochMilli(clock.millis()).toString());
        record.put("requestContext", Map.of("requestId", e.requestId(),
                "functionArn", "arn:aws:lambda:" + regionOf(destinationArn) + ":" + e.accountId() + ":function:" + e.functionName() + ":"
                        + (e.qualifier() == null ? "$LATEST" : e.qualifier()),
                "condition", condition, "approximateInvokeCount", e.attempts()));
        record.put("requestPayload", jsonOrText(e.payload()));
        if (r != null) {
            Map<String, Object> response = new LinkedHashMap<>();
            response.put("statusCode", 200);
            response.put("executedVersion", r.executedVersion());
            if (r.kind() == Kind.FUNCTION_ERROR) {
                response.put("functionError", "Unhandled");
            }
            record.put("responseContext", response);
            record.put("responsePayload", jsonOrText(r.payload()));
        }
        String[] arn = destinationArn.split(":");
        try {
            enqueue(UUID.randomUUID().toString(), e.accountId(), arn[6], arn.length > 7 ? arn[7] : null,
                    Json.mapper().writeValueAsBytes(record));
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    private static String regionOf(String arn) {
        return arn.split(":")[3];
    }

    private static Object jsonOrText(byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        try {
            JsonNode n = Json.mapper().readTree(bytes);
            return n == null ? text(bytes) : n;
        } catch (IOException e) {
            return text(bytes);
        }
    }

    private static String text(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    private void append(AsyncRecord record) {
        try {
            journal.append(Json.mapper().writeValueAsBytes(record)).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw LambdaException.service("interrupted while writing the event queue");
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof dev.ignis.common.ElsewhereException notHere) {
                throw notHere; // refused before it was appended (leadership moved): retried at the leader
            }
            throw LambdaException.service("the event queue journal refused the write: " + e);
        } catch (Exception e) {
            throw LambdaException.service("the event queue journal refused the write: " + e);
        }
    }

    @Override
    public void close() {
        closed = true;
        Thread p = poller;
        if (p != null) {
            p.interrupt();
        }
        invokers.shutdownNow();
        try {
            invokers.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        journal.close();
    }
}

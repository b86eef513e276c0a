package dev.ignis.frontend;

import dev.ignis.assignment.SandboxKey;
import dev.ignis.config.FunctionKey;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToIntFunction;

/**
 * Lambda's CloudWatch metrics, with Lambda's meanings, as Micrometer meters (Prometheus names in
 * {@code docs/observability.md}): per function and executed version, {@code Invocations} (every
 * invoke that ran, function errors included), {@code Errors} (function errors), {@code Throttles},
 * {@code Duration} (a histogram, {@code start="cold"} and {@code "warm"} apart), {@code Init Duration};
 * per function and per account, {@code ConcurrentExecutions}; per account,
 * {@code UnreservedConcurrentExecutions}; per function, {@code AsyncEventsReceived} and {@code AsyncEventAge}.
 *
 * <p>Design note: function names come from tenants, so the number of series is a memory attack
 * unless it is capped: at most {@code maxFunctionSeries} (function, version) series and as many
 * functions get their own meters; the rest share one series whose function and version are
 * {@value #OTHER} (a value no function name or version can take), one such series per account. Micrometer escapes label values
 * in the text it writes. The warm invoke path is hot: each invoke finds its meters with one lookup
 * of the {@link SandboxKey} the invoke already built, in a map bounded by the cap; the tags and
 * the registry are touched only the first time a function version is seen.
 */
public final class InvokeMetrics {
    /** The function and version of the shared series beyond the cap ({@code (} cannot occur in a function name). */
    public static final String OTHER = "(other)";
    /** Default cap on per-function series; system property {@code ignis.metrics.max-function-series}. */
    public static final int DEFAULT_MAX_FUNCTION_SERIES = 1000;
    /**
     * Lambda's durations run up to 15 minutes; a warm invoke of a small handler takes well under a
     * millisecond here, so the buckets start at 100 µs (the console's latency picture draws them).
     */
    private static final Duration[] BUCKETS = {us(100), us(250), us(500), ms(1), ms(2), ms(5), ms(10), ms(25), ms(50), ms(100), ms(250), ms(500),
            ms(1000), ms(2500), ms(5000), ms(10_000), ms(30_000), ms(60_000), ms(300_000), ms(900_000)};

    /** No meters at all (tests and tools that build an invoke path without a registry). */
    public static final InvokeMetrics NONE = new InvokeMetrics(null, 0, fn -> 0, a -> 0, a -> 0);

    /** The meters of one function version, resolved once. */
    record Meters(Counter invocations, Counter errors, Counter throttles, Timer warm, Timer cold, Timer init) {}

    /** The async meters of one function. */
    record AsyncMeters(Counter received, Timer age) {}

    private record Series(String accountId, String functionName, String version) {}

    private final MeterRegistry registry;
    private final int maxSeries;
    private final ToIntFunction<FunctionKey> running;
    private final ToIntFunction<String> accountRunning;
    private final ToIntFunction<String> unreservedRunning;
    private final ConcurrentHashMap<SandboxKey, Meters> byKey = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Series, Meters> bySeries = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Meters> otherByAccount = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<FunctionKey, AsyncMeters> async = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<FunctionKey, Boolean> concurrencyGauges = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Boolean> accounts = new ConcurrentHashMap<>();
    private final AtomicInteger admitted = new AtomicInteger();
    private final AtomicInteger admittedFunctions = new AtomicInteger();
    private final Meters other;
    private final AsyncMeters otherAsync;

    /**
     * @param registry          where the meters go (null: none)
     * @param maxFunctionSeries the cap on (function, version) series and on functions
     * @param running           invokes running now per function (ConcurrentExecutions)
     * @param accountRunning    invokes running now per account
     * @param unreservedRunning invokes running now per account in functions without reserved concurrency
     */
    InvokeMetrics(MeterRegistry registry, int maxFunctionSeries, ToIntFunction<FunctionKey> running,
                  ToIntFunction<String> accountRunning, ToIntFunction<String> unreservedRunning) {
        this.registry = registry;
        this.maxSeries = maxFunctionSeries;
        this.running = running;
        this.accountRunning = accountRunning;
        this.unreservedRunning = unreservedRunning;
        this.other = registry == null ? null : meters(new Series(OTHER, OTHER, OTHER));
        this.otherAsync = registry == null ? null : asyncMeters(new FunctionKey(OTHER, OTHER));
    }

    /** The cap from {@code ignis.metrics.max-function-series}, or the default. */
    public static int maxFunctionSeriesFromSystem() {
        return Integer.getInteger("ignis.metrics.max-function-series", DEFAULT_MAX_FUNCTION_SERIES);
    }

    /** The meters of one invoke's function version: one map lookup once the version was seen. */
    Meters of(SandboxKey key) {
        if (registry == null) {
            return null;
        }
        Meters m = byKey.get(key);
        if (m != null) {
            return m;
        }
        Series s = new Series(key.accountId(), key.functionName(), key.version());
        m = bySeries.get(s);
        if (m == null) {
            // read first: once the cap is reached the counter stops moving however many versions come
            boolean own = admitted.get() < maxSeries && admitted.incrementAndGet() <= maxSeries;
            m = own ? bySeries.computeIfAbsent(s, this::meters) : other(key.accountId());
            if (own) {
                concurrencyGauge(new FunctionKey(key.accountId(), key.functionName()));
            }
            accountGauges(key.accountId());
        }
        if (byKey.size() >= 4 * Math.max(1, maxSeries)) {
            byKey.clear(); // revisions of $LATEST come and go: the cache is rebuilt from bySeries
        }
        byKey.put(key, m);
        return m;
    }

    void ran(Meters m, Duration duration, Duration initDuration, boolean functionError) {
        if (m == null) {
            return;
        }
        m.invocations().increment();
        if (functionError) {
            m.errors().increment();
        }
        if (duration != null) {
            (initDuration != null ? m.cold() : m.warm()).record(duration);
        }
        if (initDuration != null) {
            m.init().record(initDuration);
        }
    }

    void throttled(Meters m) {
        if (m != null) {
            m.throttles().increment();
        }
    }

    /** An Event invoke accepted onto the queue (AsyncEventsReceived). */
    void asyncReceived(FunctionKey fn) {
        AsyncMeters m = async(fn);
        if (m != null) {
            m.received().increment();
        }
    }

    /** An async event about to be invoked, {@code age} after it was queued (AsyncEventAge; retries included). */
    public void asyncAttempt(String accountId, String functionName, Duration age) {
        AsyncMeters m = async(new FunctionKey(accountId, functionName));
        if (m != null) {
            m.age().record(age.isNegative() ? Duration.ZERO : age);
        }
    }

    /** The account's share of the series beyond the cap (accounts are the operator's, not the tenants'). */
    private Meters other(String accountId) {
        return otherByAccount.size() < maxSeries ? otherByAccount.computeIfAbsent(accountId, a -> meters(new Series(a, OTHER, OTHER))) : other;
    }

    private AsyncMeters async(FunctionKey fn) {
        if (registry == null) {
            return null;
        }
        AsyncMeters m = async.get(fn);
        if (m != null) {
            return m;
        }
        return async.size() < maxSeries ? async.computeIfAbsent(fn, this::asyncMeters) : otherAsync;
    }

    private Meters meters(Series s) {
        String[] tags = {"account", s.accountId(), "function", s.functionName(), "version", s.version()};
        return new Meters(
                Counter.builder("lambda.invocations").description("invokes that ran, function errors included").tags(tags).register(registry),
                Counter.builder("lambda.errors").description("invokes that ended in a function error").tags(tags).register(registry),
                Counter.builder("lambda.throttles").description("invokes refused by concurrency limits").tags(tags).register(registry),
                duration("lambda.duration", "time the function ran", tags, "warm"),
                duration("lambda.duration", "time the function ran", tags, "cold"),
                Timer.builder("lambda.init.duration").description("the Init Duration of cold starts").tags(tags)
                        .serviceLevelObjectives(BUCKETS).register(registry));
    }

    private Timer duration(String name, String description, String[] tags, String start) {
        return Timer.builder(name).description(description).tags(tags).tag("start", start).serviceLevelObjectives(BUCKETS)
                .register(registry);
    }

    private AsyncMeters asyncMeters(FunctionKey fn) {
        String[] tags = {"account", fn.accountId(), "function", fn.functionName()};
        return new AsyncMeters(
                Counter.builder("lambda.async.events.received").description("Event invokes queued").tags(tags).register(registry),
                Timer.builder("lambda.async.event.age").description("time from queueing to each invoke attempt").tags(tags)
                        .serviceLevelObjectives(ms(10), ms(100), ms(1000), ms(10_000), ms(60_000), ms(600_000), ms(3_600_000),
                                ms(21_600_000))
                        .register(registry));
    }

    private void concurrencyGauge(FunctionKey fn) {
        if (concurrencyGauges.containsKey(fn) || admittedFunctions.get() >= maxSeries || admittedFunctions.incrementAndGet() > maxSeries) {
            return;
        }
        if (concurrencyGauges.putIfAbsent(fn, Boolean.TRUE) == null) {
            Gauge.builder("lambda.concurrent.executions", () -> running.applyAsInt(fn)).description("invokes of the function running now")
                    .tags("account", fn.accountId(), "function", fn.functionName()).register(registry);
        }
    }

    private void accountGauges(String accountId) {
        if (accounts.containsKey(accountId) || accounts.size() >= maxSeries || accounts.putIfAbsent(accountId, Boolean.TRUE) != null) {
            return;
        }
        Gauge.builder("lambda.account.concurrent.executions", () -> accountRunning.applyAsInt(accountId))
                .description("invokes of the account running now").tag("account", accountId).register(registry);
        Gauge.builder("lambda.unreserved.concurrent.executions", () -> unreservedRunning.applyAsInt(accountId))
                .description("invokes running now in functions without reserved concurrency").tag("account", accountId)
                .register(registry);
    }

    private static Duration us(long micros) {
        return Duration.ofNanos(micros * 1000);
    }

    private static Duration ms(long millis) {
        return Duration.ofMillis(millis);
    }
}

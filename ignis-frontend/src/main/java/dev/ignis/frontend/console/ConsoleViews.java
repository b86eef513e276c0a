package dev.ignis.frontend.console;

import dev.ignis.assignment.Assignment;
import dev.ignis.common.LambdaException;
import dev.ignis.config.Account;
import dev.ignis.config.Alias;
import dev.ignis.config.ConfigImage;
import dev.ignis.config.FunctionConfig;
import dev.ignis.config.FunctionEntry;
import dev.ignis.config.FunctionKey;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What the console's pages show, as JSON-ready maps, read from the node's config image, its meter
 * registry (Lambda's metrics as {@code InvokeMetrics} records them), its sandbox table and the
 * worker's log files. Read-only: nothing here changes the platform.
 *
 * <p>Every string from a tenant (names, descriptions, environment values, log lines) goes out as a
 * JSON string; the page puts it in the document as text ({@code textContent}), never as markup.
 */
final class ConsoleViews {
    /** Functions listed per account; more are counted, not listed. */
    static final int MAX_FUNCTIONS_LISTED = 500;
    /** Log lines shown for one function. */
    static final int LOG_LINES = 200;
    private static final Pattern ACCOUNT = Pattern.compile("\\d{12}");
    private static final Pattern FUNCTION = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    private final Console.Sources sources;

    ConsoleViews(Console.Sources sources) {
        this.sources = sources;
    }

    /** Every account's functions with their counters and duration percentiles (all versions together). */
    Map<String, Object> functions() {
        ConfigImage image = sources.config().image();
        Map<FunctionKey, FunctionStats> stats = stats();
        List<Map<String, Object>> accounts = new ArrayList<>();
        for (Account a : image.allAccounts().stream().sorted(Comparator.comparing(Account::name)).toList()) {
            List<FunctionEntry> all = image.functionsOf(a.accountId())
                    .sorted(Comparator.comparing(e -> e.latest().functionName())).toList();
            List<Map<String, Object>> rows = new ArrayList<>();
            for (FunctionEntry e : all.subList(0, Math.min(all.size(), MAX_FUNCTIONS_LISTED))) {
                FunctionConfig c = e.latest();
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("name", c.functionName());
                row.put("runtime", c.runtime());
                row.put("memorySize", c.memorySize());
                row.put("lastModified", c.lastModified());
                row.putAll(stats.getOrDefault(c.key(), FunctionStats.NONE).json());
                rows.add(row);
            }
            Map<String, Object> account = new LinkedHashMap<>();
            account.put("accountId", a.accountId());
            account.put("name", a.name());
            account.put("functionCount", all.size());
            account.put("functions", rows);
            accounts.add(account);
        }
        return Map.of("accounts", accounts, "maxListed", MAX_FUNCTIONS_LISTED);
    }

    /** One function: its configuration, versions and aliases, its metrics, its last log lines. */
    Map<String, Object> function(String accountId, String name) {
        if (accountId == null || !ACCOUNT.matcher(accountId).matches() || name == null || !FUNCTION.matcher(name).matches()) {
            throw LambdaException.invalidParameter("account must be a 12-digit account id and name a function name");
        }
        FunctionKey key = new FunctionKey(accountId, name);
        FunctionEntry e = sources.config().image().function(key)
                .orElseThrow(() -> LambdaException.notFound("Function not found: " + name + " in account " + accountId));
        FunctionConfig c = e.latest();
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("runtime", c.runtime());
        cfg.put("handler", c.handler());
        cfg.put("description", c.description());
        cfg.put("memorySize", c.memorySize());
        cfg.put("timeout", c.timeout());
        cfg.put("ephemeralStorageSize", c.ephemeralStorageSize());
        cfg.put("architectures", c.architectures());
        cfg.put("role", c.role());
        cfg.put("codeSha256Hex", c.codeSha256Hex());
        cfg.put("codeSize", c.codeSize());
        cfg.put("lastModified", c.lastModified());
        cfg.put("revisionId", c.revisionId());
        cfg.put("state", c.state());
        cfg.put("reservedConcurrency", e.reservedConcurrency());
        cfg.put("environment", new java.util.TreeMap<>(c.environment()));
        List<Map<String, Object>> versions = new ArrayList<>();
        e.versions().forEach((n, v) -> versions.add(Map.of("version", String.valueOf(n), "lastModified", v.lastModified(),
                "codeSha256Hex", v.codeSha256Hex())));
        List<Map<String, Object>> aliases = new ArrayList<>();
        for (Alias a : e.aliases().values().stream().sorted(Comparator.comparing(Alias::name)).toList()) {
            aliases.add(Map.of("name", a.name(), "functionVersion", a.functionVersion(),
                    "additionalVersionWeights", new java.util.TreeMap<>(a.additionalVersionWeights())));
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("accountId", accountId);
        out.put("name", name);
        out.put("configuration", cfg);
        out.put("versions", versions);
        out.put("aliases", aliases);
        out.put("metrics", stats().getOrDefault(key, FunctionStats.NONE).json());
        out.put("logs", RecentLogLines.tail(sources.dataDir(), accountId, name, LOG_LINES));
        return out;
    }

    /** Live sandboxes per worker and state, from this node's sandbox table. */
    Map<String, Object> sandboxes() {
        Assignment a = sources.assignment();
        Map<String, Map<String, Integer>> byWorker = a == null ? Map.of() : new java.util.TreeMap<>(a.sandboxesByWorker());
        return Map.of("workers", byWorker, "table", a != null);
    }

    /**
     * The talk's latency picture, live: Duration per bucket, warm and cold apart, of every function
     * or of one ({@code accountId} and {@code name} both given).
     */
    Map<String, Object> latency(String accountId, String name) {
        FunctionKey only = null;
        if (accountId != null || name != null) {
            if (accountId == null || !ACCOUNT.matcher(accountId).matches() || name == null || !FUNCTION.matcher(name).matches()) {
                throw LambdaException.invalidParameter("account must be a 12-digit account id and name a function name");
            }
            only = new FunctionKey(accountId, name);
        }
        List<Timer> warm = new ArrayList<>();
        List<Timer> cold = new ArrayList<>();
        for (Timer t : sources.registry().find("lambda.duration").timers()) {
            if (only != null && !(only.accountId().equals(t.getId().getTag("account")) && only.functionName().equals(t.getId().getTag("function")))) {
                continue;
            }
            ("cold".equals(t.getId().getTag("start")) ? cold : warm).add(t);
        }
        Histogram w = Histogram.of(warm);
        Histogram c = Histogram.of(cold);
        Histogram bounds = w.boundsMs().length > 0 ? w : c;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("boundsMs", bounds.boundsMs());
        out.put("warm", json(w));
        out.put("cold", json(c));
        return out;
    }

    private static Map<String, Object> json(Histogram h) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("counts", h.counts());
        m.put("overflow", h.overflow());
        m.put("count", h.count());
        m.put("p50Ms", finite(h.quantileMs(0.5)));
        m.put("p99Ms", finite(h.quantileMs(0.99)));
        return m;
    }

    private static Double finite(double d) {
        return Double.isFinite(d) ? d : null;
    }

    /** One function's counters and Duration summed over its versions. */
    private record FunctionStats(double invocations, double errors, double throttles, Histogram warm, Histogram cold) {
        static final FunctionStats NONE = new FunctionStats(0, 0, 0, Histogram.EMPTY, Histogram.EMPTY);

        Map<String, Object> json() {
            Histogram all = warm.plus(cold);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("invocations", (long) invocations);
            m.put("errors", (long) errors);
            m.put("throttles", (long) throttles);
            m.put("coldStarts", cold.count());
            m.put("p50Ms", finite(all.quantileMs(0.5)));
            m.put("p99Ms", finite(all.quantileMs(0.99)));
            return m;
        }
    }

    /** Every function's stats in one walk of the registry (the meters beyond the series cap are under "(other)"). */
    private Map<FunctionKey, FunctionStats> stats() {
        MeterRegistry r = sources.registry();
        Map<FunctionKey, double[]> counts = new HashMap<>();
        String[] names = {"lambda.invocations", "lambda.errors", "lambda.throttles"};
        for (int i = 0; i < names.length; i++) {
            for (Counter c : r.find(names[i]).counters()) {
                counts.computeIfAbsent(key(c.getId()), k -> new double[3])[i] += c.count();
            }
        }
        Map<FunctionKey, List<Timer>> warm = new HashMap<>();
        Map<FunctionKey, List<Timer>> cold = new HashMap<>();
        for (Timer t : r.find("lambda.duration").timers()) {
            ("cold".equals(t.getId().getTag("start")) ? cold : warm).computeIfAbsent(key(t.getId()), k -> new ArrayList<>()).add(t);
        }
        Map<FunctionKey, FunctionStats> out = new HashMap<>();
        counts.forEach((k, c) -> out.put(k, new FunctionStats(c[0], c[1], c[2],
                Histogram.of(warm.getOrDefault(k, List.of())), Histogram.of(cold.getOrDefault(k, List.of())))));
        return out;
    }

    private static FunctionKey key(io.micrometer.core.instrument.Meter.Id id) {
        return new FunctionKey(String.valueOf(id.getTag("account")), String.valueOf(id.getTag("function")));
    }
}

package dev.ignis.dist.bench;

import dev.ignis.bench.LambdaClient;
import dev.ignis.bench.Load;
import dev.ignis.bench.PhaseResult;
import dev.ignis.bench.Report;
import dev.ignis.runtimes.RuntimeDefinition;
import dev.ignis.testfunctions.TestFunctions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import org.HdrHistogram.Histogram;

/**
 * Runs a {@link Scenario} against one Ignis (or two builds, A/B) and, where a phase asks for it,
 * against the echo floor right before, in the same run; collects the report.
 *
 * <p>A/B: every phase runs once per round on each build, the order alternating per round (ABBA...),
 * and the builds are compared on the histograms merged over the rounds, with per-round ratios in the notes.
 */
final class ScenarioRun {
    /** An Ignis to measure: where to send requests, and its control plane (to deploy and to force cold starts). */
    record Target(String label, Load.Endpoint endpoint, LambdaClient api) {}

    private static final Duration LIMIT = Duration.ofMinutes(10);
    private final Scenario scenario;
    private final List<Target> targets;
    private final Load.Endpoint echo;
    private final double scale;
    private final int rounds;
    private final Consumer<Scenario.Phase> async;
    private final Function<String, Optional<RuntimeDefinition>> runtimes;
    private final String runId = Long.toString(System.currentTimeMillis() % 10_000_000L, 36);
    private final List<PhaseResult> results = new ArrayList<>();
    private final List<Report.Comparison> comparisons = new ArrayList<>();
    private final Map<String, List<double[]>> curves = new LinkedHashMap<>();
    private final List<String> notes = new ArrayList<>();
    private final List<Double> bareRuns = new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * @param echo  the floor, or null for none
     * @param async runs an {@code async} phase (in-process platforms only), or null
     */
    ScenarioRun(Scenario scenario, List<Target> targets, Load.Endpoint echo, double scale, int rounds, Consumer<Scenario.Phase> async,
                Function<String, Optional<RuntimeDefinition>> runtimes) {
        this.runtimes = runtimes;
        this.scenario = scenario;
        this.targets = targets;
        this.echo = echo;
        this.scale = scale;
        this.rounds = rounds;
        this.async = async;
    }

    Report run(String command, String machine, String date) throws Exception {
        for (Target t : targets) {
            for (var f : scenario.functions()) {
                t.api().createFunction(f.name(), f.runtime(), f.handler(), f.memoryMb(), TestFunctions.zip(f.fixture()));
            }
        }
        for (Scenario.Phase p : scenario.phases()) {
            System.out.printf(Locale.ROOT, "%n== %s (%s)%n", p.name(), p.kind());
            if (p.kind().equals("async")) {
                if (async == null) {
                    notes.add("phase " + p.name() + " skipped: async phases run only against an in-process platform");
                } else {
                    async.accept(p);
                }
                continue;
            }
            prepare(p);
            Map<String, List<PhaseResult>> byTarget = new LinkedHashMap<>();
            for (int round = 0; round < rounds; round++) {
                if (echo != null && p.withBaseline() && round == 0) {
                    record(phase(p, echo, null), "echo");
                }
                List<Target> order = new ArrayList<>(targets);
                if (round % 2 == 1) {
                    java.util.Collections.reverse(order);
                }
                for (Target t : order) {
                    var rs = phase(p, t.endpoint(), t);
                    byTarget.computeIfAbsent(t.label(), k -> new ArrayList<>()).addAll(rs);
                    if (rounds == 1) {
                        record(rs, t.label());
                    }
                }
            }
            if (rounds > 1) {
                abCompare(p, byTarget);
            } else if (echo != null && p.withBaseline()) {
                floorCompare(p);
            }
            if (p.kind().equals("coldstart") && p.bare() != null && !(p.bare().equals(List.of("runtime")) && bareRuns.isEmpty())) {
                double bare = bareRuns.isEmpty() ? bareStartMs(p.bare(), p.runs() == null ? 8 : p.runs()) : median(bareRuns);
                String what = bareRuns.isEmpty() ? "bare " + String.join(" ", p.bare())
                        : "bare " + scenario.function(p.function()).runtime() + " start to its first /next (no sandbox; interleaved)";
                for (Target t : targets) {
                    results.stream().filter(r -> r.name().equals(p.name()) && r.target().equals(t.label())).reduce((a, b) -> b).ifPresent(r ->
                            comparisons.add(new Report.Comparison(t.label() + " " + p.name() + " (Init Duration)", what,
                                    "p50", Load.ms(r.init(), 50), bare, "ms")));
                }
                if (!bareRuns.isEmpty()) {
                    List<Double> sorted = bareRuns.stream().sorted().toList();
                    notes.add(p.name() + ": bare starts (ms) " + sorted.stream().map(v -> String.format(Locale.ROOT, "%.1f", v)).toList());
                    bareRuns.clear();
                }
            }
            if (p.kind().equals("storm")) {
                cleanupStorm(p);
            }
        }
        List<String> picture = new ArrayList<>();
        String subject = targets.getLast().label();
        for (String name : scenario.picture() == null ? List.<String>of() : scenario.picture()) {
            picture.add(subject + "/" + name);
        }
        List<Report.Curve> cs = new ArrayList<>();
        curves.forEach((label, points) -> cs.add(new Report.Curve(label, points)));
        return new Report(scenario.name(), command, machine, date, results, comparisons, picture, cs, notes);
    }

    private void record(List<PhaseResult> rs, String label) {
        for (PhaseResult r : rs) {
            results.add(r);
            print(r);
        }
    }

    private static void print(PhaseResult r) {
        System.out.printf(Locale.ROOT, "%-34s %-10s ok %6d err %3d %8.0f/s  p50 %8.3f  p99 %8.3f  max %8.3f ms  warm %6d cold %4d  signing p50 %.1f us  cpu %.0f us/req%s%n",
                r.name(), r.target(), r.count(), r.errors(), r.perSecond(), r.p(50), r.p(99), r.p(100), r.warm().getTotalCount(),
                r.cold().getTotalCount(), Load.ms(r.signing(), 50) * 1000, r.cpuMicrosPerRequest(),
                r.firstError() == null ? "" : "  first error: " + r.firstError());
    }

    /** Untimed setup a phase needs on every target. */
    private void prepare(Scenario.Phase p) throws IOException {
        var f = p.function() == null ? null : scenario.function(p.function());
        for (Target t : targets) {
            if (p.kind().equals("mixed")) {
                for (int c : p.clientCounts()) {
                    for (int i = 0; i < c; i++) {
                        t.api().createFunction(coldFunction(p, i), f.runtime(), f.handler(), f.memoryMb(), TestFunctions.zip(f.fixture()));
                    }
                }
            }
            if (p.kind().equals("storm")) {
                byte[] zip = TestFunctions.zip(f.fixture());
                for (int i = 0; i < p.count(); i++) {
                    t.api().createFunction(stormFunction(p, i), f.runtime(), f.handler(), f.memoryMb(), zip);
                }
            }
        }
    }

    private void cleanupStorm(Scenario.Phase p) throws IOException {
        for (Target t : targets) {
            for (int i = 0; i < p.count(); i++) {
                t.api().deleteFunction(stormFunction(p, i));
            }
        }
    }

    private String coldFunction(Scenario.Phase p, int client) {
        return p.function() + "-cold-" + client;
    }

    private String stormFunction(Scenario.Phase p, int i) {
        return p.function() + "-storm-" + runId + "-" + i;
    }

    private static String invokePath(String function) {
        return "/2015-03-31/functions/" + function + "/invocations";
    }

    /** Runs one phase against one endpoint; {@code t} is null for the echo floor. */
    private List<PhaseResult> phase(Scenario.Phase p, Load.Endpoint ep, Target t) throws Exception {
        byte[] body = payload(p.payload());
        String path = t == null ? "/echo" : invokePath(p.function());
        Load.Plan plain = (c, i) -> new Load.Request("POST", path, Map.of(), body);
        List<PhaseResult> out = new ArrayList<>();
        switch (p.kind()) {
            case "closed" -> {
                for (int c : p.clientCounts()) {
                    int warmup = Math.max(p.warmup() == null ? 0 : p.warmup(), 20 * c);
                    Load.closed(p.name() + " warmup", ep, plain, c, warmup, LIMIT);
                    int n = Math.max(20 * c, (int) Math.round(p.requests() * scale));
                    var r = Load.closed(name(p, c), ep, plain, c, n, LIMIT);
                    out.add(r);
                    if (p.curve() != null) {
                        curves.computeIfAbsent(ep.label(), k -> new ArrayList<>()).add(new double[] {c, r.perSecond()});
                    }
                }
            }
            case "open" -> {
                Load.closed(p.name() + " warmup", ep, plain, 8, Math.max(200, p.warmup() == null ? 0 : p.warmup()), LIMIT);
                out.add(Load.open(p.name(), ep, plain, p.rate(), Duration.ofMillis((long) (p.seconds() * 1000 * Math.min(1, scale * 4))), 512));
            }
            case "mixed" -> {
                int every = Math.max(1, 100 / p.coldPercent());
                for (int c : p.clientCounts()) {
                    Load.closed(p.name() + " warmup", ep, plain, c, Math.max(20 * c, p.warmup() == null ? 0 : p.warmup()), LIMIT);
                    Load.Plan mix = (client, i) -> {
                        if (i % every != every - 1) {
                            return new Load.Request("POST", path, Map.of(), body);
                        }
                        String fn = coldFunction(p, client);
                        t.api().touch(fn, "bench " + runId + " " + i); // untimed: the next invoke of fn is cold
                        return new Load.Request("POST", invokePath(fn), Map.of(), body);
                    };
                    out.add(Load.closed(name(p, c), ep, mix, c, Math.max(20 * c, (int) Math.round(p.requests() * scale)), LIMIT));
                }
            }
            case "storm" -> out.add(Load.closed(p.name(), ep, (c, i) -> new Load.Request("POST", invokePath(stormFunction(p, (int) i)), Map.of(), body),
                    p.count(), p.count(), LIMIT));
            case "coldstart" -> {
                BareStart bare = bareOfRuntime(p);
                try {
                    out.add(Load.closed(p.name(), ep, (c, i) -> {
                        // Each start gets a settled machine: what the platform does after a cold start in the
                        // background (retiring the stale sandbox, readying the next shell) is done before the
                        // next measurement, bare or not, begins.
                        settle();
                        if (bare != null) {
                            bareRuns.add(bare.once()); // interleaved: one bare start before each cold start
                        }
                        t.api().touch(p.function(), "bench " + runId + " cold " + i);
                        settle();
                        return new Load.Request("POST", path, Map.of(), body);
                    }, 1, p.runs() == null ? 8 : p.runs(), LIMIT));
                } finally {
                    if (bare != null) {
                        bare.close();
                    }
                }
            }
            default -> throw new IllegalArgumentException("unknown phase kind " + p.kind());
        }
        return out;
    }

    private static String name(Scenario.Phase p, int clients) {
        return p.clientCounts().size() > 1 ? p.name() + " c=" + clients : p.name();
    }

    /** A JSON payload of exactly {@code n} bytes: {} for 2, else a string. */
    static byte[] payload(int n) {
        if (n <= 2) {
            return "{}".getBytes(StandardCharsets.UTF_8);
        }
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) 'x');
        b[0] = '"';
        b[n - 1] = '"';
        return b;
    }

    private void floorCompare(Scenario.Phase p) {
        for (Target t : targets) {
            for (PhaseResult r : results) {
                if (!r.target().equals(t.label()) || !(r.name().equals(p.name()) || r.name().startsWith(p.name() + " c="))) {
                    continue;
                }
                PhaseResult floor = results.stream().filter(e -> e.target().equals("echo") && e.name().equals(r.name())).findFirst().orElse(null);
                if (floor == null) {
                    continue;
                }
                String subject = t.label() + " " + r.name();
                // the overhead of a warm invoke: cold ones (classified by the platform) are reported apart
                comparisons.add(new Report.Comparison(subject + " (warm)", "echo", "p50", Load.ms(r.warm(), 50), floor.p(50), "ms"));
                comparisons.add(new Report.Comparison(subject + " (warm)", "echo", "p99", Load.ms(r.warm(), 99), floor.p(99), "ms"));
                comparisons.add(new Report.Comparison(subject, "echo", "req/s", r.perSecond(), floor.perSecond(), "/s"));
                comparisons.add(new Report.Comparison(subject, "echo", "cpu/req", r.cpuMicrosPerRequest(), floor.cpuMicrosPerRequest(), "us"));
            }
        }
    }

    /** B (the last target) against A (the first): histograms merged over the rounds. */
    private void abCompare(Scenario.Phase p, Map<String, List<PhaseResult>> byTarget) {
        String a = targets.getFirst().label();
        String b = targets.getLast().label();
        Map<String, PhaseResult> mergedA = merge(byTarget.get(a));
        Map<String, PhaseResult> mergedB = merge(byTarget.get(b));
        for (var e : mergedB.entrySet()) {
            PhaseResult rb = e.getValue();
            PhaseResult ra = mergedA.get(e.getKey());
            results.add(ra);
            results.add(rb);
            print(ra);
            print(rb);
            comparisons.add(new Report.Comparison(b + " " + e.getKey(), a, "p50", rb.p(50), ra.p(50), "ms"));
            comparisons.add(new Report.Comparison(b + " " + e.getKey(), a, "p99", rb.p(99), ra.p(99), "ms"));
            comparisons.add(new Report.Comparison(b + " " + e.getKey(), a, "req/s", rb.perSecond(), ra.perSecond(), "/s"));
            comparisons.add(new Report.Comparison(b + " " + e.getKey(), a, "cpu/req", rb.cpuMicrosPerRequest(), ra.cpuMicrosPerRequest(), "us"));
            StringBuilder per = new StringBuilder(e.getKey() + ": p50 " + b + "/" + a + " per round:");
            List<PhaseResult> la = byTarget.get(a).stream().filter(r -> r.name().equals(e.getKey())).toList();
            List<PhaseResult> lb = byTarget.get(b).stream().filter(r -> r.name().equals(e.getKey())).toList();
            for (int i = 0; i < Math.min(la.size(), lb.size()); i++) {
                per.append(String.format(Locale.ROOT, " %.3f", lb.get(i).p(50) / la.get(i).p(50)));
            }
            per.append("; cpu/req:");
            for (int i = 0; i < Math.min(la.size(), lb.size()); i++) {
                per.append(String.format(Locale.ROOT, " %.3f", lb.get(i).cpuMicrosPerRequest() / la.get(i).cpuMicrosPerRequest()));
            }
            notes.add(per.toString());
            System.out.println(per);
        }
    }

    private static Map<String, PhaseResult> merge(List<PhaseResult> rs) {
        Map<String, PhaseResult> out = new LinkedHashMap<>();
        for (PhaseResult r : rs) {
            out.merge(r.name(), r, (x, y) -> new PhaseResult(x.name(), x.target(), x.clients(), x.rate(), add(x.all(), y.all()),
                    add(x.warm(), y.warm()), add(x.cold(), y.cold()), add(x.init(), y.init()), add(x.signing(), y.signing()),
                    x.errors() + y.errors(), x.firstError() != null ? x.firstError() : y.firstError(), x.seconds() + y.seconds(),
                    x.cpuSeconds() + y.cpuSeconds()));
        }
        return out;
    }

    private static Histogram add(Histogram x, Histogram y) {
        Histogram h = x.copy();
        h.add(y);
        return h;
    }

    /** Time left between cold starts for the platform's background work (see the coldstart phase). */
    private static final long SETTLE_MS = 300;

    private static void settle() {
        try {
            Thread.sleep(SETTLE_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** {@code "bare": ["runtime"]}: the function's own runtime, started bare; else null (a command line). */
    private BareStart bareOfRuntime(Scenario.Phase p) throws IOException {
        if (p.bare() == null || !p.bare().equals(List.of("runtime"))) {
            return null;
        }
        Scenario.Function f = scenario.function(p.function());
        RuntimeDefinition rt = runtimes.apply(f.runtime())
                .orElseThrow(() -> new IllegalArgumentException("runtime " + f.runtime() + " is not installed here"));
        return new BareStart(rt, f.fixture(), f.handler());
    }

    private static double median(List<Double> v) {
        List<Double> s = v.stream().sorted().toList();
        return s.get((s.size() - 1) / 2);
    }

    /** Median wall time of a bare process start (the runtime without any sandbox). */
    static double bareStartMs(List<String> command, int runs) throws Exception {
        long[] t = new long[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            p.waitFor();
            t[i] = System.nanoTime() - t0;
        }
        Arrays.sort(t);
        return t[(runs - 1) / 2] / 1e6;
    }
}

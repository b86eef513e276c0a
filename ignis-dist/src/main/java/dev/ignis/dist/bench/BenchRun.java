package dev.ignis.dist.bench;

import dev.ignis.bench.LambdaClient;
import dev.ignis.bench.Load;
import dev.ignis.bench.Report;
import dev.ignis.bench.Signer;
import dev.ignis.dist.Platform;
import dev.ignis.dist.PlatformConfig;
import dev.ignis.frontend.EchoServer;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/** `ignis bench`: where the platform comes from (in-process, remote, or two builds for A/B), and the report. */
public final class BenchRun {
    private final Scenario scenario;
    private final Path scenarioFile;
    private final boolean echo;
    private final Path out;
    private final double scale;
    private final Path runtimeHome;

    public BenchRun(Path scenarioFile, boolean echo, Path out, double scale, Path runtimeHome) throws Exception {
        this.scenarioFile = scenarioFile;
        this.scenario = Scenario.read(scenarioFile);
        this.echo = echo;
        this.out = out;
        this.scale = scale;
        this.runtimeHome = runtimeHome;
    }

    /** Starts a platform in this JVM on a fresh data directory. */
    public void inProcess() throws Exception {
        Path data = Files.createTempDirectory("ignis-bench-");
        var cfg = new PlatformConfig(data, "127.0.0.1", 0, Duration.ofMinutes(10), PlatformConfig.workerIdFor(data), runtimeHome);
        try (Platform platform = Platform.start(cfg); EchoServer floor = echo ? new EchoServer() : null) {
            var key = platform.config().createAccount("bench");
            var target = target("ignis", platform.port(), key.accessKeyId(), key.secretAccessKey());
            var requests = new SignedRequests(key.accessKeyId(), key.secretAccessKey());
            finish(new ScenarioRun(scenario, List.of(target), floor == null ? null : echoEndpoint(floor), scale, 1,
                    p -> runAsync(platform, requests, data, key.accountId(), p)), "");
        }
    }

    /** Measures an Ignis that is already running. */
    public void remote(String endpoint, Path credentials) throws Exception {
        URI uri = URI.create(endpoint);
        String creds = Files.readString(credentials);
        var t = target("ignis", uri.getHost(), uri.getPort(), ServerProcess.value(creds, "aws_access_key_id"), ServerProcess.value(creds, "aws_secret_access_key"));
        try (EchoServer floor = echo ? new EchoServer() : null) {
            finish(new ScenarioRun(scenario, List.of(t), floor == null ? null : echoEndpoint(floor), scale, 1, null), " --endpoint " + endpoint);
        }
    }

    /**
     * Builds {@code revision} (and {@code revisionB}, else B is this build), serves both side by side,
     * and runs every phase against both. The load generator is always this build's.
     */
    public void ab(String revision, String revisionB, int rounds) throws Exception {
        Path repo = Path.of("").toAbsolutePath();
        OtherBuild.Build other = OtherBuild.of(repo, revision);
        OtherBuild.Build self = revisionB == null ? new OtherBuild.Build(System.getProperty("java.class.path"), runtimeHome)
                : OtherBuild.of(repo, revisionB);
        String labelB = revisionB == null ? "B=this" : "B=" + revisionB;
        Path dir = Files.createTempDirectory("ignis-ab-run-");
        // sandboxes run as unprivileged uids and must traverse to the code below the data directories
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        try (ServerProcess a = ServerProcess.start("A=" + revision, other.classpath(), other.runtimeHome(), dir.resolve("a"));
             ServerProcess b = ServerProcess.start(labelB, self.classpath(), self.runtimeHome(), dir.resolve("b"))) {
            List<ScenarioRun.Target> targets = new ArrayList<>();
            for (ServerProcess s : List.of(a, b)) {
                targets.add(target(s.label, s.port, s.accessKeyId, s.secret));
            }
            finish(new ScenarioRun(scenario, targets, null, scale, rounds, null), " --ab " + revision
                    + (revisionB == null ? "" : " --ab-with " + revisionB) + " --rounds " + rounds);
        }
    }

    private static ScenarioRun.Target target(String label, int port, String keyId, String secret) {
        return target(label, "127.0.0.1", port, keyId, secret);
    }

    private static ScenarioRun.Target target(String label, String host, int port, String keyId, String secret) {
        Signer signer = new Signer(keyId, secret);
        return new ScenarioRun.Target(label, new Load.Endpoint(label, host, port, signer), new LambdaClient(host, port, signer));
    }

    private static Load.Endpoint echoEndpoint(EchoServer floor) {
        // the echo verifies nothing, but the client signs for it exactly as for Ignis
        return new Load.Endpoint("echo", "127.0.0.1", floor.port(), new Signer("AKIDECHO", "echo-secret"));
    }

    private void runAsync(Platform platform, SignedRequests requests, Path data, String accountId, Scenario.Phase p) {
        try {
            new AsyncBench(platform, requests, data, accountId).run(p.function(), Math.max(200, (int) Math.round(p.requests() * scale)));
        } catch (Exception e) {
            throw new IllegalStateException("async phase " + p.name() + " failed", e);
        }
    }

    private void finish(ScenarioRun run, String extra) throws Exception {
        String command = "./ignis bench --scenario " + scenarioFile + (echo ? " --baseline echo" : " --baseline none")
                + (scale == 1 ? "" : " --scale " + scale) + " --out " + out + extra;
        String date = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'"));
        Report report = run.run(command, machine(), date);
        report.write(out);
        System.out.println();
        for (var c : report.comparisons()) {
            System.out.printf(java.util.Locale.ROOT, "%-48s vs %-12s %-6s %10.3f vs %10.3f %-3s  diff %+.3f  ratio x%.2f%n", c.subject(), c.reference(),
                    c.metric(), c.value(), c.referenceValue(), c.unit(), c.difference(), c.ratio());
        }
        report.notes().forEach(n -> System.out.println("note: " + n));
        System.out.println("report: " + out.resolve(scenario.name() + ".html") + " (.json, .png)");
    }

    /** What the figures were measured on: cores, memory, load average when the run starts. */
    static String machine() {
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return String.format(java.util.Locale.ROOT, "%d vCPU, %.0f GiB, %s, JDK %s, load at start %.1f", Runtime.getRuntime().availableProcessors(),
                os.getTotalMemorySize() / (1024.0 * 1024 * 1024), System.getProperty("os.name") + " " + System.getProperty("os.version"),
                Runtime.version().feature(), os.getSystemLoadAverage());
    }
}

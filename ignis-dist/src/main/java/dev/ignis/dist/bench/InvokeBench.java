package dev.ignis.dist.bench;

import dev.ignis.dist.Platform;
import dev.ignis.dist.PlatformConfig;
import dev.ignis.frontend.EchoServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * The first invoke benchmark: warm invoke latency and throughput of no-op functions beside a plain
 * loopback HTTP echo (same HTTP server, same client, same signing) measured in the same run, and
 * sandbox cold start beside a bare start of the same runtime.
 */
public final class InvokeBench {
    record Result(String name, double p50, double p99, double perSecond, long errors) {
        Result named(String n) {
            return new Result(n, p50, p99, perSecond, errors);
        }
    }

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final AwsV4HttpSigner signer = AwsV4HttpSigner.create();
    private final String keyId;
    private final String secret;

    InvokeBench(String keyId, String secret) {
        this.keyId = keyId;
        this.secret = secret;
    }

    /** Signs like an SDK would (client work identical for echo and invoke). */
    HttpRequest signed(int port, String path, byte[] body) {
        return signed(port, path, body, Map.of());
    }

    HttpRequest signed(int port, String path, byte[] body, Map<String, String> headers) {
        var rb = SdkHttpRequest.builder().method(SdkHttpMethod.POST).protocol("http").host("127.0.0.1").port(port).encodedPath(path);
        headers.forEach(rb::putHeader);
        var req = rb.build();
        var s = signer.sign(r -> r.identity(AwsCredentialsIdentity.create(keyId, secret)).request(req)
                .payload(ContentStreamProvider.fromByteArrayUnsafe(body))
                .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "lambda").putProperty(AwsV4HttpSigner.REGION_NAME, "us-east-1")
                .putProperty(HttpSigner.SIGNING_CLOCK, Clock.systemUTC()));
        var b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        s.request().headers().forEach((k, v) -> {
            if (!k.equalsIgnoreCase("host")) {
                v.forEach(x -> b.header(k, x));
            }
        });
        return b.build();
    }

    Result run(String name, int port, String path, int concurrency, int requests) throws Exception {
        // warm up at the measured concurrency, so every sandbox the phase needs exists before it starts:
        // the phase then measures warm invokes only (cold starts are measured on their own below)
        measure(port, path, concurrency, Math.max(200, 50 * concurrency));
        return measure(port, path, concurrency, requests).named(name);
    }

    private Result measure(int port, String path, int concurrency, int requests) throws Exception {
        byte[] body = "{}".getBytes();
        long[] lat = new long[requests];
        AtomicLong next = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        long start = System.nanoTime();
        try (var pool = Executors.newFixedThreadPool(concurrency)) {
            List<Future<?>> fs = new ArrayList<>();
            for (int c = 0; c < concurrency; c++) {
                fs.add(pool.submit(() -> {
                    long i;
                    while ((i = next.getAndIncrement()) < requests) {
                        HttpRequest r = signed(port, path, body);
                        long t0 = System.nanoTime();
                        var resp = http.send(r, HttpResponse.BodyHandlers.ofByteArray());
                        lat[(int) i] = System.nanoTime() - t0;
                        if (resp.statusCode() != 200 || resp.headers().firstValue("X-Amz-Function-Error").isPresent()) {
                            errors.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (var f : fs) {
                f.get();
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        var l = new Latencies(lat);
        return new Result("", l.p50(), l.p99(), requests / seconds, errors.get());
    }

    static double signingMicros(InvokeBench b, int port) {
        int n = 5000;
        byte[] body = "{}".getBytes();
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            b.signed(port, "/x", body);
        }
        return (System.nanoTime() - t0) / 1e3 / n;
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
        return new Latencies(t).p50();
    }

    public static void main(String[] args) throws Exception {
        int requests = args.length > 0 ? Integer.parseInt(args[0]) : 3000;
        Path data = Files.createTempDirectory("ignis-bench-");
        Path runtimeHome = Path.of(args.length > 1 ? args[1] : ".ignis-data").toAbsolutePath();
        var cfg = new PlatformConfig(data, "127.0.0.1", 0, Duration.ofMinutes(10), PlatformConfig.workerIdFor(data), runtimeHome);
        try (Platform platform = Platform.start(cfg); EchoServer echo = new EchoServer()) {
            var key = platform.config().createAccount("bench");
            var bench = new InvokeBench(key.accessKeyId(), key.secretAccessKey());
            var fns = new BenchFunctions(platform, key.accountId(), bench);
            fns.create("noop-python", "python3.11", "python-handlers", "echo.none_handler");
            fns.create("noop-java", "java21", "java-handlers", "fixtures.StreamEchoHandler");
            List<Result> results = new ArrayList<>();
            for (int concurrency : new int[] {1, 8}) {
                results.add(bench.run("echo (floor) c=" + concurrency, echo.port(), "/echo", concurrency, requests));
                results.add(bench.run("python no-op c=" + concurrency, platform.port(), "/2015-03-31/functions/noop-python/invocations", concurrency, requests));
                results.add(bench.run("java no-op c=" + concurrency, platform.port(), "/2015-03-31/functions/noop-java/invocations", concurrency, requests));
            }
            System.out.printf("%nclient SigV4 signing: %.1f us per request (same for echo and invoke)%n", signingMicros(bench, platform.port()));
            System.out.printf("%-22s %10s %10s %10s %8s%n", "scenario", "p50 ms", "p99 ms", "req/s", "errors");
            for (Result r : results) {
                System.out.printf("%-22s %10.3f %10.3f %10.0f %8d%n", r.name(), r.p50(), r.p99(), r.perSecond(), r.errors());
            }
            for (int c : new int[] {1, 8}) {
                Result floor = results.stream().filter(r -> r.name().equals("echo (floor) c=" + c)).findFirst().orElseThrow();
                for (Result r : results) {
                    if (r.name().endsWith("c=" + c) && r != floor) {
                        System.out.printf("overhead %-22s p50 +%.3f ms (x%.2f)  p99 +%.3f ms (x%.2f)%n", r.name(), r.p50() - floor.p50(),
                                r.p50() / floor.p50(), r.p99() - floor.p99(), r.p99() / floor.p99());
                    }
                }
            }
            System.out.println();
            System.out.printf("cold start python (sandbox + runtime client, median of 8): %.1f ms; bare `python3.11 -c 'import json, http.client'`: %.1f ms%n",
                    fns.coldStartMs("noop-python", 8), bareStartMs(List.of("/usr/bin/python3.11", "-c", "import json, http.client"), 8));
            System.out.printf("cold start java21 (sandbox + AWS RIC, median of 5): %.1f ms; bare `java -Xshare:auto -version` (Temurin 25): %.1f ms%n",
                    fns.coldStartMs("noop-java", 5), bareStartMs(List.of("/usr/lib/jvm/temurin-25-jdk-amd64/bin/java", "-Xshare:auto", "-version"), 5));
            System.out.println("(cold start = the Init Duration the worker measured: sandbox creation to the runtime's first /next)");
            new AsyncBench(platform, bench, data, key.accountId()).run("noop-python", Math.max(200, requests / 4));
            System.out.println(Map.of("assignment", platform.assignment().stats()));
        }
    }
}

package dev.ignis.dist.bench;

import dev.ignis.dist.Platform;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Asynchronous invokes: enqueue throughput and latency (until the 202, i.e. durably committed),
 * and enqueue-to-start latency (202 → the START line the worker logs when the invoke begins).
 */
final class AsyncBench {
    private final Platform platform;
    private final SignedRequests bench;
    private final Path data;
    private final String accountId;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    AsyncBench(Platform platform, SignedRequests bench, Path data, String accountId) {
        this.platform = platform;
        this.bench = bench;
        this.data = data;
        this.accountId = accountId;
    }

    void run(String function, int events) throws Exception {
        Map<String, Long> acceptedAt = new ConcurrentHashMap<>();
        long[] enqueue = new long[events];
        AtomicInteger next = new AtomicInteger();
        long t0 = System.nanoTime();
        try (var pool = Executors.newFixedThreadPool(8)) {
            List<Future<?>> fs = new ArrayList<>();
            for (int c = 0; c < 8; c++) {
                fs.add(pool.submit(() -> {
                    int i;
                    while ((i = next.getAndIncrement()) < events) {
                        var req = bench.signed(platform.port(), "/2015-03-31/functions/" + function + "/invocations", "{}".getBytes(),
                                Map.of("X-Amz-Invocation-Type", "Event"));
                        long s = System.nanoTime();
                        var r = http.send(req, HttpResponse.BodyHandlers.discarding());
                        enqueue[i] = System.nanoTime() - s;
                        if (r.statusCode() != 202) {
                            throw new IllegalStateException("enqueue answered " + r.statusCode());
                        }
                        Instant at = Instant.now();
                        acceptedAt.put(r.headers().firstValue("x-amzn-RequestId").orElseThrow(),
                                at.getEpochSecond() * 1_000_000 + at.getNano() / 1000);
                    }
                    return null;
                }));
            }
            for (var f : fs) {
                f.get();
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        while (((Number) platform.events().stats().get("depth")).intValue() > 0) {
            Thread.sleep(20);
        }
        Map<String, Long> startedAt = starts();
        long[] toStart = acceptedAt.entrySet().stream().filter(e -> startedAt.containsKey(e.getKey()))
                .mapToLong(e -> Math.max(0, startedAt.get(e.getKey()) - e.getValue()) * 1000).toArray();
        var enq = new Latencies(enqueue);
        var start = new Latencies(toStart);
        System.out.printf("%nasync: %d events enqueued by 8 clients at %.0f/s; enqueue (until 202, committed) p50 %.2f ms p99 %.2f ms%n",
                events, events / seconds, enq.p50(), enq.p99());
        System.out.printf("async: enqueue-to-start (202 -> worker's START line) p50 %.1f ms p99 %.1f ms over %d events"
                + " (saturated: all queued at once); queue %s%n", start.p50(), start.p99(), toStart.length, platform.events().stats());
        paced(function, 200, 20);
    }

    /** Open loop at a fixed rate the platform can absorb: enqueue-to-start without a backlog. */
    private void paced(String function, int events, int perSecond) throws Exception {
        Map<String, Long> acceptedAt = new ConcurrentHashMap<>();
        long periodNanos = 1_000_000_000L / perSecond;
        long begin = System.nanoTime();
        for (int i = 0; i < events; i++) {
            long due = begin + i * periodNanos;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            }
            var r = http.send(bench.signed(platform.port(), "/2015-03-31/functions/" + function + "/invocations", "{}".getBytes(),
                    Map.of("X-Amz-Invocation-Type", "Event")), HttpResponse.BodyHandlers.discarding());
            Instant at = Instant.now();
            acceptedAt.put(r.headers().firstValue("x-amzn-RequestId").orElseThrow(), at.getEpochSecond() * 1_000_000 + at.getNano() / 1000);
        }
        while (((Number) platform.events().stats().get("depth")).intValue() > 0) {
            Thread.sleep(20);
        }
        Map<String, Long> startedAt = starts();
        long[] toStart = acceptedAt.entrySet().stream().filter(e -> startedAt.containsKey(e.getKey()))
                .mapToLong(e -> Math.max(0, startedAt.get(e.getKey()) - e.getValue()) * 1000).toArray();
        var start = new Latencies(toStart);
        System.out.printf("async: enqueue-to-start at %d events/s (open loop, no backlog): p50 %.1f ms p99 %.1f ms over %d events%n",
                perSecond, start.p50(), start.p99(), toStart.length);
    }

    /** Request id → epoch micros of its START line in the function logs. */
    private Map<String, Long> starts() throws Exception {
        Map<String, Long> out = new ConcurrentHashMap<>();
        try (Stream<Path> files = Files.walk(data.resolve("worker/logs"))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                for (String line : Files.readAllLines(f)) {
                    int i = line.indexOf("START RequestId: ");
                    if (i > 0) {
                        Instant at = Instant.parse(line.substring(0, line.indexOf('\t')));
                        out.put(line.substring(i + 17, i + 17 + 36), at.getEpochSecond() * 1_000_000 + at.getNano() / 1000);
                    }
                }
            }
        }
        return out;
    }
}

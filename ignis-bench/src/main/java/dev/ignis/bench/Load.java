package dev.ignis.bench;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * The load generator: closed loop (N clients, each sends its next request when the previous one is
 * answered) and open loop (requests start on a fixed schedule whether or not earlier ones are done,
 * so queueing shows in the latency instead of slowing the sender down — no coordinated omission).
 *
 * <p>Every request is signed right before it is sent; the signing time goes into its own histogram
 * and, in the closed loop, not into the request's latency. A response classifies its invoke as
 * cold when it carries {@code X-Ignis-Init-Duration}, the Init Duration the worker wrote into that
 * invoke's REPORT line; the load generator never guesses from the latency.
 */
public final class Load {
    /** Where requests go, and the key that signs them. */
    public record Endpoint(String label, String host, int port, Signer signer) {}

    /** One request; {@code headers} are signed too. */
    public record Request(String method, String path, Map<String, String> headers, byte[] body) {}

    /** Chooses the i-th request of a client; it may do untimed setup first (e.g. make the next invoke cold). */
    public interface Plan {
        Request next(int client, long i) throws Exception;
    }

    private Load() {}

    static ConcurrentHistogram histogram() {
        return new ConcurrentHistogram(Duration.ofMinutes(10).toNanos(), 3);
    }

    /** Runs {@code clients} closed-loop clients until {@code requests} have been sent (or {@code limit} has passed). */
    public static PhaseResult closed(String name, Endpoint ep, Plan plan, int clients, long requests, Duration limit) throws InterruptedException {
        var r = new Recording(name, ep.label(), clients, 0);
        AtomicLong next = new AtomicLong();
        long deadline = System.nanoTime() + limit.toNanos();
        List<Thread> threads = new ArrayList<>();
        double cpu0 = MachineCpu.busySeconds();
        long start = System.nanoTime();
        for (int c = 0; c < clients; c++) {
            int client = c;
            threads.add(Thread.ofPlatform().name("bench-client-" + c).start(() -> {
                HttpConnection conn = null;
                long i;
                while ((i = next.getAndIncrement()) < requests && System.nanoTime() < deadline) {
                    try {
                        Request q = plan.next(client, i);
                        long s0 = System.nanoTime();
                        List<String> headers = ep.signer().sign(q.method(), ep.host(), ep.port(), q.path(), q.headers(), q.body());
                        long t0 = System.nanoTime();
                        r.signing.recordValue(t0 - s0);
                        if (conn == null || !conn.isOpen()) {
                            conn = new HttpConnection(ep.host(), ep.port());
                        }
                        r.record(conn.send(q.method(), q.path(), headers, q.body()), System.nanoTime() - t0);
                    } catch (Exception e) {
                        r.failed(e);
                        if (conn != null) {
                            conn.close();
                            conn = null;
                        }
                    }
                }
                if (conn != null) {
                    conn.close();
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        return r.result(System.nanoTime() - start, MachineCpu.busySeconds() - cpu0);
    }

    /**
     * Starts requests at {@code ratePerSecond} for {@code duration}, each on its own virtual thread,
     * on a connection from a pool (a new one when all are busy, up to {@code maxConnections}); the
     * latency runs from the request's scheduled start, so time spent waiting for a connection or
     * the server counts.
     */
    public static PhaseResult open(String name, Endpoint ep, Plan plan, double ratePerSecond, Duration duration, int maxConnections)
            throws InterruptedException {
        var r = new Recording(name, ep.label(), 0, ratePerSecond);
        var pool = new ConcurrentLinkedQueue<HttpConnection>();
        var opened = new AtomicInteger();
        long total = (long) (ratePerSecond * duration.toNanos() / 1e9);
        double interval = 1e9 / ratePerSecond;
        List<Thread> threads = new ArrayList<>();
        double cpu0 = MachineCpu.busySeconds();
        long start = System.nanoTime();
        for (long i = 0; i < total; i++) {
            long scheduled = start + (long) (i * interval);
            long wait = scheduled - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            long index = i;
            threads.add(Thread.ofVirtual().start(() -> {
                HttpConnection conn = pool.poll();
                try {
                    Request q = plan.next(0, index);
                    long s0 = System.nanoTime();
                    List<String> headers = ep.signer().sign(q.method(), ep.host(), ep.port(), q.path(), q.headers(), q.body());
                    r.signing.recordValue(System.nanoTime() - s0);
                    while (conn == null) {
                        if (opened.incrementAndGet() <= maxConnections) {
                            conn = new HttpConnection(ep.host(), ep.port());
                        } else {
                            opened.decrementAndGet();
                            Thread.sleep(1);
                            conn = pool.poll();
                        }
                    }
                    r.record(conn.send(q.method(), q.path(), headers, q.body()), System.nanoTime() - scheduled);
                    pool.add(conn);
                } catch (Exception e) {
                    r.failed(e);
                    if (conn != null) {
                        conn.close();
                        opened.decrementAndGet();
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        long elapsed = System.nanoTime() - start;
        double cpu = MachineCpu.busySeconds() - cpu0;
        pool.forEach(HttpConnection::close);
        return r.result(elapsed, cpu);
    }


    /** Histograms filled by the clients of one phase. */
    private static final class Recording {
        final String name;
        final String target;
        final int clients;
        final double rate;
        final ConcurrentHistogram all = histogram();
        final ConcurrentHistogram warm = histogram();
        final ConcurrentHistogram cold = histogram();
        final ConcurrentHistogram init = histogram();
        final ConcurrentHistogram signing = histogram();
        final AtomicLong errors = new AtomicLong();
        final AtomicReference<String> firstError = new AtomicReference<>();

        Recording(String name, String target, int clients, double rate) {
            this.name = name;
            this.target = target;
            this.clients = clients;
            this.rate = rate;
        }

        void record(HttpConnection.Response resp, long nanos) {
            if (resp.status() != 200 || resp.functionError() != null) {
                errors.incrementAndGet();
                firstError.compareAndSet(null, "HTTP " + resp.status() + (resp.functionError() == null ? "" : " function error " + resp.functionError()));
                return;
            }
            all.recordValue(nanos);
            if (resp.initDuration() != null) {
                cold.recordValue(nanos);
                init.recordValue((long) (Double.parseDouble(resp.initDuration()) * 1e6));
            } else {
                warm.recordValue(nanos);
            }
        }

        void failed(Exception e) {
            errors.incrementAndGet();
            firstError.compareAndSet(null, e instanceof IOException ? "I/O: " + e.getMessage() : e.toString());
        }

        PhaseResult result(long elapsedNanos, double cpuSeconds) {
            return new PhaseResult(name, target, clients, rate, all, warm, cold, init, signing, errors.get(), firstError.get(),
                    elapsedNanos / 1e9, cpuSeconds);
        }
    }

    /** A histogram's value at a percentile, in milliseconds (NaN when empty). */
    public static double ms(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(percentile) / 1e6;
    }
}

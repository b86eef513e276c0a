package dev.ignis.runtimes;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Test harness for runtime CLIENTS only (not Ignis' Runtime API, which the worker owns): a tiny
 * Runtime API 2018-06-01 on a free loopback port that hands out queued events on /next and records
 * every /response, /error and /init/error with its headers.
 */
final class RuntimeApiTestHarness implements AutoCloseable {
    /** One event to serve; null header values are omitted, as Lambda omits empty headers. */
    record Event(String requestId, String body, long deadlineMs, String functionArn,
                 String clientContext, String cognitoIdentity, String traceId) {
        static Event of(String requestId, String body) {
            return new Event(requestId, body, System.currentTimeMillis() + 60_000,
                    "arn:aws:lambda:us-east-1:123456789012:function:fixture", null, null, "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1");
        }
    }

    /** What a runtime posted: kind is "response", "error" or "init-error". */
    record Posted(String kind, String requestId, Map<String, String> headers, String body) {
    }

    private final HttpServer server;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final BlockingQueue<Posted> posted = new LinkedBlockingQueue<>();
    private final List<Integer> nextClientPorts = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final CountDownLatch firstNext = new CountDownLatch(1);
    private volatile long firstNextNanos;
    private volatile boolean closed;

    RuntimeApiTestHarness() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/2018-06-01/runtime/", this::handle);
        server.start();
    }

    String address() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    void enqueue(Event e) {
        events.add(e);
    }

    /** The next thing the runtime posted, waiting up to {@code seconds}. */
    Posted await(int seconds) throws InterruptedException {
        Posted p = posted.poll(seconds, TimeUnit.SECONDS);
        if (p == null) {
            throw new AssertionError("runtime posted nothing within " + seconds + " s");
        }
        return p;
    }

    /** System.nanoTime() of the first /next, waiting up to {@code seconds}. */
    long awaitFirstNext(int seconds) throws InterruptedException {
        if (!firstNext.await(seconds, TimeUnit.SECONDS)) {
            throw new AssertionError("runtime never called /next within " + seconds + " s");
        }
        return firstNextNanos;
    }

    /** Client source ports of each /next call: equal ports mean one reused keep-alive connection. */
    List<Integer> nextClientPorts() {
        return List.copyOf(nextClientPorts);
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath().substring("/2018-06-01/runtime".length());
            byte[] body = ex.getRequestBody().readAllBytes();
            if (ex.getRequestMethod().equals("GET") && path.equals("/invocation/next")) {
                serveNext(ex);
                return;
            }
            Map<String, String> headers = new HashMap<>();
            ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(java.util.Locale.ROOT), String.join(",", v)));
            String text = new String(body, StandardCharsets.UTF_8);
            if (path.equals("/init/error")) {
                posted.add(new Posted("init-error", null, headers, text));
            } else if (path.startsWith("/invocation/") && path.endsWith("/response")) {
                posted.add(new Posted("response", path.split("/")[2], headers, text));
            } else if (path.startsWith("/invocation/") && path.endsWith("/error")) {
                posted.add(new Posted("error", path.split("/")[2], headers, text));
            } else {
                ex.sendResponseHeaders(404, -1);
                return;
            }
            ex.sendResponseHeaders(202, -1);
        }
    }

    private void serveNext(HttpExchange ex) throws IOException {
        if (firstNext.getCount() == 1) {
            firstNextNanos = System.nanoTime();
            firstNext.countDown();
        }
        nextClientPorts.add(ex.getRemoteAddress().getPort());
        Event e = null;
        try {
            // Like Lambda, /next blocks until there is work; the test's close() ends the wait.
            while (e == null && !closed) {
                e = events.poll(100, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
        if (e == null) {
            ex.sendResponseHeaders(503, -1);
            return;
        }
        var h = ex.getResponseHeaders();
        // AWS's Java RIC (JNI/libcurl) crashes on a /next response without Content-Type.
        h.add("Content-Type", "application/json");
        h.add("Lambda-Runtime-Aws-Request-Id", e.requestId());
        h.add("Lambda-Runtime-Deadline-Ms", Long.toString(e.deadlineMs()));
        putIfPresent(h, "Lambda-Runtime-Invoked-Function-Arn", e.functionArn());
        putIfPresent(h, "Lambda-Runtime-Trace-Id", e.traceId());
        putIfPresent(h, "Lambda-Runtime-Client-Context", e.clientContext());
        putIfPresent(h, "Lambda-Runtime-Cognito-Identity", e.cognitoIdentity());
        byte[] out = e.body().getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(200, out.length == 0 ? -1 : out.length);
        ex.getResponseBody().write(out);
    }

    private static void putIfPresent(com.sun.net.httpserver.Headers h, String name, String value) {
        if (value != null) {
            h.add(name, value);
        }
    }

    @Override
    public void close() {
        closed = true;
        server.stop(0);
    }
}

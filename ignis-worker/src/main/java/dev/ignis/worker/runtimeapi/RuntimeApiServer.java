package dev.ignis.worker.runtimeapi;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves one sandbox's Runtime API on a listening socket that the worker created inside the
 * sandbox's network namespace. One virtual thread accepts; one virtual thread serves each
 * connection (normally one keep-alive connection per runtime, or one per {@code curl} call).
 *
 * <p>Bounds against a hostile runtime: {@link #MAX_CONNECTIONS} connections, each with a 16 KB read
 * buffer and a head of at most 64 KB; request bodies grown as their bytes arrive and held in the
 * worker-wide {@link BodyBudget}, at most {@link #SANDBOX_BODY_BYTES} of it per sandbox; a request
 * that is not here whole within the read timeout once it has started is closed (see {@link HttpConnection}).
 */
public final class RuntimeApiServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RuntimeApiServer.class);
    private static final String PREFIX = "/2018-06-01/runtime/";
    /**
     * Open connections allowed per sandbox. Runtimes use one or two (a curl bootstrap one per call, the
     * last one's close not always seen yet); the bound stops a hostile runtime from tying up worker
     * threads and buffers.
     */
    static final int MAX_CONNECTIONS = 8;
    /**
     * What one sandbox's request bodies may hold at once: a largest response while its array grows
     * (4 MB and the 6 MB it doubles to), and room besides; a hostile runtime's eight connections
     * cannot take more of the worker's body budget than this.
     */
    static final long SANDBOX_BODY_BYTES = 2L * RuntimeApi.MAX_RESPONSE_BYTES;

    private final ServerSocketChannel listener;
    private final RuntimeApi api;
    private final String name;
    private final Set<SocketChannel> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong requests = new AtomicLong();
    private final BodyBudget budget;
    private final int readTimeoutMs;
    private volatile boolean closed;
    private final Thread acceptor;

    /** A server with a budget of its own and the default limits (benchmarks, tests). */
    public RuntimeApiServer(ServerSocketChannel listener, RuntimeApi api, String name) {
        this(listener, api, name, RuntimeApiLimits.defaults());
    }

    private RuntimeApiServer(ServerSocketChannel listener, RuntimeApi api, String name, RuntimeApiLimits limits) {
        this(listener, api, name, new BodyBudget(limits.bodyBudgetBytes()), limits.readTimeout());
    }

    /**
     * @param budget      the worker's budget for request bodies, shared by all its sandboxes' servers (each
     *                    draws at most {@link #SANDBOX_BODY_BYTES} of it)
     * @param readTimeout how long a started request may take to arrive whole ({@link RuntimeApiLimits#readTimeout})
     */
    public RuntimeApiServer(ServerSocketChannel listener, RuntimeApi api, String name, BodyBudget budget, Duration readTimeout) {
        this.listener = listener;
        this.api = api;
        this.name = name;
        this.budget = budget.child(SANDBOX_BODY_BYTES);
        this.readTimeoutMs = Math.toIntExact(Math.max(1, readTimeout.toMillis()));
        this.acceptor = Thread.ofVirtual().name("runtime-api-accept-" + name).start(this::acceptLoop);
    }

    public RuntimeApi api() {
        return api;
    }

    /** Requests served so far (for tests and diagnostics). */
    public long requestCount() {
        return requests.get();
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                SocketChannel ch = listener.accept();
                if (connections.size() >= MAX_CONNECTIONS) {
                    ch.close();
                    continue;
                }
                connections.add(ch);
                Thread.ofVirtual().name("runtime-api-" + name).start(() -> serve(ch));
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closed) {
                    LOG.warn("runtime API accept failed for sandbox {}", name, e);
                }
                return;
            }
        }
    }

    /** One runtime connection: its socket, its HTTP state, and its link in the state machine. */
    private record Connection(SocketChannel channel, HttpConnection http, RuntimeApi.Link link) {}

    /** What serving one request left the connection as. */
    private enum Step { CONTINUE, CLOSE, PARKED }

    private void serve(SocketChannel ch) {
        try (ch) {
            ch.socket().setTcpNoDelay(true);
            HttpConnection http = new HttpConnection(new HttpConnection.Input(ch.socket(), 16 * 1024, readTimeoutMs),
                    new BufferedOutputStream(Channels.newOutputStream(ch), 16 * 1024), budget);
            Connection conn = new Connection(ch, http, new RuntimeApi.Link());
            conn.link().connection = conn;
            while (!closed) {
                HttpRequest req = readRequest(conn);
                if (req == null || serveOne(conn, req, false) == Step.CLOSE) {
                    return;
                }
            }
        } catch (IOException e) {
            // the runtime hung up or the sandbox died; nothing to report
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            connections.remove(ch);
        }
    }

    /** The next request, or null when the connection must close (the client left, or sent a malformed request: answered 400). */
    private static HttpRequest readRequest(Connection conn) throws IOException {
        try {
            return conn.http().read(RuntimeApi.MAX_RESPONSE_BYTES);
        } catch (HttpConnection.BadRequest e) {
            badRequest(conn, e);
            return null;
        }
    }

    private static void badRequest(Connection conn, HttpConnection.BadRequest e) throws IOException {
        RuntimeApi.Reply r = RuntimeApi.Reply.json(400, "InvalidRequest", "Bad request: " + e.getMessage());
        conn.http().write(400, "Bad Request", r.body(), true, r.headers());
    }

    /**
     * Serves one request. {@code driven}: an invoking thread serves the connection, so a GET /next
     * is parked for the connection's own thread (still waiting in {@link RuntimeApi#next(RuntimeApi.Link)})
     * instead of waited for here.
     */
    private Step serveOne(Connection conn, HttpRequest req, boolean driven) throws IOException, InterruptedException {
        requests.incrementAndGet();
        try {
            if (driven && isNext(req)) {
                try {
                    if (!api.repark(conn.link())) {
                        return Step.CLOSE;
                    }
                } catch (IllegalStateException busy) {
                    unansweredNext(conn.http());
                    return Step.CLOSE;
                }
                return Step.PARKED;
            }
            return handle(conn, req) && req.keepAlive() ? Step.CONTINUE : Step.CLOSE;
        } finally {
            conn.http().done(req); // handled: a /response body is its invoke's result now, the budget's no more
        }
    }

    private static boolean isNext(HttpRequest req) {
        String path = req.path();
        int q = path.indexOf('?');
        return req.method().equals("GET") && (q < 0 ? path : path.substring(0, q)).equals(PREFIX + "invocation/next");
    }

    /**
     * Delivers {@code inv} on the connection whose parked GET /next {@link RuntimeApi#offerToDrive}
     * gave the invoking thread, then serves that connection on the invoking thread until the invoke is
     * answered: the common exchange (the event out, the runtime's POST /response and next GET /next
     * back) then wakes no other thread. Returns once the answer is in — having served, without
     * waiting, whatever of the runtime's next requests has already arrived — or once the connection
     * cannot carry it (closed, malformed): the caller then waits for the invocation's result as usual.
     *
     * <p>Bounded: if the result comes from elsewhere while this thread waits on the socket (the
     * deadline, the runtime's exit, an answer on another connection), the connection is closed, which
     * ends the wait; a runtime that answers on another connection sees its idle connection closed, as a
     * server may close any idle keep-alive connection.
     */
    public void drive(RuntimeApi.Link link, Invocation inv) {
        Connection conn = (Connection) link.connection;
        Thread driver = Thread.currentThread();
        var reading = new java.util.concurrent.atomic.AtomicBoolean(true);
        inv.result().whenComplete((ev, ex) -> {
            if (Thread.currentThread() != driver && reading.get()) {
                closeQuietly(conn.channel());
            }
        });
        boolean parked = false;
        try {
            writeNext(conn.http(), inv);
            while (true) {
                HttpRequest req;
                if (!inv.result().isDone()) {
                    req = readRequest(conn);
                    if (req == null) {
                        closeQuietly(conn.channel());
                        return;
                    }
                } else {
                    // answered: serve only what is already here, never wait for more
                    try {
                        req = conn.http().readBuffered(RuntimeApi.MAX_RESPONSE_BYTES);
                    } catch (HttpConnection.BadRequest e) {
                        badRequest(conn, e);
                        closeQuietly(conn.channel());
                        return;
                    }
                    if (req == null) {
                        return; // its own thread reads on
                    }
                }
                Step step = serveOne(conn, req, true);
                if (step == Step.PARKED) {
                    parked = true;
                    return;
                }
                if (step == Step.CLOSE) {
                    closeQuietly(conn.channel());
                    return;
                }
            }
        } catch (IOException e) {
            closeQuietly(conn.channel()); // the runtime hung up, the sandbox died, or the deadline closed it
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly(conn.channel());
        } finally {
            reading.set(false);
            if (!parked) {
                api.handBack(link); // its own thread reads it again (or finds it closed and ends)
            }
        }
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    /** Returns false when the connection must close. */
    private boolean handle(Connection c, HttpRequest req) throws IOException, InterruptedException {
        HttpConnection conn = c.http();
        String path = req.path();
        int q = path.indexOf('?');
        if (q >= 0) {
            path = path.substring(0, q);
        }
        if (!path.startsWith(PREFIX)) {
            return reply(conn, req, RuntimeApi.Reply.json(404, "NotFound", "Unknown path " + safe(path)));
        }
        String rest = path.substring(PREFIX.length());
        boolean get = req.method().equals("GET");
        boolean post = req.method().equals("POST");
        if (rest.equals("invocation/next") && get) {
            return next(conn, c.link());
        }
        if (rest.equals("init/error") && post) {
            return reply(conn, req, api.initError(errorEvent(req)));
        }
        if (rest.equals("restore/next") && get) {
            // no snapshot mode in the process driver: nothing to restore, the runtime carries on
            return reply(conn, req, new RuntimeApi.Reply(200, new byte[0]));
        }
        if (rest.equals("restore/error") && post) {
            return reply(conn, req, RuntimeApi.ACCEPTED);
        }
        if (rest.startsWith("invocation/") && post) {
            String tail = rest.substring("invocation/".length());
            int slash = tail.indexOf('/');
            if (slash > 0) {
                String id = tail.substring(0, slash);
                String verb = tail.substring(slash + 1);
                if (verb.equals("response") || verb.equals("error")) {
                    RuntimeEvent event = req.bodyTooLarge()
                            ? new RuntimeEvent.TooLarge(req.bodyLimit())
                            : verb.equals("response") ? new RuntimeEvent.Response(req.body()) : errorEvent(req);
                    return reply(conn, req, api.answer(id, event));
                }
            }
        }
        return reply(conn, req, RuntimeApi.Reply.json(404, "NotFound", "Unknown path " + safe(path)));
    }

    private static RuntimeEvent.Error errorEvent(HttpRequest req) {
        return new RuntimeEvent.Error(req.body(), req.header("lambda-runtime-function-error-type"));
    }

    private boolean next(HttpConnection conn, RuntimeApi.Link link) throws IOException, InterruptedException {
        Invocation inv;
        try {
            inv = api.next(link);
        } catch (IllegalStateException busy) {
            unansweredNext(conn);
            return false;
        }
        if (inv == null) {
            return false; // sandbox closed while waiting
        }
        if (inv == RuntimeApi.RESUME) {
            return true; // an invoking thread answered this /next and served the connection: read on
        }
        writeNext(conn, inv);
        return true;
    }

    private static void unansweredNext(HttpConnection conn) throws IOException {
        RuntimeApi.Reply r = RuntimeApi.Reply.json(403, "InvalidStateTransition",
                "State transition from Invoking to InvocationNext failed: the current invocation is unanswered");
        conn.write(403, "Forbidden", r.body(), true, r.headers());
    }

    private static void writeNext(HttpConnection conn, Invocation inv) throws IOException {
        conn.write(200, "OK", inv.payload(), false,
                "Content-Type", "application/json",
                "Lambda-Runtime-Aws-Request-Id", inv.requestId(),
                "Lambda-Runtime-Deadline-Ms", Long.toString(inv.deadlineEpochMs()),
                "Lambda-Runtime-Invoked-Function-Arn", inv.invokedFunctionArn(),
                "Lambda-Runtime-Trace-Id", inv.traceId(),
                "Lambda-Runtime-Client-Context", inv.clientContext(),
                "Lambda-Runtime-Cognito-Identity", inv.cognitoIdentity());
    }

    private static boolean reply(HttpConnection conn, HttpRequest req, RuntimeApi.Reply r) throws IOException {
        boolean close = !req.keepAlive();
        conn.write(r.status(), reason(r.status()), r.body(), close, r.headers());
        return !close;
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 202 -> "Accepted";
            case 400 -> "Bad Request";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 413 -> "Payload Too Large";
            default -> "Status";
        };
    }

    private static String safe(String s) {
        String t = s.length() > 100 ? s.substring(0, 100) : s;
        return new String(t.getBytes(StandardCharsets.US_ASCII), StandardCharsets.US_ASCII).replaceAll("[^\\x20-\\x7e]", "?")
                .replace("\"", "'").replace("\\", "/");
    }

    /**
     * Closes the listener and every connection. Returns only once the accepting thread has left
     * accept(): NIO defers the real close of a channel until its blocked thread is released, and the
     * network namespace (with its port 9001) is handed to the next sandbox right after this.
     */
    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        try {
            acceptor.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (SocketChannel c : connections) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }
}

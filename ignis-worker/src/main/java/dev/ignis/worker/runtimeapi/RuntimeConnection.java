package dev.ignis.worker.runtimeapi;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One of a runtime's connections to its Runtime API, and the only owner of it: the socket, its HTTP state
 * ({@link HttpConnection}) and which thread may read it, as a small state machine kept under the sandbox's
 * {@link RuntimeApi} lock:
 *
 * <pre>
 *   READING --GET /next, no work--> PARKED --work queued--> READING   (its own thread writes the event)
 *                                   PARKED --offerToDrive--> DRIVEN   (an invoking thread writes it and reads on)
 *   DRIVEN --the runtime's next GET /next--> PARKED                    (the invoking thread returns)
 *   DRIVEN --anything else, or the answer is in--> READING             (handed back: its own thread reads on)
 * </pre>
 *
 * Its own virtual thread ({@link #serve}) reads while READING and waits while PARKED or DRIVEN, so exactly one thread
 * reads the socket at a time. The warm path: the invoking thread delivers the event on the parked /next and reads the
 * answer itself ({@link #drive}) — the common exchange wakes no other thread.
 */
public final class RuntimeConnection {
    private static final String PREFIX = "/2018-06-01/runtime/";

    /** Who may read the connection (guarded by the {@link RuntimeApi}'s lock). */
    enum State { READING, PARKED, DRIVEN }

    State state = State.READING;
    private final SocketChannel channel;
    private final HttpConnection http;
    private final RuntimeApi api;
    private final AtomicLong requests;
    /** {@link #route}, made once: a streamed /response is recognised from each request's head. */
    private final HttpConnection.BodyRoute bodyRoute = this::route;

    /** A connection that is never read: tests of the state machine alone ({@link RuntimeApi} without sockets). */
    static RuntimeConnection detached(RuntimeApi api) {
        return new RuntimeConnection(api);
    }

    private RuntimeConnection(RuntimeApi api) {
        this.channel = null;
        this.http = null;
        this.api = api;
        this.requests = new AtomicLong();
    }

    RuntimeConnection(SocketChannel channel, RuntimeApi api, BodyBudget budget, int readTimeoutMs, AtomicLong requests)
            throws IOException {
        this.channel = channel;
        this.api = api;
        this.requests = requests;
        channel.socket().setTcpNoDelay(true);
        this.http = new HttpConnection(new HttpConnection.Input(channel.socket(), 16 * 1024, readTimeoutMs),
                new BufferedOutputStream(Channels.newOutputStream(channel), 16 * 1024), budget);
    }

    /** What serving one request left the connection as. */
    private enum Step { CONTINUE, CLOSE, PARKED }

    /** The connection's own thread: serves requests until the runtime hangs up, the sandbox closes or a request is bad. */
    void serve(java.util.function.BooleanSupplier serverClosed) {
        try (channel) {
            while (!serverClosed.getAsBoolean()) {
                HttpRequest req = readRequest();
                if (req == null || serveOne(req, false) == Step.CLOSE) {
                    return;
                }
            }
        } catch (IOException e) {
            // the runtime hung up or the sandbox died; nothing to report
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The next request, or null when the connection must close (the client left, or sent a malformed request: answered 400). */
    private HttpRequest readRequest() throws IOException {
        try {
            return http.read(RuntimeApi.MAX_RESPONSE_BYTES, bodyRoute);
        } catch (HttpConnection.BadRequest e) {
            badRequest(e);
            return null;
        }
    }

    private void badRequest(HttpConnection.BadRequest e) throws IOException {
        RuntimeApi.Reply r = RuntimeApi.Reply.json(400, "InvalidRequest", "Bad request: " + e.getMessage());
        http.write(400, "Bad Request", r.body(), true, r.headers());
    }

    /**
     * Serves one request. {@code driven}: an invoking thread serves the connection, so a GET /next is parked for the
     * connection's own thread (still waiting in {@link RuntimeApi#next}) instead of waited for here.
     */
    private Step serveOne(HttpRequest req, boolean driven) throws IOException, InterruptedException {
        requests.incrementAndGet();
        try {
            if (driven && isNext(req)) {
                return switch (api.repark(this)) {
                    case PARKED -> Step.PARKED;
                    case BUSY -> {
                        unansweredNext();
                        yield Step.CLOSE;
                    }
                    case GONE -> Step.CLOSE;
                };
            }
            return handle(req) && req.keepAlive() ? Step.CONTINUE : Step.CLOSE;
        } finally {
            http.done(req); // handled: a /response body is its invoke's result now, the budget's no more
        }
    }

    private static boolean isNext(HttpRequest req) {
        String path = req.path();
        int q = path.indexOf('?');
        return req.method().equals("GET") && (q < 0 ? path : path.substring(0, q)).equals(PREFIX + "invocation/next");
    }

    /**
     * Delivers {@code inv} ({@link RuntimeApi.Offer.Delivered} gave this connection to the caller) and serves the
     * connection on the invoking thread until the invoke is answered: the common exchange (the event out, the runtime's
     * POST /response and next GET /next back) then wakes no other thread. Returns once the answer is in — having
     * served, without waiting, whatever of the runtime's next requests has already arrived — or once the connection
     * cannot carry it (closed, malformed): the caller then waits for the invocation's result as usual.
     *
     * <p>Bounded: if the result comes from elsewhere while this thread waits on the socket (the deadline, the runtime's
     * exit, an answer on another connection), the connection is closed, which ends the wait; a runtime that answers on
     * another connection sees its idle connection closed, as a server may close any idle keep-alive connection.
     */
    public void drive(Invocation inv) {
        Thread driver = Thread.currentThread();
        var reading = new AtomicBoolean(true);
        inv.result().whenComplete((ev, ex) -> {
            if (Thread.currentThread() != driver && reading.get()) {
                closeQuietly();
            }
        });
        boolean parked = false;
        try {
            writeNext(inv);
            while (true) {
                HttpRequest req;
                if (!inv.result().isDone()) {
                    req = readRequest();
                    if (req == null) {
                        closeQuietly();
                        return;
                    }
                } else {
                    // answered: serve only what is already here, never wait for more
                    try {
                        req = http.readBuffered(RuntimeApi.MAX_RESPONSE_BYTES);
                    } catch (HttpConnection.BadRequest e) {
                        badRequest(e);
                        closeQuietly();
                        return;
                    }
                    if (req == null) {
                        return; // its own thread reads on
                    }
                }
                Step step = serveOne(req, true);
                if (step == Step.PARKED) {
                    parked = true;
                    return;
                }
                if (step == Step.CLOSE) {
                    closeQuietly();
                    return;
                }
            }
        } catch (IOException e) {
            closeQuietly(); // the runtime hung up, the sandbox died, or the deadline closed it
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly();
        } finally {
            reading.set(false);
            if (!parked) {
                api.handBack(this); // its own thread reads it again (or finds it closed and ends)
            }
        }
    }

    void closeQuietly() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    /** Returns false when the connection must close. */
    private boolean handle(HttpRequest req) throws IOException, InterruptedException {
        String path = req.path();
        int q = path.indexOf('?');
        if (q >= 0) {
            path = path.substring(0, q);
        }
        if (!path.startsWith(PREFIX)) {
            return reply(req, RuntimeApi.Reply.json(404, "NotFound", "Unknown path " + safe(path)));
        }
        String rest = path.substring(PREFIX.length());
        boolean get = req.method().equals("GET");
        boolean post = req.method().equals("POST");
        if (rest.equals("invocation/next") && get) {
            return next();
        }
        if (rest.equals("init/error") && post) {
            return reply(req, api.initError(errorEvent(req)));
        }
        if (rest.equals("restore/next") && get) {
            // no snapshot mode yet: nothing to restore, the runtime carries on
            return reply(req, new RuntimeApi.Reply(200, new byte[0]));
        }
        if (rest.equals("restore/error") && post) {
            return reply(req, RuntimeApi.ACCEPTED);
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
                            : verb.equals("response") ? responseEvent(req) : errorEvent(req);
                    return reply(req, api.answer(id, event));
                }
            }
        }
        return reply(req, RuntimeApi.Reply.json(404, "NotFound", "Unknown path " + safe(path)));
    }

    /**
     * A {@code POST /response} in {@code streaming} mode (Lambda-Runtime-Function-Response-Mode) for the invocation in
     * flight, when its caller takes a stream: the body goes to that stream as it arrives. Anything else is read whole
     * (a streaming function invoked through Invoke is buffered up to 6 MB, as Lambda does).
     */
    private HttpConnection.Streamed route(String method, String path, java.util.Map<String, String> headers) {
        if (!method.equals("POST") || !"streaming".equalsIgnoreCase(headers.get("lambda-runtime-function-response-mode"))) {
            return null;
        }
        String p = path.indexOf('?') >= 0 ? path.substring(0, path.indexOf('?')) : path;
        String start = PREFIX + "invocation/";
        if (!p.startsWith(start) || !p.endsWith("/response")) {
            return null;
        }
        String id = p.substring(start.length(), p.length() - "/response".length());
        ResponseStream stream = api.streamFor(id);
        if (stream == null) {
            return null;
        }
        stream.begin(headers.get("content-type"));
        return new HttpConnection.Streamed(stream, stream.limit());
    }

    /** The answer in a /response: its body, or the runtime's mid-stream error from its trailers. */
    private RuntimeEvent responseEvent(HttpRequest req) {
        String errorType = req.header("lambda-runtime-function-error-type");
        if (errorType != null) {
            return new RuntimeEvent.Error(trailerBody(req.header("lambda-runtime-function-error-body"), errorType), errorType);
        }
        return new RuntimeEvent.Response(req.body());
    }

    /** The error body trailer: base64 of the error's JSON, as AWS's runtimes send it; else its text; else a minimal one. */
    private static byte[] trailerBody(String value, String errorType) {
        if (value == null || value.isEmpty()) {
            return ("{\"errorType\":\"" + safe(errorType) + "\",\"errorMessage\":\"\"}").getBytes(StandardCharsets.UTF_8);
        }
        try {
            return java.util.Base64.getDecoder().decode(value);
        } catch (IllegalArgumentException e) {
            return value.getBytes(StandardCharsets.UTF_8);
        }
    }

    private static RuntimeEvent.Error errorEvent(HttpRequest req) {
        return new RuntimeEvent.Error(req.body(), req.header("lambda-runtime-function-error-type"));
    }

    /** GET /next on the connection's own thread; false when the connection must close. */
    private boolean next() throws IOException, InterruptedException {
        return switch (api.next(this)) {
            case RuntimeApi.Next.Work work -> {
                writeNext(work.invocation());
                yield true;
            }
            case RuntimeApi.Next.Resumed resumed -> true; // an invoking thread answered this /next and served the connection
            case RuntimeApi.Next.Busy busy -> {
                unansweredNext();
                yield false;
            }
            case RuntimeApi.Next.Gone gone -> false; // the sandbox closed while it waited
        };
    }

    private void unansweredNext() throws IOException {
        RuntimeApi.Reply r = RuntimeApi.Reply.json(403, "InvalidStateTransition",
                "State transition from Invoking to InvocationNext failed: the current invocation is unanswered");
        http.write(403, "Forbidden", r.body(), true, r.headers());
    }

    private void writeNext(Invocation inv) throws IOException {
        http.write(200, "OK", inv.payload(), false,
                "Content-Type", "application/json",
                "Lambda-Runtime-Aws-Request-Id", inv.requestId(),
                "Lambda-Runtime-Deadline-Ms", Long.toString(inv.deadlineEpochMs()),
                "Lambda-Runtime-Invoked-Function-Arn", inv.invokedFunctionArn(),
                "Lambda-Runtime-Trace-Id", inv.traceId(),
                "Lambda-Runtime-Client-Context", inv.clientContext(),
                "Lambda-Runtime-Cognito-Identity", inv.cognitoIdentity());
    }

    private boolean reply(HttpRequest req, RuntimeApi.Reply r) throws IOException {
        boolean close = !req.keepAlive();
        http.write(r.status(), reason(r.status()), r.body(), close, r.headers());
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
}

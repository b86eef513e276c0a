package dev.ignis.frontend;

import dev.ignis.common.LambdaException;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.webserver.http1.Http1Config;
import io.helidon.webserver.http1.Http1ConnectionListener;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * The frontend's HTTP listener: Helidon SE WebServer on virtual threads, every request to a {@link Handler}.
 *
 * <p>Design note: every byte a client sends is hostile until its signature says otherwise, so a
 * request's head is judged before any body byte is read ({@link Handler#admit}): an unsigned or
 * unknown-key request, or one declaring more than its operation accepts, is answered at once and
 * its connection closed, the body never read. An admitted body is read within the admitted bound
 * (a chunked one is cut as it streams). What a connection may hold is bounded too: a number of
 * connections (more wait in the kernel's accept queue), an idle timeout (which also bounds a
 * request line trickled in), and deadlines for the headers and the body ({@link ReadDeadlines}).
 * The health probes ({@link Health}: {@code GET /healthz}, {@code /readyz}) are answered from the
 * head too, unauthenticated, ahead of the handler.
 */
public final class FrontendServer implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(FrontendServer.class);
    /** CreateFunction carries up to 50 MB of zip as base64 in JSON: AWS's own bound for the request. */
    public static final long MAX_REQUEST = 69_905_067L;
    /** Helidon's own bound: above it Helidon refuses the request before we see it (not in AWS's shape). */
    private static final long MAX_DECLARED = 128L * 1024 * 1024;
    /** A refused unauthenticated request's body up to this size is read and dropped after the answer. */
    private static final long DRAIN_UNAUTHENTICATED = 64 * 1024;
    private static final byte[] NO_BODY = new byte[0];
    private final WebServer server;
    private final ReadDeadlines deadlines;
    private final Limits limits;
    private final Health health;

    /** What answers a request: {@link LambdaApi} itself, or (in cluster mode) a router in front of it. */
    public interface Handler {
        /**
         * Judges a request by its head alone (method, path, query, headers; no body byte read yet):
         * the admission says how many body bytes it may carry; a {@link LambdaException} refuses it.
         */
        Admission admit(ApiRequest head);

        /** True for a request this frontend must answer itself, never forwarded (a function URL's: it is an invoke). */
        default boolean servesLocally(ApiRequest head) {
            return false;
        }

        /** The answer to a request refused by {@link #admit} (or by its body's bound). */
        default ApiResponse refuse(ApiRequest head, LambdaException e) {
            return ApiResponse.error(e, UUID.randomUUID().toString());
        }

        /** Answers a request admitted by {@link #admit}, its body read within the admission's bound. */
        ApiResponse handle(ApiRequest request, Admission admission);

        /** Answers a request whose body is already in hand (e.g. forwarded by a frontend that bounded it). */
        default ApiResponse handle(ApiRequest request) {
            Admission admission;
            try {
                admission = admit(request);
            } catch (LambdaException e) {
                return ApiResponse.error(e, UUID.randomUUID().toString());
            }
            return handle(request, admission);
        }
    }

    /**
     * A request let in by its head.
     *
     * @param operation the operation's name, for the error that refuses a body over {@code maxBody}
     * @param maxBody   the most body bytes the operation accepts
     * @param signed    the checked SigV4 head, or null for requests that are not SigV4-signed
     */
    public record Admission(String operation, long maxBody, SigV4Verifier.Signed signed) {}

    /**
     * What one connection may hold.
     *
     * @param maxConnections       connections served at once; more wait to be accepted
     * @param idleTimeout          a connection between requests (or trickling a request line) is closed after this
     * @param headerTimeout        the headers must have arrived this long after the request line
     * @param minBodyBytesPerSecond an admitted body must arrive within {@code headerTimeout} plus its size at this rate
     */
    public record Limits(int maxConnections, Duration idleTimeout, Duration headerTimeout, long minBodyBytesPerSecond) {
        public Limits {
            if (maxConnections < 1 || idleTimeout.isNegative() || idleTimeout.isZero() || headerTimeout.isNegative()
                    || headerTimeout.isZero() || minBodyBytesPerSecond < 1) {
                throw new IllegalArgumentException("frontend limits must be positive: " + maxConnections + ", " + idleTimeout + ", "
                        + headerTimeout + ", " + minBodyBytesPerSecond);
            }
        }

        /**
         * 4,096 connections, 60 s idle (as AWS's load balancers), 10 s for the headers, bodies at
         * 256 KiB/s or faster; each overridable with a system property
         * ({@code ignis.frontend.max-connections}, {@code ignis.frontend.idle-timeout-seconds},
         * {@code ignis.frontend.header-timeout-seconds}, {@code ignis.frontend.min-body-bytes-per-second}).
         */
        public static Limits defaults() {
            return new Limits(Integer.getInteger("ignis.frontend.max-connections", 4096),
                    Duration.ofSeconds(Long.getLong("ignis.frontend.idle-timeout-seconds", 60)),
                    Duration.ofSeconds(Long.getLong("ignis.frontend.header-timeout-seconds", 10)),
                    Long.getLong("ignis.frontend.min-body-bytes-per-second", 256 * 1024));
        }

        long bodyTimeoutNanos(long bytes) {
            return headerTimeout.toNanos() + (long) (bytes * 1e9 / minBodyBytesPerSecond);
        }
    }

    public FrontendServer(String host, int port, Handler api) {
        this(host, port, api, Limits.defaults());
    }

    public FrontendServer(String host, int port, Handler api, Limits limits) {
        this(host, port, api, limits, null);
    }

    /** @param health answers {@code /healthz} and {@code /readyz} ahead of {@code api}; null: no probes */
    public FrontendServer(String host, int port, Handler api, Health health) {
        this(host, port, api, Limits.defaults(), health);
    }

    public FrontendServer(String host, int port, Handler api, Limits limits, Health health) {
        this.limits = limits;
        this.health = health;
        Duration tick = tick(limits);
        this.deadlines = new ReadDeadlines(tick);
        long headerNanos = limits.headerTimeout().toNanos();
        var headerDeadline = new Http1ConnectionListener() {
            @Override
            public void prologue(ConnectionContext ctx, HttpPrologue prologue) {
                deadlines.arm(headerNanos);
            }

            @Override
            public void headers(ConnectionContext ctx, Headers headers) {
                deadlines.clear();
            }
        };
        this.server = WebServer.builder()
                .host(host)
                .port(port)
                .maxPayloadSize(MAX_DECLARED)
                // a streamed answer's chunks go out as flushed: without it Nagle holds each small chunk until the
                // client's delayed ACK of the one before (~40 ms)
                .connectionOptions(o -> o.tcpNoDelay(true))
                .maxTcpConnections(limits.maxConnections())
                .idleConnectionTimeout(limits.idleTimeout())
                .idleConnectionPeriod(tick)
                .addProtocol(Http1Config.builder().addReceiveListener(headerDeadline).build())
                .routing(r -> r.any((req, res) -> serve(api, req, res)))
                .build()
                .start();
        if (!server.isRunning() || server.port() <= 0) {
            server.stop();
            deadlines.close();
            throw new IllegalStateException("cannot listen on " + host + ":" + port + " (in use, or not an address of this host)");
        }
    }

    /** How often timeouts are looked at: a quarter of the shortest, between 50 ms and 1 s. */
    private static Duration tick(Limits limits) {
        long shortest = Math.min(limits.idleTimeout().toMillis(), limits.headerTimeout().toMillis());
        return Duration.ofMillis(Math.clamp(shortest / 4, 50, 1000));
    }

    public int port() {
        return server.port();
    }

    private void serve(Handler api, ServerRequest req, ServerResponse res) {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        req.headers().forEach(h -> headers.computeIfAbsent(h.name().toLowerCase(Locale.ROOT), k -> new ArrayList<>()).addAll(h.allValues()));
        // the peer's address, for function URL events (sourceIp): the connection's, never a client's header of that name
        headers.put(UrlEvent.SOURCE_IP, List.of(req.remotePeer().address() instanceof java.net.InetSocketAddress a && a.getAddress() != null
                ? a.getAddress().getHostAddress() : ""));
        String method = req.prologue().method().text();
        String path = req.path().rawPath();
        String query = req.query().rawValue();
        if (health != null && Health.isProbe(method, path)) {
            // probes are answered from the head alone, before any admission; a body is never read
            lingerOrClose(req, res, DRAIN_UNAUTHENTICATED);
            send(res, health.answer(path));
            return;
        }
        byte[] body;
        Admission admission;
        var head = new ApiRequest(method, path, query, headers, NO_BODY);
        try {
            admission = api.admit(head);
            body = body(req, admission);
        } catch (LambdaException e) {
            lingerOrClose(req, res, e.status() == 413 ? MAX_DECLARED : DRAIN_UNAUTHENTICATED);
            send(res, api.refuse(head, e));
            return;
        }
        send(res, api.handle(new ApiRequest(method, path, query, headers, body), admission));
    }

    private static void send(ServerResponse res, ApiResponse out) {
        res.status(out.status());
        out.headers().forEach((k, v) -> res.header(HeaderNames.create(k), v));
        if (!out.cookies().isEmpty()) {
            res.header(HeaderNames.SET_COOKIE, out.cookies().toArray(String[]::new));
        }
        if (out.stream() == null) {
            res.send(out.body());
            return;
        }
        // no Content-Length: Helidon sends the body chunked, each flush a chunk on the wire. Closed only when the stream
        // ended well: closing writes the last chunk, and a stream cut by an error must not look complete to the client
        // (the handler's exception makes Helidon close the connection instead)
        try {
            var body = res.outputStream();
            out.stream().writeTo(body);
            body.close();
        } catch (IOException | UncheckedIOException e) {
            // the client went away mid-stream, or the stream ended abnormally: the connection closes unfinished
            LOG.debug("streamed response ended early: {}", e.toString());
            throw new UncheckedIOException(e instanceof IOException io ? io : ((UncheckedIOException) e).getCause());
        }
    }

    /**
     * The request body, at most the admitted size, read before its deadline. With a Content-Length
     * it is read straight into an array of that size (readAllBytes would gather it through a 16 KB
     * buffer and copy it again); a chunked body grows as it arrives and is cut one byte past the bound.
     */
    private byte[] body(ServerRequest req, Admission admission) {
        if (!req.content().hasEntity()) {
            return NO_BODY;
        }
        long max = admission.maxBody();
        var length = req.headers().contentLength();
        if (length.isPresent() && length.getAsLong() > max) {
            throw tooLarge(admission);
        }
        deadlines.arm(limits.bodyTimeoutNanos(length.isPresent() ? length.getAsLong() : max));
        byte[] body;
        try (var in = req.content().inputStream()) {
            if (length.isPresent()) {
                body = in.readNBytes((int) length.getAsLong());
                if (body.length != length.getAsLong()) {
                    throw new UncheckedIOException(new EOFException("request body ended early"));
                }
            } else {
                body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            deadlines.clear();
        }
        if (body.length > max) {
            throw tooLarge(admission);
        }
        return body;
    }

    /**
     * A refused request's unread body: a client still sending it when the answer comes, and then
     * reset by a close, may lose the answer. So a body of at most {@code limit} declared bytes is
     * left to Helidon to read and drop after the answer (nothing is kept), within the header
     * timeout; anything larger or chunked closes the connection unread.
     */
    private void lingerOrClose(ServerRequest req, ServerResponse res, long limit) {
        if (!req.content().hasEntity()) {
            return;
        }
        var length = req.headers().contentLength();
        if (length.isEmpty() || length.getAsLong() > limit) {
            res.header(HeaderValues.CONNECTION_CLOSE);
        } else {
            deadlines.arm(limits.headerTimeout().toNanos()); // the next request line re-arms it
        }
    }

    private static LambdaException tooLarge(Admission admission) {
        return new LambdaException(413, "RequestEntityTooLargeException",
                "Request must be smaller than " + admission.maxBody() + " bytes for the " + admission.operation() + " operation");
    }

    @Override
    public void close() {
        server.stop();
        deadlines.close();
    }
}

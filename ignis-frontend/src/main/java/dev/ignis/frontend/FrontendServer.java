package dev.ignis.frontend;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The frontend's HTTP listener: Helidon SE WebServer on virtual threads, every request to {@link LambdaApi}. */
public final class FrontendServer implements AutoCloseable {
    /** CreateFunction carries up to 50 MB of zip as base64 in JSON. */
    private static final long MAX_REQUEST = 70L * 1024 * 1024;
    private final WebServer server;

    /** What answers a request: {@link LambdaApi} itself, or (in cluster mode) a router in front of it. */
    public interface Handler {
        ApiResponse handle(ApiRequest request);
    }

    public FrontendServer(String host, int port, LambdaApi api) {
        this(host, port, (Handler) api::handle);
    }

    public FrontendServer(String host, int port, Handler api) {
        this.server = WebServer.builder()
                .host(host)
                .port(port)
                .maxPayloadSize(MAX_REQUEST)
                .routing(r -> r.any((req, res) -> serve(api, req, res)))
                .build()
                .start();
        if (!server.isRunning() || server.port() <= 0) {
            server.stop();
            throw new IllegalStateException("cannot listen on " + host + ":" + port + " (in use, or not an address of this host)");
        }
    }

    public int port() {
        return server.port();
    }

    private static void serve(Handler api, ServerRequest req, ServerResponse res) {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        req.headers().forEach(h -> headers.computeIfAbsent(h.name().toLowerCase(Locale.ROOT), k -> new ArrayList<>()).addAll(h.allValues()));
        byte[] body = body(req);
        var out = api.handle(new ApiRequest(req.prologue().method().text(), req.path().rawPath(), req.query().rawValue(), headers, body));
        res.status(out.status());
        out.headers().forEach((k, v) -> res.header(HeaderNames.create(k), v));
        res.send(out.body());
    }

    /**
     * The request body. With a Content-Length it is read straight into an array of that size
     * (readAllBytes would gather it through a 16 KB buffer and copy it again).
     */
    private static byte[] body(ServerRequest req) {
        if (!req.content().hasEntity()) {
            return new byte[0];
        }
        var length = req.headers().contentLength();
        if (length.isPresent() && length.getAsLong() <= MAX_REQUEST) {
            try (var in = req.content().inputStream()) {
                byte[] body = in.readNBytes((int) length.getAsLong());
                if (body.length != length.getAsLong()) {
                    throw new java.io.UncheckedIOException(new java.io.EOFException("request body ended early"));
                }
                return body;
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return req.content().as(byte[].class);
    }

    @Override
    public void close() {
        server.stop();
    }
}

package dev.ignis.frontend;

import io.helidon.webserver.WebServer;

/**
 * The benchmark floor: the same HTTP server the frontend uses, answering every request with its
 * own body and nothing else. Warm-invoke overhead is reported against it, measured in the same run.
 */
public final class EchoServer implements AutoCloseable {
    private final WebServer server;

    public EchoServer() {
        server = WebServer.builder().host("127.0.0.1").port(0).maxPayloadSize(8L * 1024 * 1024)
                .routing(r -> r.any((req, res) -> res.send(req.content().hasEntity() ? req.content().as(byte[].class) : new byte[0])))
                .build().start();
    }

    public int port() {
        return server.port();
    }

    @Override
    public void close() {
        server.stop();
    }
}

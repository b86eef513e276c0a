package dev.ignis.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** /readyz follows its checks (503 until each passes); probes are answered before the handler sees anything. */
class HealthProbeTest {
    private final AtomicInteger handled = new AtomicInteger();
    private final FrontendServer.Handler refuseAll = new FrontendServer.Handler() {
        @Override
        public FrontendServer.Admission admit(ApiRequest head) {
            handled.incrementAndGet();
            throw new dev.ignis.common.LambdaException(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
        }

        @Override
        public ApiResponse handle(ApiRequest request, FrontendServer.Admission admission) {
            handled.incrementAndGet();
            return ApiResponse.empty(500);
        }
    };
    private FrontendServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private HttpResponse<String> get(String path) throws Exception {
        try (var http = HttpClient.newHttpClient()) {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).build(),
                    HttpResponse.BodyHandlers.ofString());
        }
    }

    @Test
    void readyzIs503UntilEveryCheckPasses() throws Exception {
        var leader = new AtomicBoolean(false);
        server = new FrontendServer("127.0.0.1", 0, refuseAll, new Health(List.of(
                new Health.Check("config journal leader known", leader::get),
                new Health.Check("runtimes installed", () -> { throw new IllegalStateException("/secret/path unreadable"); }))));
        var notReady = get("/readyz");
        assertThat(notReady.statusCode()).isEqualTo(503);
        assertThat(notReady.body()).isEqualTo(
                "{\"status\":\"not ready\",\"checks\":{\"config journal leader known\":\"failing\",\"runtimes installed\":\"failing\"}}");
        assertThat(get("/healthz").statusCode()).isEqualTo(200);

        server.close();
        leader.set(true);
        server = new FrontendServer("127.0.0.1", 0, refuseAll, new Health(List.of(new Health.Check("config journal leader known", leader::get))));
        var ready = get("/readyz");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).isEqualTo("{\"status\":\"ready\",\"checks\":{\"config journal leader known\":\"ok\"}}");
        leader.set(false);
        assertThat(get("/readyz").statusCode()).isEqualTo(503);
        assertThat(handled).hasValue(0);
        // other paths still go to the handler's admission
        assertThat(get("/readyz/x").statusCode()).isEqualTo(403);
        assertThat(handled).hasValue(1);
    }

    @Test
    void aProbeWithAHugeDeclaredBodyIsAnsweredAndTheBodyNeverRead() throws Exception {
        server = new FrontendServer("127.0.0.1", 0, refuseAll, new Health(List.of()));
        try (var s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String answer = readAll(s.getInputStream());
            assertThat(answer).startsWith("HTTP/1.1 200").contains("{\"status\":\"ok\"}").containsIgnoringCase("connection: close");
        }
        assertThat(handled).hasValue(0);
    }

    /** Reads one answer: the head, then as many body bytes as it declares. */
    private static String readAll(InputStream in) throws IOException {
        var out = new ByteArrayOutputStream();
        while (!out.toString(StandardCharsets.US_ASCII).contains("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            out.write(b);
        }
        String head = out.toString(StandardCharsets.US_ASCII);
        var m = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
        return head + new String(in.readNBytes(m.find() ? Integer.parseInt(m.group(1)) : 0), StandardCharsets.US_ASCII);
    }
}

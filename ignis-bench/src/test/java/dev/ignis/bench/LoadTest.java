package dev.ignis.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The load generator against a loopback server that marks every tenth answer as a cold start the
 * way Ignis does (X-Ignis-Init-Duration) and fails every 50th: counts, the warm/cold split, errors,
 * the open loop's pacing, and the report files.
 */
class LoadTest {
    HttpServer server;
    final AtomicInteger served = new AtomicInteger();
    Load.Endpoint endpoint;
    final Load.Plan plan = (c, i) -> new Load.Request("POST", "/2015-03-31/functions/f/invocations", Map.of(), "{}".getBytes());

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            byte[] in = ex.getRequestBody().readAllBytes();
            int n = served.incrementAndGet();
            assertThat(ex.getRequestHeaders().getFirst("Authorization")).startsWith("AWS4-HMAC-SHA256 Credential=AKIDTEST/");
            if (n % 10 == 0) {
                ex.getResponseHeaders().add("X-Ignis-Init-Duration", "123.45");
            }
            ex.sendResponseHeaders(n % 50 == 0 ? 500 : 200, in.length);
            ex.getResponseBody().write(in);
            ex.close();
        });
        server.start();
        endpoint = new Load.Endpoint("test", "127.0.0.1", server.getAddress().getPort(), new Signer("AKIDTEST", "secret"));
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void closedLoopCountsAndSplitsByThePlatformsRecord() throws Exception {
        PhaseResult r = Load.closed("closed", endpoint, plan, 4, 500, Duration.ofMinutes(1));
        assertThat(r.count() + r.errors()).isEqualTo(500);
        assertThat(r.errors()).isEqualTo(10);
        assertThat(r.firstError()).contains("HTTP 500");
        // every tenth answer is cold; every 50th (also a tenth) failed and is not in the histograms
        assertThat(r.cold().getTotalCount()).isEqualTo(40);
        assertThat(r.warm().getTotalCount()).isEqualTo(450);
        assertThat(Load.ms(r.init(), 50)).isBetween(123.0, 124.0);
        assertThat(r.cpuSeconds()).as("machine CPU spent during the phase, from /proc/stat").isNotNaN().isGreaterThanOrEqualTo(0);
        assertThat(r.signing().getTotalCount()).isEqualTo(500);
    }

    @Test
    void openLoopKeepsItsSchedule() throws Exception {
        long t0 = System.nanoTime();
        PhaseResult r = Load.open("open", endpoint, plan, 200, Duration.ofSeconds(1), 64);
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertThat(r.count() + r.errors()).isEqualTo(200);
        assertThat(seconds).isGreaterThanOrEqualTo(0.99);
    }

    @Test
    void reportWritesJsonHtmlAndPng(@TempDir Path dir) throws Exception {
        PhaseResult r = Load.closed("warm", endpoint, plan, 2, 100, Duration.ofMinutes(1));
        var report = new Report("t", "cmd", "machine", "date", List.of(r), List.of(new Report.Comparison("test warm", "echo", "p50", 2, 1, "ms")),
                List.of("test/warm"), List.of(new Report.Curve("test", List.of(new double[] {1, 100}, new double[] {2, 150}))), List.of("a note"));
        report.write(dir);
        assertThat(Files.readString(dir.resolve("t.json"))).contains("\"ratio\" : 2.0", "\"warmMs\"");
        assertThat(Files.readString(dir.resolve("t.html"))).contains("data:image/png;base64,", "×2.00", "a note");
        byte[] png = Files.readAllBytes(dir.resolve("t.png"));
        assertThat(png).startsWith((byte) 0x89, (byte) 'P', (byte) 'N', (byte) 'G');
        long[] bins = LatencyChart.bins(r.warm());
        assertThat(java.util.Arrays.stream(bins).sum()).isEqualTo(r.warm().getTotalCount());
    }
}

package dev.ignis.worker.runtimeapi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The Runtime API as a hostile runtime uses it: real servers on loopback sockets, the sandbox's
 * side played by plain sockets that declare more than they send, stall half-way, or send more
 * than the worker may hold.
 */
class RuntimeApiHostileClientTest {
    private static final String RESPONSE = "/2018-06-01/runtime/invocation/x/response";
    private static final String NEXT = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n";

    private final List<AutoCloseable> closeLater = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closeLater.reversed()) {
            c.close();
        }
    }

    /** One sandbox's Runtime API server and the port its runtime connects to. */
    private record Sandbox(RuntimeApi api, int port) {}

    /** A sandbox's server whose bodies count against the worker's {@code budget}. */
    private Sandbox server(BodyBudget budget, Duration readTimeout) throws IOException {
        ServerSocketChannel ch = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        RuntimeApi api = new RuntimeApi();
        closeLater.add(new RuntimeApiServer(ch, api, "hostile", budget, readTimeout));
        return new Sandbox(api, ((InetSocketAddress) ch.getLocalAddress()).getPort());
    }

    private Sandbox server() throws IOException {
        return server(new BodyBudget(256L << 20), Duration.ofSeconds(30));
    }

    private Socket connect(Sandbox s) throws IOException {
        Socket c = new Socket(InetAddress.getLoopbackAddress(), s.port());
        c.setSoTimeout(10_000);
        closeLater.add(c);
        return c;
    }

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getTotalThreadAllocatedBytes();
    }

    @Test
    void headerOnlyRequestsDeclaringSixMegabytesOnEveryConnectionOfManySandboxesPinNoHeap() throws Exception {
        int sandboxes = 16;
        int perSandbox = RuntimeApiServer.MAX_CONNECTIONS;
        BodyBudget worker = new BodyBudget(256L << 20);
        long before = allocatedBytes();
        List<Socket> sockets = new ArrayList<>();
        for (int i = 0; i < sandboxes; i++) {
            Sandbox s = server(worker, Duration.ofSeconds(30));
            for (int j = 0; j < perSandbox; j++) {
                Socket c = connect(s);
                // half declare a 6 MB body, half a 6 MB chunk; neither sends a byte of it
                String head = j % 2 == 0
                        ? "POST " + RESPONSE + " HTTP/1.1\r\nContent-Length: " + RuntimeApi.MAX_RESPONSE_BYTES + "\r\n\r\n"
                        : "POST " + RESPONSE + " HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(6 * 1024 * 1024) + "\r\n";
                c.getOutputStream().write(head.getBytes(StandardCharsets.ISO_8859_1));
                c.getOutputStream().flush();
                sockets.add(c);
            }
        }
        Thread.sleep(1500); // every connection's thread has read its head and waits for the body
        long allocated = allocatedBytes() - before;
        long declared = (long) sandboxes * perSandbox * 6 * 1024 * 1024;
        assertThat(allocated).as("bytes allocated while %d connections declared %d MB they never sent", sockets.size(), declared >> 20)
                .isLessThan(64L * 1024 * 1024);
        assertThat(worker.held()).as("budget held by bodies that sent nothing").isZero();

        // one byte of each body: each grows to its first array, not to what it declared
        for (Socket c : sockets) {
            c.getOutputStream().write('a');
        }
        Thread.sleep(1000);
        assertThat(worker.held()).isEqualTo(sockets.size() * (long) HttpConnection.INITIAL_BODY_BYTES);
        assertThat(allocatedBytes() - before).isLessThan(64L * 1024 * 1024);
        for (Socket c : sockets) {
            c.close();
        }
        await(() -> worker.held() == 0, "the bodies of closed connections are released");
    }

    private static void await(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what).isLessThan(end);
            Thread.sleep(20);
        }
    }

    @Test
    void aRequestThatStallsHalfSentIsClosedAfterTheReadTimeout() throws Exception {
        BodyBudget worker = new BodyBudget(256L << 20);
        Sandbox s = server(worker, Duration.ofMillis(300));
        String[] halves = {
            "G",
            "POST " + RESPONSE + " HTTP/1.1\r\nContent-Le",
            "POST " + RESPONSE + " HTTP/1.1\r\nContent-Length: 100000\r\n\r\n" + "a".repeat(70_000),
            "POST " + RESPONSE + " HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",
        };
        List<Socket> sockets = new ArrayList<>();
        for (String half : halves) {
            Socket c = connect(s);
            c.getOutputStream().write(half.getBytes(StandardCharsets.ISO_8859_1));
            c.getOutputStream().flush();
            sockets.add(c);
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < halves.length; i++) {
            assertThat(sockets.get(i).getInputStream().read()).as("closed: %s", halves[i].substring(0, Math.min(40, halves[i].length())))
                    .isEqualTo(-1);
        }
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(250), Duration.ofSeconds(5));
        await(() -> worker.held() == 0, "the stalled body was released");
    }

    @Test
    void aRequestDrippingAByteNowAndThenIsClosedAfterTheReadTimeoutToo() throws Exception {
        BodyBudget worker = new BodyBudget(256L << 20);
        Sandbox s = server(worker, Duration.ofMillis(500));
        Socket c = connect(s);
        c.getOutputStream().write(("POST " + RESPONSE + " HTTP/1.1\r\nContent-Length: 100000\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        long t0 = System.nanoTime();
        try {
            for (int i = 0; i < 50; i++) { // 5 s of one byte per 100 ms, each well within the timeout
                c.getOutputStream().write('d');
                c.getOutputStream().flush();
                Thread.sleep(100);
            }
        } catch (IOException closed) {
            // the server closed the connection while the client was still dripping
        }
        c.setSoTimeout(100);
        assertThat(closed(c)).isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(4));
        await(() -> worker.held() == 0, "the dripped body was released");
    }

    @Test
    void aParkedNextAndARuntimeComputingItsAnswerAreNeverTimedOut() throws Exception {
        Sandbox s = server(new BodyBudget(256L << 20), Duration.ofMillis(200));
        Socket c = connect(s);
        c.getOutputStream().write(NEXT.getBytes(StandardCharsets.ISO_8859_1));
        s.api().init().get(5, TimeUnit.SECONDS);
        Thread.sleep(800); // parked at /next, well past the read timeout
        Invocation inv = inv("p1");
        s.api().offer(inv);
        assertThat(status(c.getInputStream())).isEqualTo(200);
        c.getInputStream().readNBytes(inv.payload().length);
        Thread.sleep(800); // the function computes
        String body = "\"done\"";
        c.getOutputStream().write(post("p1", body).getBytes(StandardCharsets.ISO_8859_1));
        assertThat(status(c.getInputStream())).isEqualTo(202);
        assertThat(inv.result().get(5, TimeUnit.SECONDS)).isInstanceOfSatisfying(RuntimeEvent.Response.class,
                r -> assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(body));
    }

    @Test
    void aResponseBeyondTheWorkersBodyBudgetIsRefusedAndTheBudgetIsWholeAfter() throws Exception {
        BodyBudget worker = new BodyBudget(1L << 20);
        Sandbox hostile = server(worker, Duration.ofSeconds(30));
        Sandbox other = server(worker, Duration.ofSeconds(30));

        Socket c = connect(hostile);
        Invocation inv = deliver(hostile, c, "big");
        byte[] big = post("big", "a".repeat(2 << 20)).getBytes(StandardCharsets.ISO_8859_1);
        Thread writer = Thread.ofVirtual().start(() -> {
            try {
                c.getOutputStream().write(big);
            } catch (IOException expected) {
                // the server stops reading and closes once the budget refuses the body
            }
        });
        assertThat(inv.result().get(10, TimeUnit.SECONDS)).isInstanceOfSatisfying(RuntimeEvent.TooLarge.class,
                t -> assertThat(t.limit()).isLessThanOrEqualTo(worker.limit()));
        assertThat(writer.join(Duration.ofSeconds(10))).isTrue();
        await(() -> worker.held() == 0, "the refused body's bytes are back in the budget");
        assertThat(closed(c)).as("the connection that sent the refused body is closed").isTrue();

        // the worker carries on: another sandbox's response within the budget goes through
        Socket d = connect(other);
        Invocation ok = deliver(other, d, "ok");
        String body = "b".repeat(512 * 1024);
        d.getOutputStream().write(post("ok", body).getBytes(StandardCharsets.ISO_8859_1));
        assertThat(status(d.getInputStream())).isEqualTo(202);
        assertThat(ok.result().get(5, TimeUnit.SECONDS)).isInstanceOfSatisfying(RuntimeEvent.Response.class,
                r -> assertThat(r.body()).hasSize(body.length()));
        await(() -> worker.held() == 0, "a handled body's bytes are back in the budget");
    }

    @Test
    void oneSandboxsConnectionsCannotTakeTheWorkersWholeBodyBudget() throws Exception {
        BodyBudget worker = new BodyBudget(40L << 20); // less than eight 6 MB bodies
        Sandbox hostile = server(worker, Duration.ofSeconds(30));
        Sandbox other = server(worker, Duration.ofSeconds(30));
        byte[] fiveOfSix = ("POST " + RESPONSE + " HTTP/1.1\r\nContent-Length: " + (6 << 20) + "\r\n\r\n" + "h".repeat(5 << 20))
                .getBytes(StandardCharsets.ISO_8859_1);
        List<Thread> writers = new ArrayList<>();
        for (int i = 0; i < RuntimeApiServer.MAX_CONNECTIONS; i++) {
            Socket c = connect(hostile);
            writers.add(Thread.ofVirtual().start(() -> {
                try {
                    c.getOutputStream().write(fiveOfSix); // then stall, holding what was sent
                } catch (IOException refused) {
                    // closed by the server: the sandbox's share of the budget was spent
                }
            }));
        }
        for (Thread w : writers) {
            assertThat(w.join(Duration.ofSeconds(20))).isTrue();
        }
        assertThat(worker.held()).isPositive().isLessThanOrEqualTo(RuntimeApiServer.SANDBOX_BODY_BYTES);

        Socket d = connect(other);
        Invocation ok = deliver(other, d, "six");
        String body = "s".repeat(6 << 20);
        d.getOutputStream().write(post("six", body).getBytes(StandardCharsets.ISO_8859_1));
        assertThat(status(d.getInputStream())).isEqualTo(202);
        assertThat(ok.result().get(5, TimeUnit.SECONDS)).isInstanceOfSatisfying(RuntimeEvent.Response.class,
                r -> assertThat(r.body()).hasSize(body.length()));
    }

    /** The runtime on {@code c} asks for work and gets {@code id}'s event. */
    private static Invocation deliver(Sandbox s, Socket c, String id) throws Exception {
        c.getOutputStream().write(NEXT.getBytes(StandardCharsets.ISO_8859_1));
        s.api().init().get(5, TimeUnit.SECONDS);
        Invocation inv = inv(id);
        s.api().offer(inv);
        assertThat(status(c.getInputStream())).isEqualTo(200);
        c.getInputStream().readNBytes(inv.payload().length);
        return inv;
    }

    /** Whether the server closed {@code c}: end of stream, or a reset (it closed with the client's bytes unread). */
    private static boolean closed(Socket c) {
        try {
            InputStream in = c.getInputStream();
            while (true) {
                if (in.read() < 0) {
                    return true; // an answer (413) may come first
                }
            }
        } catch (java.net.SocketTimeoutException stillOpen) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    private static Invocation inv(String id) {
        return new Invocation(id, ("{\"id\":\"" + id + "\"}").getBytes(StandardCharsets.UTF_8), System.currentTimeMillis() + 60_000,
                "arn:aws:lambda:us-east-1:000000000000:function:f", "t", null, null, new CompletableFuture<>());
    }

    private static String post(String id, String body) {
        return "POST /2018-06-01/runtime/invocation/" + id + "/response HTTP/1.1\r\nHost: x\r\nContent-Length: "
                + body.length() + "\r\n\r\n" + body;
    }

    @Test
    void aHeadOfThousandsOfTinyHeadersIsRefused() throws Exception {
        Sandbox s = server();
        Socket c = connect(s);
        StringBuilder head = new StringBuilder("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n");
        for (int i = 0; i < 5000; i++) {
            head.append('h').append(i).append(":\r\n"); // each a map entry of ~100 bytes for ~7 bytes sent
        }
        c.getOutputStream().write(head.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
        assertThat(status(c.getInputStream())).isEqualTo(400);
    }

    private static int status(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed after " + head);
            }
            head.write(b);
        }
        return Integer.parseInt(head.toString(StandardCharsets.ISO_8859_1).substring(9, 12));
    }
}

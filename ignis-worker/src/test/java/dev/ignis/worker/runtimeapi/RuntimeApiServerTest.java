package dev.ignis.worker.runtimeapi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Runtime API server over a real loopback socket: answers in request order, the held-back 202. */
class RuntimeApiServerTest {
    private static final String NEXT = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n";

    private RuntimeApi api;
    private RuntimeApiServer server;
    private Socket client;

    @BeforeEach
    void start() throws IOException {
        ServerSocketChannel ch = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        api = new RuntimeApi();
        server = new RuntimeApiServer(ch, api, "test");
        client = new Socket(InetAddress.getLoopbackAddress(), ((InetSocketAddress) ch.getLocalAddress()).getPort());
        client.setSoTimeout(10_000);
    }

    @AfterEach
    void stop() throws IOException {
        client.close();
        server.close();
    }

    private static Invocation inv(String id) {
        return new Invocation(id, ("{\"id\":\"" + id + "\"}").getBytes(StandardCharsets.UTF_8), System.currentTimeMillis() + 60_000,
                "arn:aws:lambda:us-east-1:000000000000:function:f", "t", null, null, new CompletableFuture<>());
    }

    /** Reads one response: status line, headers, Content-Length body; returns "status requestId body". */
    private static String response(InputStream in) throws IOException {
        String head = readHead(in);
        int status = Integer.parseInt(head.substring(9, 12));
        String rid = header(head, "lambda-runtime-aws-request-id");
        int length = Integer.parseInt(header(head, "content-length"));
        String body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
        return status + " " + rid + " " + body;
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed after " + head);
            }
            head.write(b);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    private static String header(String head, String name) {
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
                return line.substring(colon + 1).trim();
            }
        }
        return null;
    }

    private static String post(String id, String body) {
        return "POST /2018-06-01/runtime/invocation/" + id + "/response HTTP/1.1\r\nHost: x\r\nContent-Length: "
                + body.length() + "\r\n\r\n" + body;
    }

    /** Sends the runtime's first /next and waits until the server is waiting for work on it. */
    private void sendFirstNext() throws Exception {
        client.getOutputStream().write(NEXT.getBytes(StandardCharsets.ISO_8859_1));
        api.init().get(5, TimeUnit.SECONDS);
        awaitParked(); // the connection's thread reaches its wait after answering init
    }

    /** Waits until a connection's /next is parked: its serving thread waits for work (state, not time). */
    private void awaitParked() throws InterruptedException {
        while (api.parkedCount() != 1) {
            Thread.sleep(1);
        }
    }

    /** Waits until {@code t} is blocked reading a socket (a virtual thread parked under a socket read). */
    private static void awaitBlockedOnSocket(Thread t) throws InterruptedException {
        while (t.isAlive() && !(t.getState() == Thread.State.WAITING && java.util.Arrays.stream(t.getStackTrace())
                .anyMatch(f -> f.getMethodName().equals("read") && (f.getClassName().startsWith("sun.nio.ch")
                        || f.getClassName().startsWith("java.net"))))) {
            Thread.sleep(1);
        }
    }

    @Test
    void invokesFlowThroughNextInOrder() throws Exception {
        OutputStream out = client.getOutputStream();
        InputStream in = client.getInputStream();
        sendFirstNext();
        for (int i = 0; i < 50; i++) {
            String expected = "\"ok" + i + "\"";
            Invocation a = inv("r" + i);
            api.offer(a);
            if (i > 0) {
                // the previous result's 202 was held back (the next /next had arrived) and comes with this event
                assertThat(response(in)).startsWith("202 null ");
            }
            assertThat(response(in)).isEqualTo("200 r" + i + " {\"id\":\"r" + i + "\"}");
            // result and the next /next in one write, as the Ignis runtimes send them
            out.write((post("r" + i, expected) + NEXT).getBytes(StandardCharsets.ISO_8859_1));
            assertThat(a.result().get(5, TimeUnit.SECONDS))
                    .isInstanceOfSatisfying(RuntimeEvent.Response.class,
                            r -> assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(expected));
        }
    }

    @Test
    void aRequestSentBeforeNextIsAnsweredWaitsItsTurn() throws Exception {
        OutputStream out = client.getOutputStream();
        InputStream in = client.getInputStream();
        sendFirstNext();
        // pipelined past an unanswered /next: answers must still come in request order
        out.write("GET /2018-06-01/runtime/restore/next HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        Thread.sleep(200);
        assertThat(in.available()).isZero();
        api.offer(inv("first"));
        assertThat(response(in)).startsWith("200 first ");
        assertThat(response(in)).isEqualTo("200 null ");
    }

    /**
     * Offers {@code inv} as the worker does, asserts that the /next was parked (so the offering
     * thread delivers it), and drives the connection on a thread of its own, which it returns.
     */
    private Thread drivenOnAThread(Invocation inv, String parkedBecause) throws Exception {
        var drove = new CompletableFuture<Boolean>();
        Thread t = Thread.ofVirtual().start(() -> {
            RuntimeApi.Offer offer = api.offerToDrive(inv);
            drove.complete(offer instanceof RuntimeApi.Offer.Delivered);
            if (offer instanceof RuntimeApi.Offer.Delivered d) {
                d.connection().drive(inv);
            }
        });
        assertThat(drove.get(5, TimeUnit.SECONDS)).as(parkedBecause).isTrue();
        return t;
    }

    @Test
    void theInvokingThreadServesAPipelinedRuntimeItself() throws Exception {
        OutputStream out = client.getOutputStream();
        InputStream in = client.getInputStream();
        sendFirstNext();
        for (int i = 0; i < 30; i++) {
            Invocation a = inv("d" + i);
            Thread invoker = drivenOnAThread(a, "the /next was parked: the invoking thread delivers");
            if (i > 0) {
                assertThat(response(in)).startsWith("202 null ");
            }
            assertThat(response(in)).isEqualTo("200 d" + i + " {\"id\":\"d" + i + "\"}");
            out.write((post("d" + i, "\"ok\"") + NEXT).getBytes(StandardCharsets.ISO_8859_1));
            assertThat(invoker.join(java.time.Duration.ofSeconds(10))).as("drive returned").isTrue();
            assertThat(a.result().get(5, TimeUnit.SECONDS)).isInstanceOf(RuntimeEvent.Response.class);
        }
    }

    @Test
    void anAnswerOnAnotherConnectionEndsTheDriveAndClosesTheIdleOne() throws Exception {
        InputStream in = client.getInputStream();
        sendFirstNext();
        Invocation a = inv("x1");
        Thread invoker = drivenOnAThread(a, "the /next was parked");
        assertThat(response(in)).startsWith("200 x1 ");
        // a runtime with a connection pool answers on a second connection and leaves the first one idle
        try (Socket other = new Socket(InetAddress.getLoopbackAddress(), client.getPort())) {
            other.setSoTimeout(10_000);
            other.getOutputStream().write(post("x1", "\"ok\"").getBytes(StandardCharsets.ISO_8859_1));
            assertThat(response(other.getInputStream())).startsWith("202 ");
        }
        assertThat(a.result().get(5, TimeUnit.SECONDS)).isInstanceOf(RuntimeEvent.Response.class);
        assertThat(invoker.join(java.time.Duration.ofSeconds(10))).as("the invoking thread is not left reading the idle connection").isTrue();
        assertThat(in.read()).as("the idle connection was closed").isEqualTo(-1);
    }

    @Test
    void whatTheRuntimeSendsAfterItsAnswerNeverHoldsTheInvokeUp() throws Exception {
        OutputStream out = client.getOutputStream();
        InputStream in = client.getInputStream();
        sendFirstNext();
        Invocation a = inv("h1");
        Thread invoker = drivenOnAThread(a, "the /next was parked");
        assertThat(response(in)).startsWith("200 h1 ");
        // the answer, then half of the next request: a runtime that stalls here must not keep the result from its caller
        out.write((post("h1", "\"ok\"") + NEXT.substring(0, 20)).getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        assertThat(invoker.join(java.time.Duration.ofSeconds(10))).isTrue();
        assertThat(a.result().get(5, TimeUnit.SECONDS)).isInstanceOf(RuntimeEvent.Response.class);
        // the connection went back to its own thread, which reads the rest and parks the /next again
        out.write(NEXT.substring(20).getBytes(StandardCharsets.ISO_8859_1));
        awaitParked();
        Invocation b = inv("h2");
        Thread second = drivenOnAThread(b, "parked again by the connection's own thread");
        assertThat(response(in)).startsWith("202 "); // held back while the next request was arriving: it goes out with the event
        assertThat(response(in)).startsWith("200 h2 ");
        out.write((post("h2", "\"ok\"") + NEXT).getBytes(StandardCharsets.ISO_8859_1));
        assertThat(second.join(java.time.Duration.ofSeconds(10))).isTrue();
        assertThat(b.result().get(5, TimeUnit.SECONDS)).isInstanceOf(RuntimeEvent.Response.class);
    }

    @Test
    void aResultFromElsewhereClosesTheConnectionTheInvokingThreadWaitsOn() throws Exception {
        InputStream in = client.getInputStream();
        sendFirstNext();
        Invocation a = inv("t1");
        Thread invoker = drivenOnAThread(a, "the /next was parked");
        assertThat(response(in)).startsWith("200 t1 ");
        awaitBlockedOnSocket(invoker); // the invoking thread now waits for the runtime's answer on the socket
        a.result().complete(new RuntimeEvent.TimedOut()); // what the worker's deadline watch does
        assertThat(invoker.join(java.time.Duration.ofSeconds(10))).isTrue();
        assertThat(in.read()).isEqualTo(-1);
    }
}

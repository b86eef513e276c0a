package dev.ignis.worker.runtimeapi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A streaming {@code POST /response} (Lambda-Runtime-Function-Response-Mode: streaming, chunked, error trailers)
 * through a real loopback socket: its chunks reach the {@link ResponseStream} before the body ends, a mid-stream error
 * arrives as trailers, the limit cuts the stream, and a slow consumer slows the runtime instead of filling memory.
 */
class StreamedResponseTest {
    private static final String NEXT = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n";

    private RuntimeApi api;
    private RuntimeApiServer server;
    private Socket client;

    @BeforeEach
    void start() throws IOException {
        ServerSocketChannel ch = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        api = new RuntimeApi();
        server = new RuntimeApiServer(ch, api, "stream-test");
        client = new Socket(InetAddress.getLoopbackAddress(), ((InetSocketAddress) ch.getLocalAddress()).getPort());
        client.setSoTimeout(20_000);
    }

    @AfterEach
    void stop() throws IOException {
        client.close();
        server.close();
    }

    /** The runtime takes the invocation (its /next answered), ready to post its streamed answer. */
    private Invocation delivered(ResponseStream stream) throws Exception {
        var inv = new Invocation("r1", "{}".getBytes(StandardCharsets.UTF_8), System.currentTimeMillis() + 60_000,
                "arn:aws:lambda:us-east-1:000000000000:function:f", "t", null, null, new CompletableFuture<>(), stream);
        client.getOutputStream().write(NEXT.getBytes(StandardCharsets.ISO_8859_1));
        api.init().get(5, TimeUnit.SECONDS);
        assertThat(api.offer(inv)).isInstanceOf(RuntimeApi.Offer.Queued.class);
        String head = readHead(client.getInputStream());
        assertThat(head).startsWith("HTTP/1.1 200");
        int length = Integer.parseInt(header(head, "content-length"));
        client.getInputStream().readNBytes(length);
        return inv;
    }

    private static final String STREAM_HEAD = "POST /2018-06-01/runtime/invocation/r1/response HTTP/1.1\r\nHost: x\r\n"
            + "Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n"
            + "Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\r\n";

    private void send(String s) throws IOException {
        OutputStream out = client.getOutputStream();
        out.write(s.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    private static String chunk(String data) {
        return Integer.toHexString(data.length()) + "\r\n" + data + "\r\n";
    }

    @Test
    void eachChunkReachesTheStreamBeforeTheBodyEnds() throws Exception {
        var stream = new ResponseStream();
        Invocation inv = delivered(stream);
        send(STREAM_HEAD + chunk("first "));
        // the runtime has not sent its second chunk yet: the first must be there already
        assertThat(new String(stream.take(), StandardCharsets.UTF_8)).isEqualTo("first ");
        assertThat(inv.result()).isNotDone();
        send(chunk("second") + "0\r\n\r\n");
        assertThat(new String(stream.take(), StandardCharsets.UTF_8)).isEqualTo("second");
        RuntimeEvent ev = inv.result().get(5, TimeUnit.SECONDS);
        assertThat(ev).isInstanceOf(RuntimeEvent.Response.class);
        assertThat(((RuntimeEvent.Response) ev).body()).isEmpty();
        assertThat(stream.contentType()).isEqualTo("text/plain");
        assertThat(readHead(client.getInputStream())).startsWith("HTTP/1.1 202");
    }

    @Test
    void aMidStreamErrorArrivesAsTrailers() throws Exception {
        var stream = new ResponseStream();
        Invocation inv = delivered(stream);
        String body = Base64.getEncoder().encodeToString("{\"errorType\":\"Error\",\"errorMessage\":\"boom\"}".getBytes(StandardCharsets.UTF_8));
        send(STREAM_HEAD + chunk("partial") + "0\r\nLambda-Runtime-Function-Error-Type: Error\r\nLambda-Runtime-Function-Error-Body: "
                + body + "\r\n\r\n");
        assertThat(new String(stream.take(), StandardCharsets.UTF_8)).isEqualTo("partial");
        RuntimeEvent ev = inv.result().get(5, TimeUnit.SECONDS);
        assertThat(ev).isInstanceOf(RuntimeEvent.Error.class);
        var err = (RuntimeEvent.Error) ev;
        assertThat(err.errorType()).isEqualTo("Error");
        assertThat(new String(err.body(), StandardCharsets.UTF_8)).contains("\"boom\"");
    }

    @Test
    void aStreamPastItsLimitIsCutAsTooLarge() throws Exception {
        var stream = new ResponseStream(64 * 1024, 100_000);
        Invocation inv = delivered(stream);
        var consumed = new AtomicLong();
        Thread consumer = Thread.ofVirtual().start(() -> {
            try {
                for (byte[] c = stream.take(); c != null; c = stream.take()) {
                    consumed.addAndGet(c.length);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        String data = "x".repeat(10_000);
        Thread writer = Thread.ofVirtual().start(() -> {
            try {
                send(STREAM_HEAD);
                for (int i = 0; i < 50; i++) {
                    send(chunk(data));
                }
                send("0\r\n\r\n");
            } catch (IOException e) {
                // cut by the server: expected
            }
        });
        RuntimeEvent ev = inv.result().get(10, TimeUnit.SECONDS);
        assertThat(ev).isEqualTo(new RuntimeEvent.TooLarge(100_000));
        stream.close();
        consumer.join(5000);
        writer.join(5000);
        assertThat(consumed.get()).isEqualTo(100_000);
        assertThat(readHead(client.getInputStream())).startsWith("HTTP/1.1 413");
    }

    /** 30 MB through a pipe of 256 KiB to a consumer slower than the runtime: the pipe never holds more, the heap stays flat. */
    @Test
    void thirtyMegabytesToASlowConsumerHoldOnlyThePipe() throws Exception {
        long total = 30L * 1024 * 1024;
        var stream = new ResponseStream(ResponseStream.DEFAULT_CAPACITY, 64L * 1024 * 1024);
        Invocation inv = delivered(stream);
        var memory = ManagementFactory.getMemoryMXBean();
        System.gc();
        long before = memory.getHeapMemoryUsage().getUsed();
        var consumed = new AtomicLong();
        var peakAfterGc = new AtomicLong();
        var half = new CountDownLatch(1);
        Thread consumer = Thread.ofVirtual().start(() -> {
            try {
                long next = 0;
                for (byte[] c = stream.take(); c != null; c = stream.take()) {
                    long n = consumed.addAndGet(c.length);
                    if (n >= next) { // slow: a pause every MB
                        next += 1024 * 1024;
                        Thread.sleep(5);
                        if (n >= total / 2) {
                            half.countDown();
                        }
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Thread writer = Thread.ofVirtual().start(() -> {
            try {
                send(STREAM_HEAD);
                byte[] data = new byte[64 * 1024];
                String size = Integer.toHexString(data.length) + "\r\n";
                OutputStream out = client.getOutputStream();
                for (long sent = 0; sent < total; sent += data.length) {
                    out.write(size.getBytes(StandardCharsets.ISO_8859_1));
                    out.write(data);
                    out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
                }
                send("0\r\n\r\n");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertThat(half.await(30, TimeUnit.SECONDS)).isTrue();
        System.gc();
        peakAfterGc.set(memory.getHeapMemoryUsage().getUsed() - before);
        RuntimeEvent ev = inv.result().get(30, TimeUnit.SECONDS);
        writer.join(10_000);
        stream.close();
        consumer.join(10_000);
        assertThat(ev).isInstanceOf(RuntimeEvent.Response.class);
        assertThat(consumed.get()).isEqualTo(total);
        assertThat(stream.highWater()).isLessThanOrEqualTo(stream.capacity());
        // mid-stream, after a GC, the heap holds no more than a few MB more than before (the stream is 30 MB)
        assertThat(peakAfterGc.get()).as("heap growth mid-stream").isLessThan(8L * 1024 * 1024);
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
}

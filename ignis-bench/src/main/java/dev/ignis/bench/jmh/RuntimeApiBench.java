package dev.ignis.bench.jmh;

import dev.ignis.worker.runtimeapi.Invocation;
import dev.ignis.worker.runtimeapi.RuntimeApi;
import dev.ignis.worker.runtimeapi.RuntimeApiServer;
import dev.ignis.worker.runtimeapi.RuntimeEvent;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One Runtime API exchange: offer → the runtime's /next returns → it posts /response → the
 * invocation's result completes. The runtime is a minimal keep-alive client on host loopback
 * (no sandbox), so this is the worker's share of a warm invoke plus one loopback round trip each way.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RuntimeApiBench {
    RuntimeApi api;
    RuntimeApiServer server;
    Thread runtime;
    final AtomicLong ids = new AtomicLong();
    final byte[] payload = "{}".getBytes(StandardCharsets.UTF_8);

    @Setup
    public void setup() throws Exception {
        ServerSocketChannel ch = ServerSocketChannel.open();
        ch.bind(new InetSocketAddress("127.0.0.1", 0));
        int port = ((InetSocketAddress) ch.getLocalAddress()).getPort();
        api = new RuntimeApi();
        server = new RuntimeApiServer(ch, api, "jmh");
        runtime = Thread.ofPlatform().daemon().start(() -> miniRuntime(port));
        api.init().get(10, TimeUnit.SECONDS);
    }

    @TearDown
    public void tearDown() {
        runtime.interrupt();
        server.close();
        api.close(new IllegalStateException("done"));
    }

    @Benchmark
    public RuntimeEvent exchange() throws Exception {
        Invocation inv = new Invocation("r" + ids.incrementAndGet(), payload, 0, "arn", "t", null, null, new CompletableFuture<>());
        api.offer(inv);
        return inv.result().get(5, TimeUnit.SECONDS);
    }

    /** /next, then /response with "null", over one keep-alive connection. */
    private static void miniRuntime(int port) {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setTcpNoDelay(true);
            InputStream in = new BufferedInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            byte[] next = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            while (!Thread.currentThread().isInterrupted()) {
                out.write(next);
                String id = readResponse(in, "lambda-runtime-aws-request-id");
                byte[] resp = ("POST /2018-06-01/runtime/invocation/" + id + "/response HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nnull")
                        .getBytes(StandardCharsets.US_ASCII);
                out.write(resp);
                readResponse(in, null);
            }
        } catch (IOException e) {
            // closed at teardown
        }
    }

    private static String readResponse(InputStream in, String header) throws IOException {
        String wanted = null;
        int length = 0;
        StringBuilder line = new StringBuilder();
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed");
            }
            if (b != '\n') {
                if (b != '\r') {
                    line.append((char) b);
                }
                continue;
            }
            String l = line.toString();
            line.setLength(0);
            if (l.isEmpty()) {
                in.readNBytes(length);
                return wanted;
            }
            int colon = l.indexOf(':');
            if (colon > 0) {
                String name = l.substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT);
                if (name.equals("content-length")) {
                    length = Integer.parseInt(l.substring(colon + 1).trim());
                } else if (name.equals(header)) {
                    wanted = l.substring(colon + 1).trim();
                }
            }
        }
    }
}

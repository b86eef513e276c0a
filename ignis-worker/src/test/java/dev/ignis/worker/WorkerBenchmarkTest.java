package dev.ignis.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.worker.runtimeapi.Invocation;
import dev.ignis.worker.runtimeapi.RuntimeApi;
import dev.ignis.worker.runtimeapi.RuntimeApiServer;
import dev.ignis.worker.runtimeapi.RuntimeEvent;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Measurements, not assertions of speed (figures depend on the machine; compare A/B in one run).
 * Run: {@code ./mvnw -pl ignis-worker test -Dtest=WorkerBenchmarkTest -Dignis.excludedGroups=none -Dsurefire.failIfNoSpecifiedTests=false}
 */
@Tag("benchmark")
class WorkerBenchmarkTest {

    @Test
    void warmInvokeRoundTripThroughTheRuntimeApi() {
        try (TestSandboxes t = new TestSandboxes()) {
            SandboxHandle h = t.python("def handler(event):\n    return None\n", 1769, 5, 64);
            try {
                long[] ns = new long[2000];
                for (int i = -200; i < ns.length; i++) {
                    long t0 = System.nanoTime();
                    InvokeOutcome o = t.worker.invoke(h.sandboxId(), new InvokeRequest(UUID.randomUUID().toString(),
                            "{}".getBytes(StandardCharsets.UTF_8), "arn", null, null, false));
                    long d = System.nanoTime() - t0;
                    assertThat(o.status()).isEqualTo(InvokeOutcome.Status.SUCCESS);
                    if (i >= 0) {
                        ns[i] = d;
                    }
                }
                report("warm invoke, python3.11 no-op in sandbox (1769 MB)", ns);
            } finally {
                t.worker.retire(h.sandboxId());
            }
        }
    }

    /** The Runtime API exchange alone: a Java client on a keep-alive socket against the same server classes. */
    @Test
    void runtimeApiExchangeAlone() throws Exception {
        ServerSocketChannel ch = ServerSocketChannel.open();
        ch.bind(new InetSocketAddress("127.0.0.1", 0));
        int port = ((InetSocketAddress) ch.getLocalAddress()).getPort();
        RuntimeApi api = new RuntimeApi();
        try (RuntimeApiServer server = new RuntimeApiServer(ch, api, "bench")) {
            Thread runtime = Thread.ofPlatform().daemon().start(() -> miniRuntime(port));
            api.init().get(5, TimeUnit.SECONDS);
            long[] ns = new long[20000];
            for (int i = -2000; i < ns.length; i++) {
                Invocation inv = new Invocation("r" + i, "{}".getBytes(StandardCharsets.UTF_8), 0, "arn", "t", null, null,
                        new CompletableFuture<>());
                long t0 = System.nanoTime();
                api.offer(inv);
                RuntimeEvent ev = inv.result().get(5, TimeUnit.SECONDS);
                long d = System.nanoTime() - t0;
                assertThat(ev).isInstanceOf(RuntimeEvent.Response.class);
                if (i >= 0) {
                    ns[i] = d;
                }
            }
            report("Runtime API exchange alone (offer -> /next -> /response -> result), host loopback", ns);
            runtime.interrupt();
        }
    }

    @Test
    void coldStartInsideTheSandboxVersusBareStart() throws Exception {
        String bootstrap = "#!/bin/sh\nexec curl -sS -o /dev/null \"http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next\"\n";
        try (TestSandboxes t = new TestSandboxes()) {
            Path code = t.code(Map.of("bootstrap", bootstrap, "function.py", "def handler(e):\n    return e\n"));
            long[] sandboxed = new long[10];
            long[] sandboxedPy = new long[10];
            long[] bare = new long[10];
            long[] barePy = new long[10];
            for (int i = 0; i < 10; i++) {
                sandboxed[i] = coldSandbox(t, TestSandboxes.spec("provided.al2023", code, 1769, 5, 64, Map.of()));
                sandboxedPy[i] = coldSandbox(t, TestSandboxes.spec("python3.11", code, 1769, 5, 64, Map.of()));
                bare[i] = bareStart(new String[] {"/bin/sh", code.resolve("bootstrap").toString()}, code);
                barePy[i] = bareStart(new String[] {"/usr/bin/python3.11", "-u", t.runtimeDir.resolve("runtime.py").toString()}, code);
            }
            report("cold start to first /next, curl bootstrap, sandboxed", sandboxed);
            report("cold start to first /next, curl bootstrap, bare (no bwrap/cgroup/netns)", bare);
            report("cold start to first /next, python3.11 runtime, sandboxed", sandboxedPy);
            report("cold start to first /next, python3.11 runtime, bare", barePy);
        }
    }

    private static long coldSandbox(TestSandboxes t, SandboxSpec spec) {
        long t0 = System.nanoTime();
        SandboxHandle h = t.worker.createSandbox(spec);
        long d = System.nanoTime() - t0;
        t.worker.retire(h.sandboxId());
        return d;
    }

    /** The same command started directly on the host, against a Runtime API on host loopback. */
    private static long bareStart(String[] cmd, Path code) throws Exception {
        ServerSocketChannel ch = ServerSocketChannel.open();
        ch.bind(new InetSocketAddress("127.0.0.1", 0));
        int port = ((InetSocketAddress) ch.getLocalAddress()).getPort();
        RuntimeApi api = new RuntimeApi();
        try (RuntimeApiServer server = new RuntimeApiServer(ch, api, "bare")) {
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(code.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD);
            pb.environment().put("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:" + port);
            // the python runtime loads /var/task/function.py; outside the sandbox point it at the code dir
            pb.environment().put("LAMBDA_TASK_ROOT", code.toString());
            long t0 = System.nanoTime();
            Process p = pb.start();
            try {
                api.init().get(10, TimeUnit.SECONDS);
                return System.nanoTime() - t0;
            } finally {
                p.destroyForcibly().waitFor();
            }
        }
    }

    private static void miniRuntime(int port) {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setTcpNoDelay(true);
            InputStream in = new BufferedInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            byte[] next = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            while (true) {
                out.write(next);
                String head = readHead(in);
                int len = Integer.parseInt(header(head, "Content-Length"));
                in.readNBytes(len);
                String id = header(head, "Lambda-Runtime-Aws-Request-Id");
                out.write(("POST /2018-06-01/runtime/invocation/" + id + "/response HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok")
                        .getBytes(StandardCharsets.US_ASCII));
                String ack = readHead(in);
                in.readNBytes(Integer.parseInt(header(ack, "Content-Length")));
            }
        } catch (Exception e) {
            // benchmark over
        }
    }

    private static String readHead(InputStream in) throws java.io.IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        int state = 0;
        while ((c = in.read()) >= 0) {
            b.write(c);
            state = (c == '\r' && (state == 0 || state == 2)) ? state + 1 : (c == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
            if (state == 4) {
                return b.toString(StandardCharsets.ISO_8859_1);
            }
        }
        throw new java.io.EOFException();
    }

    private static String header(String head, String name) {
        for (String l : head.split("\r\n")) {
            if (l.regionMatches(true, 0, name + ":", 0, name.length() + 1)) {
                return l.substring(name.length() + 1).trim();
            }
        }
        throw new IllegalStateException("no header " + name);
    }

    private static void report(String what, long[] ns) {
        long[] s = ns.clone();
        Arrays.sort(s);
        System.out.printf("BENCH %-85s n=%d p50=%.3f ms p99=%.3f ms%n", what, s.length,
                s[s.length / 2] / 1e6, s[(int) (s.length * 0.99)] / 1e6);
    }
}

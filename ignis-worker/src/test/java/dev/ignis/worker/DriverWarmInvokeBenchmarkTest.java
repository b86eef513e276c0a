package dev.ignis.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.worker.gvisor.GvisorDriver;
import dev.ignis.worker.microvm.GuestImage;
import dev.ignis.worker.microvm.MicroVmDriver;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Warm invoke of one python3.11 echo function through the worker on each driver, beside two loopback HTTP echo floors
 * (Java client to a Java server; Java client to python's http.server), all interleaved round by round in one run; then
 * the system calls of one warm invoke: the runtime's own (strace -c of the python runtime under the process driver)
 * and what gVisor's Sentry makes on the host to serve them (strace -c of the Sentry, ptrace platform). Not pass/fail.
 * Run: {@code ./mvnw -B -q -pl ignis-worker -am verify -Dtest=DriverWarmInvokeBenchmarkTest -Dignis.excludedGroups=none
 * -Ddrivers=process,gvisor,microvm -Drounds=5 -Dsurefire.failIfNoSpecifiedTests=false -DskipITs}
 */
@Tag("benchmark")
class DriverWarmInvokeBenchmarkTest {
    static final String ECHO = "def handler(event):\n    return event\n";
    static final String PY_ECHO_SERVER = """
            import http.server, sys
            class H(http.server.BaseHTTPRequestHandler):
                protocol_version = "HTTP/1.1"
                disable_nagle_algorithm = True  # head and body are two writes: with Nagle each round trip waits 40 ms for an ACK
                def do_POST(self):
                    body = self.rfile.read(int(self.headers["Content-Length"]))
                    self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
                    self.wfile.write(body)
                def log_message(self, *a): pass
            s = http.server.HTTPServer(("127.0.0.1", 0), H)
            print(s.server_address[1], flush=True)
            s.serve_forever()
            """;

    @Test
    void warmInvokeOverheadPerDriverBesideLoopbackEchoFloors() throws Exception {
        int rounds = Integer.getInteger("rounds", 5);
        int perRound = Integer.getInteger("invokes", 200);
        Map<String, Function<WorkerConfig, SandboxDriver>> all = new LinkedHashMap<>();
        all.put("process", c -> new BubblewrapDriver(c, BubblewrapDriver.StartPath.FROM_SCRATCH));
        all.put("gvisor", GvisorDriver::new);
        all.put("microvm", c -> new MicroVmDriver(c, GuestImage.prepare(MicroVmDriver.defaultCacheDir())));
        List<String> drivers = List.of(System.getProperty("drivers", "process,gvisor").split(","));
        Map<String, TestSandboxes> workers = new LinkedHashMap<>();
        Map<String, SandboxHandle> sandboxes = new LinkedHashMap<>();
        Map<String, List<Double>> medians = new LinkedHashMap<>();
        Process py = new ProcessBuilder("/usr/bin/python3", "-c", PY_ECHO_SERVER).redirectErrorStream(true).start();
        try (ServerSocket javaEcho = javaEchoServer()) {
            int pyPort = Integer.parseInt(new BufferedReader(new InputStreamReader(py.getInputStream())).readLine().trim());
            for (String d : drivers) {
                TestSandboxes t = new TestSandboxes(Duration.ofMinutes(3), null, WorkerCapacity.ofHost(), all.get(d));
                workers.put(d, t);
                sandboxes.put(d, t.python(ECHO, 1769, 10, 64));
            }
            try (HttpEcho javaClient = new HttpEcho(javaEcho.getLocalPort()); HttpEcho pyClient = new HttpEcho(pyPort)) {
                for (int r = -1; r < rounds; r++) { // round -1 warms everything up
                    record("floor: loopback HTTP echo, Java to Java", medians, r, perRound, javaClient::roundTrip);
                    record("floor: loopback HTTP echo, Java to python http.server", medians, r, perRound, pyClient::roundTrip);
                    for (String d : drivers) {
                        TestSandboxes t = workers.get(d);
                        SandboxHandle h = sandboxes.get(d);
                        record(d + ": warm invoke, python3.11 echo via the worker", medians, r, perRound, () -> {
                            InvokeOutcome o = t.worker.invoke(h.sandboxId(), new InvokeRequest(UUID.randomUUID().toString(),
                                    "0".getBytes(StandardCharsets.UTF_8), "arn", null, null, false));
                            assertThat(o.status()).isEqualTo(InvokeOutcome.Status.SUCCESS);
                        });
                    }
                }
            }
            double floor = median(medians.get("floor: loopback HTTP echo, Java to Java"));
            for (var e : medians.entrySet()) {
                double m = median(e.getValue());
                System.out.printf("BENCH %-58s p50 of %d round medians (%d each): %8.3f ms  (x%.1f the Java floor)  rounds %s%n",
                        e.getKey(), rounds, perRound, m, m / floor, e.getValue().stream().map(v -> String.format("%.3f", v)).toList());
            }
            syscalls(drivers, workers, sandboxes);
        } finally {
            py.destroyForcibly();
            py.waitFor(5, TimeUnit.SECONDS);
            for (var e : workers.entrySet()) {
                e.getValue().worker.retire(sandboxes.get(e.getKey()).sandboxId());
                e.getValue().close();
            }
        }
    }

    /** strace -c over 200 warm invokes: the python runtime's own calls (process driver), the Sentry's host calls (gVisor). */
    private static void syscalls(List<String> drivers, Map<String, TestSandboxes> workers, Map<String, SandboxHandle> sandboxes) throws Exception {
        if (!Files.isExecutable(Path.of("/usr/bin/strace"))) {
            System.out.println("BENCH syscalls: strace is not installed (apt-get install strace)");
            return;
        }
        int n = 200;
        for (String d : List.of("process", "gvisor")) {
            if (!drivers.contains(d)) {
                continue;
            }
            String id = sandboxes.get(d).sandboxId();
            // process: the runtime (python) itself; gvisor: the Sentry (runsc's "boot" process of this sandbox)
            List<ProcessHandle> targets = ProcessHandle.current().descendants().filter(p -> {
                String cmd = p.info().commandLine().orElse("");
                return d.equals("process") ? cmd.contains("/var/runtime/runtime.py")
                        : cmd.contains(" boot ") && cmd.contains(id);
            }).toList();
            if (targets.size() != 1) {
                System.out.printf("BENCH syscalls %s: %d candidate processes, not measured%n", d, targets.size());
                continue;
            }
            Path out = Files.createTempFile("strace-", ".txt");
            Process strace = new ProcessBuilder("/usr/bin/strace", "-f", "-c", "-o", out.toString(), "-p", Long.toString(targets.getFirst().pid()))
                    .redirectErrorStream(true).start();
            Thread.sleep(1500); // attached to every thread
            TestSandboxes t = workers.get(d);
            for (int i = 0; i < n; i++) {
                assertThat(t.worker.invoke(id, new InvokeRequest(UUID.randomUUID().toString(), "0".getBytes(StandardCharsets.UTF_8), "arn",
                        null, null, false)).status()).isEqualTo(InvokeOutcome.Status.SUCCESS);
            }
            Thread.sleep(200);
            new ProcessBuilder("kill", "-INT", Long.toString(strace.pid())).start().waitFor();
            strace.waitFor(30, TimeUnit.SECONDS);
            List<String> lines = Files.readAllLines(out);
            Files.delete(out);
            String total = lines.stream().filter(l -> l.trim().endsWith("total")).findFirst().orElse("");
            System.out.printf("BENCH syscalls %s (%s, %d warm invokes, under strace): total %s -> %.1f per invoke; top:%n", d,
                    d.equals("process") ? "the python runtime's own calls" : "gVisor's Sentry on the host", n, total.trim(),
                    total.isBlank() ? Double.NaN : Long.parseLong(total.trim().split("\\s+")[3]) / (double) n);
            lines.stream().filter(l -> l.matches("\\s*\\d+\\.\\d+.*")).limit(8).forEach(l -> System.out.println("BENCH   " + l));
        }
    }

    interface Step {
        void run() throws Exception;
    }

    private static void record(String name, Map<String, List<Double>> medians, int round, int n, Step step) throws Exception {
        double[] ms = new double[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            step.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        if (round >= 0) {
            java.util.Arrays.sort(ms);
            medians.computeIfAbsent(name, k -> new ArrayList<>()).add(ms[n / 2]);
        }
    }

    private static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        return s.get(s.size() / 2);
    }

    /** A keep-alive HTTP/1.1 echo server on loopback: one virtual thread per connection, body echoed. */
    private static ServerSocket javaEchoServer() throws Exception {
        ServerSocket s = new ServerSocket();
        s.bind(new InetSocketAddress("127.0.0.1", 0));
        Thread.ofVirtual().start(() -> {
            while (!s.isClosed()) {
                try {
                    Socket c = s.accept();
                    c.setTcpNoDelay(true);
                    Thread.ofVirtual().start(() -> {
                        try (c; InputStream in = c.getInputStream(); OutputStream out = c.getOutputStream()) {
                            while (true) {
                                int len = readHead(in);
                                if (len < 0) {
                                    return;
                                }
                                byte[] body = in.readNBytes(len);
                                out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + len + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                                out.write(body);
                                out.flush();
                            }
                        } catch (Exception ignored) {
                            // client gone
                        }
                    });
                } catch (Exception e) {
                    return;
                }
            }
        });
        return s;
    }

    /** Reads a request or response head; returns its Content-Length, or -1 at end of stream. */
    static int readHead(InputStream in) throws Exception {
        StringBuilder head = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            head.append((char) c);
            if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
                String h = head.toString().toLowerCase(java.util.Locale.ROOT);
                int i = h.indexOf("content-length:");
                return i < 0 ? 0 : Integer.parseInt(h.substring(i + 15, h.indexOf('\r', i)).trim());
            }
        }
        return -1;
    }

    /** A keep-alive client posting "0" and reading the echo. */
    static final class HttpEcho implements AutoCloseable {
        private final Socket s;
        private final InputStream in;
        private final OutputStream out;

        HttpEcho(int port) throws Exception {
            s = new Socket("127.0.0.1", port);
            s.setTcpNoDelay(true);
            in = s.getInputStream();
            out = s.getOutputStream();
        }

        void roundTrip() throws Exception {
            out.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n0".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            int len = readHead(in);
            assertThat(new String(in.readNBytes(len), StandardCharsets.US_ASCII)).isEqualTo("0");
        }

        @Override
        public void close() throws Exception {
            s.close();
        }
    }
}

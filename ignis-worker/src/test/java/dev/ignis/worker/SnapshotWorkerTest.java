package dev.ignis.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.runtimes.RuntimeDefinition;
import dev.ignis.worker.runtimeapi.RuntimeEvent;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worker's snapshot flow (docs/snapshots.md) against a driver whose "sandboxes" are an echo runtime on a thread
 * of this JVM: the first cold start is started snapshottable and snapshotted after its init; the next restores and
 * its REPORT says Restore Duration; a restore that fails drops the snapshot and boots (Init Duration) — fast, in the
 * default run.
 */
class SnapshotWorkerTest {
    @TempDir
    Path dir;

    /** A snapshotting driver whose sandbox is a thread speaking the Runtime API (echo); records the worker's calls. */
    static final class EchoDriver implements SandboxDriver {
        final List<String> calls = new CopyOnWriteArrayList<>();
        final java.util.Set<String> snapshots = java.util.concurrent.ConcurrentHashMap.newKeySet();
        volatile boolean failRestore;
        private int n;

        @Override
        public String name() {
            return "echo";
        }

        @Override
        public Availability probe() {
            return new Availability.Available();
        }

        @Override
        public boolean canSnapshot() {
            return true;
        }

        @Override
        public long pidsInUse() {
            return 0;
        }

        @Override
        public Sandbox start(Start start) {
            calls.add("start");
            return run(start);
        }

        @Override
        public Sandbox startSnapshottable(Start start) {
            calls.add("startSnapshottable");
            return run(start);
        }

        @Override
        public boolean hasSnapshot(String key) {
            return snapshots.contains(key);
        }

        @Override
        public void snapshot(Sandbox sandbox, String key) {
            calls.add("snapshot " + sandbox.id());
            snapshots.add(key);
        }

        @Override
        public Sandbox restore(Start start, String key) {
            calls.add("restore");
            if (failRestore) {
                throw new IllegalStateException("the device state does not load");
            }
            return run(start);
        }

        @Override
        public void dropSnapshot(String key) {
            calls.add("dropSnapshot");
            snapshots.remove(key);
        }

        private synchronized Sandbox run(Start start) {
            String id = "sb-echo-" + n++;
            var exit = new CompletableFuture<RuntimeEvent.Exited>();
            try {
                ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                int port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
                start.runtimeApi().listen(listener);
                Thread runtime = Thread.ofVirtual().start(() -> echo(port));
                return new Sandbox() {
                    @Override
                    public String id() {
                        return id;
                    }

                    @Override
                    public long runtimeStartedNanos() {
                        return System.nanoTime();
                    }

                    @Override
                    public InputStream output() {
                        return new ByteArrayInputStream(new byte[0]);
                    }

                    @Override
                    public CompletableFuture<RuntimeEvent.Exited> exit() {
                        return exit;
                    }

                    @Override
                    public Stats stats() {
                        return new Stats(0, 0);
                    }

                    @Override
                    public void stop() {
                        runtime.interrupt();
                        exit.complete(new RuntimeEvent.Exited(137, false));
                    }

                    @Override
                    public void close() {
                    }
                };
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        }

        /** The runtime: GET /next, POST the event back as the response, forever (one request per connection). */
        private static void echo(int port) {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    String[] next = http(port, "GET", "/2018-06-01/runtime/invocation/next", "");
                    http(port, "POST", "/2018-06-01/runtime/invocation/" + next[0] + "/response", next[1]);
                }
            } catch (java.io.IOException e) {
                // the worker closed the Runtime API: the sandbox is gone
            }
        }

        /** One request; returns {request id header, body} (the body read by its Content-Length). */
        private static String[] http(int port, String method, String path, String body) throws java.io.IOException {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                byte[] b = body.getBytes(StandardCharsets.UTF_8);
                s.getOutputStream().write((method + " " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: "
                        + b.length + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
                s.getOutputStream().write(b);
                s.getOutputStream().flush();
                var in = new java.io.DataInputStream(new java.io.BufferedInputStream(s.getInputStream()));
                String rid = "";
                int length = 0;
                StringBuilder line = new StringBuilder();
                while (true) {
                    int c = in.read();
                    if (c < 0) {
                        throw new java.io.EOFException();
                    }
                    if (c != '\n') {
                        if (c != '\r') {
                            line.append((char) c);
                        }
                        continue;
                    }
                    String l = line.toString();
                    line.setLength(0);
                    if (l.isEmpty()) {
                        break;
                    }
                    String lower = l.toLowerCase(java.util.Locale.ROOT);
                    if (lower.startsWith("lambda-runtime-aws-request-id:")) {
                        rid = l.substring(l.indexOf(':') + 1).trim();
                    } else if (lower.startsWith("content-length:")) {
                        length = Integer.parseInt(l.substring(l.indexOf(':') + 1).trim());
                    }
                }
                byte[] resp = new byte[length];
                in.readFully(resp);
                return new String[] {rid, new String(resp, StandardCharsets.UTF_8)};
            }
        }

        @Override
        public void close() {
        }
    }

    private SandboxWorker worker(EchoDriver driver) {
        RuntimeDefinition rt = new RuntimeDefinition("python3.11", "test", null, List.of(), List.of("/bin/true"), Map.of());
        WorkerConfig config = WorkerConfig.defaults("wsnap", dir.resolve("data"), id -> Optional.of(rt))
                .withCapacity(new WorkerCapacity(1024, 10_000));
        return new SandboxWorker(config, driver);
    }

    private SandboxSpec spec() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path code = Files.createDirectories(dir.resolve("code"));
        Files.setPosixFilePermissions(code, PosixFilePermissions.fromString("rwxr-xr-x"));
        return TestSandboxes.spec("python3.11", code, 128, 3, 64, Map.of());
    }

    private static String report(InvokeOutcome o) {
        return TestSandboxes.tail(o).lines().filter(l -> l.startsWith("REPORT")).findFirst().orElseThrow();
    }

    @Test
    void theFirstColdStartIsSnapshottedAndTheNextRestoredWithRestoreDuration() throws Exception {
        EchoDriver driver = new EchoDriver();
        try (SandboxWorker w = worker(driver)) {
            SandboxSpec spec = spec();
            SandboxHandle first = w.createSandbox(spec);
            InvokeOutcome o1 = w.invoke(first.sandboxId(), TestSandboxes.request("{\"n\":1}"));
            assertThat(new String(o1.payload(), StandardCharsets.UTF_8)).isEqualTo("{\"n\":1}");
            assertThat(report(o1)).contains("\tInit Duration: ").doesNotContain("Restore");
            assertThat(driver.calls).containsExactly("startSnapshottable", "snapshot " + first.sandboxId());

            SandboxHandle second = w.createSandbox(spec);
            InvokeOutcome o2 = w.invoke(second.sandboxId(), TestSandboxes.request("{\"n\":2}"));
            assertThat(new String(o2.payload(), StandardCharsets.UTF_8)).isEqualTo("{\"n\":2}");
            assertThat(report(o2)).containsPattern("\tRestore Duration: \\d+\\.\\d\\d ms\tBilled Restore Duration: \\d+ ms$")
                    .doesNotContain("Init Duration");
            assertThat(driver.calls).endsWith("restore");
            // a warm invoke of the restored sandbox has neither
            InvokeOutcome o3 = w.invoke(second.sandboxId(), TestSandboxes.request("3"));
            assertThat(report(o3)).doesNotContain("Restore Duration").doesNotContain("Init Duration");
        }
    }

    @Test
    void aRestoreThatFailsDropsTheSnapshotAndBoots() throws Exception {
        EchoDriver driver = new EchoDriver();
        try (SandboxWorker w = worker(driver)) {
            SandboxSpec spec = spec();
            w.createSandbox(spec);
            driver.failRestore = true;
            SandboxHandle h = w.createSandbox(spec);
            InvokeOutcome o = w.invoke(h.sandboxId(), TestSandboxes.request("\"x\""));
            assertThat(new String(o.payload(), StandardCharsets.UTF_8)).isEqualTo("\"x\"");
            assertThat(report(o)).contains("\tInit Duration: ");
            // dropped, then this boot took the snapshot again
            assertThat(driver.calls.subList(2, driver.calls.size()))
                    .containsExactly("restore", "dropSnapshot", "startSnapshottable", "snapshot " + h.sandboxId());
        }
    }
}

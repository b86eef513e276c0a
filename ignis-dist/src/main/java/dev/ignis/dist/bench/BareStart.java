package dev.ignis.dist.bench;

import dev.ignis.runtimes.RuntimeDefinition;
import dev.ignis.testfunctions.TestFunctions;
import dev.ignis.worker.SandboxEnvironment;
import dev.ignis.worker.SandboxSpec;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipInputStream;

/**
 * The floor of a cold start: the runtime's own command (the same interpreter, runtime client,
 * handler module and environment a sandbox gets), started on the host without any sandbox, timed from
 * process start to its first {@code GET /runtime/invocation/next} at a stand-in Runtime API. A
 * sandbox's Init Duration spans the same two moments, so the difference is what the sandbox costs.
 */
final class BareStart implements AutoCloseable {
    private static final String NEXT = "GET /2018-06-01/runtime/invocation/next ";
    private final RuntimeDefinition runtime;
    private final String handler;
    private final Path code;
    private final Path output;

    BareStart(RuntimeDefinition runtime, String fixture, String handler) throws IOException {
        this.runtime = runtime;
        this.handler = handler;
        this.code = unzip(TestFunctions.zip(fixture));
        this.output = Files.createTempFile("ignis-bare-", ".log");
    }

    /** One start, in milliseconds. */
    double once() throws Exception {
        try (ServerSocket api = new ServerSocket(0, 4, InetAddress.getLoopbackAddress())) {
            api.setSoTimeout(30_000);
            ProcessBuilder pb = new ProcessBuilder(command()).directory(code.toFile())
                    .redirectErrorStream(true).redirectOutput(output.toFile());
            pb.environment().clear();
            pb.environment().putAll(environment("127.0.0.1:" + api.getLocalPort()));
            long t0 = System.nanoTime();
            Process p = pb.start();
            try {
                while (true) {
                    try (Socket s = api.accept()) {
                        if (readHead(s.getInputStream()).startsWith(NEXT)) {
                            return (System.nanoTime() - t0) / 1e6;
                        }
                    } catch (SocketTimeoutException e) {
                        throw new IllegalStateException("the bare runtime " + runtime.id() + " never asked for an invoke"
                                + (p.isAlive() ? "" : " (it exited with " + p.exitValue() + "): " + tail()), e);
                    }
                }
            } finally {
                p.destroyForcibly().waitFor();
            }
        }
    }

    private String tail() throws IOException {
        String out = Files.readString(output);
        return out.substring(Math.max(0, out.length() - 2000));
    }

    private List<String> command() {
        List<String> argv = new ArrayList<>();
        runtime.command().forEach(a -> argv.add(host(a)));
        return argv;
    }

    /** The environment a sandbox of this runtime gets, with the host's paths for /var/task and /var/runtime. */
    private Map<String, String> environment(String apiAddress) {
        SandboxSpec spec = new SandboxSpec("000000000000", "us-east-1", "bare", "arn:aws:lambda:us-east-1:000000000000:function:bare",
                "$LATEST", "bare", runtime.id(), handler, 1769, 3, 512, Map.of(), code);
        Map<String, String> env = new HashMap<>();
        SandboxEnvironment.of(spec, runtime, "bare", apiAddress).forEach((k, v) -> env.put(k, host(v)));
        return env;
    }

    /** The sandbox's paths /var/runtime and /var/task, as they are on the host. */
    private String host(String s) {
        String r = runtime.runtimeDirectory() == null ? s : s.replace("/var/runtime", runtime.runtimeDirectory().toString());
        return r.replace("/var/task", code.toString());
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0 && b.length() < 8192) {
            b.append((char) c);
            if (b.length() >= 4 && b.substring(b.length() - 4).equals("\r\n\r\n")) {
                break;
            }
        }
        return b.toString();
    }

    private static Path unzip(byte[] zip) throws IOException {
        Path dir = Files.createTempDirectory("ignis-bare-");
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
            for (var e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                Path to = dir.resolve(e.getName()).normalize();
                if (!to.startsWith(dir)) {
                    throw new IOException("bad fixture entry " + e.getName());
                }
                if (e.isDirectory()) {
                    Files.createDirectories(to);
                } else {
                    Files.createDirectories(to.getParent());
                    Files.write(to, in.readAllBytes());
                    if (to.getFileName().toString().equals("bootstrap")) {
                        to.toFile().setExecutable(true);
                    }
                }
            }
        }
        return dir;
    }

    @Override
    public void close() throws IOException {
        Files.deleteIfExists(output);
        try (Stream<Path> s = Files.walk(code)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}

package dev.ignis.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.runtimes.RuntimeDefinition;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * Test fixture: a real SandboxWorker on the bubblewrap driver, with two test runtimes — a provided.al2023-style one whose
 * bootstraps are shell scripts using curl, and a python3.11 one with a tiny runtime loop (stdlib
 * http.client) that calls {@code handler(event)} from /var/task/function.py.
 */
final class TestSandboxes implements AutoCloseable {
    static final List<Path> HOST_PATHS = List.of(Path.of("/usr"), Path.of("/lib"), Path.of("/lib64"), Path.of("/bin"), Path.of("/sbin"));
    static final String ACCOUNT = "123456789012";
    static final int PIDS_MAX = 128;

    /** The python runtime loop: keep-alive http.client, JSON in and out, exceptions to /error. */
    static final String PY_RUNTIME = """
            import http.client, json, os, sys, traceback, importlib.util
            host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
            conn = http.client.HTTPConnection(host, int(port))
            base = "/2018-06-01/runtime"
            def post(path, body, headers={}):
                conn.request("POST", base + path, body, headers)
                r = conn.getresponse(); r.read(); return r.status
            try:
                spec = importlib.util.spec_from_file_location("function", os.environ.get("LAMBDA_TASK_ROOT", "/var/task") + "/function.py")
                fn = importlib.util.module_from_spec(spec); spec.loader.exec_module(fn)
            except Exception as e:
                post("/init/error", json.dumps({"errorMessage": str(e), "errorType": "Runtime.ImportModuleError"}),
                     {"Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError"})
                sys.exit(1)
            while True:
                conn.request("GET", base + "/invocation/next")
                r = conn.getresponse(); event = r.read()
                rid = r.getheader("Lambda-Runtime-Aws-Request-Id")
                try:
                    out = fn.handler(json.loads(event) if event else None)
                    post("/invocation/" + rid + "/response", json.dumps(out))
                except Exception as e:
                    post("/invocation/" + rid + "/error",
                         json.dumps({"errorMessage": str(e), "errorType": type(e).__name__, "stackTrace": traceback.format_exc().splitlines()}),
                         {"Lambda-Runtime-Function-Error-Type": "Runtime.UserException"})
            """;

    /** Echo bootstrap: returns the event unchanged, logs a line per invoke. */
    static final String ECHO_BOOTSTRAP = """
            #!/bin/sh
            API="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
            while true; do
              curl -sS -o /tmp/event -D /tmp/headers "$API/invocation/next" || exit 3
              RID=$(grep -i '^lambda-runtime-aws-request-id:' /tmp/headers | cut -d' ' -f2 | tr -d '\\r')
              echo "handling $RID"
              curl -sS -o /dev/null -X POST --data-binary @/tmp/event "$API/invocation/$RID/response" || exit 4
            done
            """;

    final Path base;
    final Path runtimeDir;
    final SandboxWorker worker;
    /** The bubblewrap driver, or null when the suite runs on another driver ({@link #sandboxDriver}). */
    final BubblewrapDriver driver;
    final SandboxDriver sandboxDriver;
    final String workerId;
    /** Runtimes a test adds after start (the worker looks runtimes up at createSandbox). */
    final Map<String, RuntimeDefinition> extraRuntimes = new java.util.concurrent.ConcurrentHashMap<>();

    TestSandboxes() {
        this(java.time.Duration.ofSeconds(10));
    }

    /** Every sandbox started on {@code path} (the invoke and isolation suites run over both start paths). */
    TestSandboxes(BubblewrapDriver.StartPath path) {
        this(java.time.Duration.ofSeconds(10), null, WorkerCapacity.ofHost(), path);
    }

    TestSandboxes(java.time.Duration initTimeout) {
        this(initTimeout, null, WorkerCapacity.ofHost());
    }

    TestSandboxes(WorkerCapacity capacity) {
        this(java.time.Duration.ofSeconds(10), null, capacity);
    }

    /** {@code runtimeApi}: the Runtime API's bounds, or null for the defaults. */
    TestSandboxes(java.time.Duration initTimeout, dev.ignis.worker.runtimeapi.RuntimeApiLimits runtimeApi) {
        this(initTimeout, runtimeApi, WorkerCapacity.ofHost());
    }

    TestSandboxes(java.time.Duration initTimeout, dev.ignis.worker.runtimeapi.RuntimeApiLimits runtimeApi, WorkerCapacity capacity) {
        this(initTimeout, runtimeApi, capacity, BubblewrapDriver.StartPath.AUTO);
    }

    TestSandboxes(java.time.Duration initTimeout, dev.ignis.worker.runtimeapi.RuntimeApiLimits runtimeApi, WorkerCapacity capacity,
                  BubblewrapDriver.StartPath path) {
        this(initTimeout, runtimeApi, capacity, config -> new BubblewrapDriver(config, path));
    }

    /** A worker on the driver {@code drivers} makes (the invoke suites run on every driver). */
    TestSandboxes(java.util.function.Function<WorkerConfig, SandboxDriver> drivers) {
        this(java.time.Duration.ofSeconds(30), null, WorkerCapacity.ofHost(), drivers);
    }

    TestSandboxes(java.time.Duration initTimeout, dev.ignis.worker.runtimeapi.RuntimeApiLimits runtimeApi, WorkerCapacity capacity,
                  java.util.function.Function<WorkerConfig, SandboxDriver> drivers) {
        try {
            base = Files.createDirectories(Path.of("/tmp/ignis-worker-test-" + UUID.randomUUID()));
            Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
            runtimeDir = Files.createDirectories(base.resolve("runtime-python"));
            Files.writeString(runtimeDir.resolve("runtime.py"), PY_RUNTIME);
            worldReadable(runtimeDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        workerId = "t" + HexFormat.of().formatHex(new byte[] {(byte) ThreadLocalRandom.current().nextInt(),
                (byte) ThreadLocalRandom.current().nextInt(), (byte) ThreadLocalRandom.current().nextInt()});
        Map<String, RuntimeDefinition> runtimes = Map.of(
                "provided.al2023", new RuntimeDefinition("provided.al2023", "host /bin/sh + curl", null, HOST_PATHS,
                        List.of("/var/task/bootstrap"), Map.of()),
                "python3.11", new RuntimeDefinition("python3.11", "Debian python3.11", runtimeDir, HOST_PATHS,
                        List.of("/usr/bin/python3.11", "-u", "/var/runtime/runtime.py"), Map.of("PYTHONDONTWRITEBYTECODE", "1")));
        WorkerConfig d = WorkerConfig.defaults(workerId, base.resolve("data"), id -> Optional.ofNullable(runtimes.getOrDefault(id, extraRuntimes.get(id))));
        WorkerConfig config = new WorkerConfig(d.workerId(), d.dataDir(), d.runtimes(), d.clock(), d.uidBase(), d.uidCount(),
                PIDS_MAX, initTimeout, d.logFileMaxBytes(), d.logFilesKept(), d.warmNetns(), runtimeApi != null ? runtimeApi : d.runtimeApi(),
                capacity);
        sandboxDriver = drivers.apply(config);
        driver = sandboxDriver instanceof BubblewrapDriver b ? b : null;
        worker = new SandboxWorker(config, sandboxDriver);
    }

    /** Whether a live sandbox started in a ready shell. */
    boolean startedInShell(String sandboxId) {
        return BubblewrapDriver.startedInShell(worker.started(sandboxId));
    }

    /** A code directory holding the given files (executable when named bootstrap). */
    Path code(Map<String, String> files) {
        try {
            Path dir = Files.createDirectories(base.resolve("code-" + UUID.randomUUID()));
            for (var f : files.entrySet()) {
                Files.writeString(dir.resolve(f.getKey()), f.getValue());
            }
            worldReadable(dir);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static SandboxSpec spec(String runtime, Path code, int memoryMb, int timeoutSeconds, int tmpMb, Map<String, String> env) {
        String name = "fn-" + runtime.replace('.', '-');
        return new SandboxSpec(ACCOUNT, "us-east-1", name, "arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:" + name,
                "$LATEST", "rev-1", runtime, "function.handler", memoryMb, timeoutSeconds, tmpMb, env, code);
    }

    SandboxHandle shell(String bootstrap, int memoryMb, int timeoutSeconds) {
        return worker.createSandbox(spec("provided.al2023", code(Map.of("bootstrap", bootstrap)), memoryMb, timeoutSeconds, 64, Map.of()));
    }

    SandboxHandle python(String function, int memoryMb, int timeoutSeconds, int tmpMb) {
        return worker.createSandbox(spec("python3.11", code(Map.of("function.py", function)), memoryMb, timeoutSeconds, tmpMb, Map.of()));
    }

    static InvokeRequest request(String payload) {
        return new InvokeRequest(UUID.randomUUID().toString(), payload.getBytes(StandardCharsets.UTF_8),
                "arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:f", null, null, true);
    }

    InvokeOutcome invoke(SandboxHandle h, String payload) {
        return worker.invoke(h.sandboxId(), request(payload));
    }

    static String text(InvokeOutcome o) {
        return new String(o.payload(), StandardCharsets.UTF_8);
    }

    static String tail(InvokeOutcome o) {
        return new String(java.util.Base64.getDecoder().decode(o.logTail()), StandardCharsets.UTF_8);
    }

    private static void worldReadable(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.toList()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(
                        Files.isDirectory(p) || p.getFileName().toString().equals("bootstrap") ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
    }

    @Override
    public void close() {
        worker.close();
        // nor any mount (ready shells' slots are mounts on the host)
        try {
            assertThat(Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                    .filter(l -> l.contains(base.toString()) || l.contains(BubblewrapDriver.SLOTS + "/" + workerId + ".")).toList())
                    .as("leftover mounts").isEmpty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // nothing of this worker may survive it
        try (Stream<String> ns = Files.exists(Path.of("/run/netns")) ? Files.list(Path.of("/run/netns")).map(p -> p.getFileName().toString()) : Stream.empty()) {
            assertThat(ns.filter(n -> n.startsWith("ignis-" + workerId + "-")).toList()).as("leftover netns").isEmpty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (String c : List.of("memory", "cpu", "pids")) {
            try (Stream<Path> s = Files.walk(Path.of("/sys/fs/cgroup", c))) {
                assertThat(s.filter(p -> p.getFileName().toString().startsWith("sb-") && p.toString().contains("ignis-" + workerId)).toList())
                        .as("leftover cgroups").isEmpty();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        try (Stream<Path> s = Files.walk(base)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

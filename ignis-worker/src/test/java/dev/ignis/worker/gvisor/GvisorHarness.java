package dev.ignis.worker.gvisor;

import dev.ignis.runtimes.RuntimeDefinition;
import dev.ignis.worker.runtimeapi.RuntimeApi;
import dev.ignis.worker.runtimeapi.RuntimeApiServer;
import dev.ignis.worker.runtimeapi.RuntimeEvent;
import dev.ignis.worker.sandbox.Cgroups;
import dev.ignis.worker.sandbox.NetNamespaces;
import dev.ignis.worker.sandbox.SandboxLauncher;
import dev.ignis.worker.sandbox.UidRanges;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Test fixture: starts gVisor sandboxes with the worker's own pieces (launcher, cgroups, network namespaces,
 * uid block, Runtime API server) and {@link RunscCommand}, the way the gvisor driver does, without a worker.
 */
final class GvisorHarness implements AutoCloseable {
    static final List<Path> HOST_PATHS = List.of(Path.of("/usr"), Path.of("/lib"), Path.of("/lib64"), Path.of("/bin"), Path.of("/sbin"));

    final Runsc runsc;
    final Path base;
    final String name;
    private final Path launcher;
    private final Path await;
    private final Path noSeccomp;
    private final NetNamespaces netns;
    private final Cgroups cgroups;
    private final UidRanges.Claim uids;
    private final ExecutorService owner;
    private final SandboxLauncher.Ready launchers;
    private final AtomicInteger next = new AtomicInteger();

    GvisorHarness(Runsc runsc) {
        this.runsc = runsc;
        name = "gvt" + HexFormat.of().formatHex(new byte[] {(byte) ThreadLocalRandom.current().nextInt(), (byte) ThreadLocalRandom.current().nextInt(),
                (byte) ThreadLocalRandom.current().nextInt()});
        try {
            base = Files.createDirectories(Path.of("/tmp/ignis-gvisor-test-" + UUID.randomUUID()));
            Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
            Path sandboxDir = Files.createDirectories(base.resolve("sandbox"));
            Files.setPosixFilePermissions(sandboxDir, PosixFilePermissions.fromString("rwx------"));
            launcher = SandboxLauncher.build(sandboxDir);
            Path shells = Files.createDirectories(base.resolve("shells"));
            Files.setPosixFilePermissions(shells, PosixFilePermissions.fromString("rwx--x--x"));
            await = shells.resolve("ignis-await");
            Files.copy(launcher, await, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(await, PosixFilePermissions.fromString("r-xr-xr-x"));
            noSeccomp = sandboxDir.resolve("no-seccomp");
            Files.write(noSeccomp, new byte[0]);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        netns = new NetNamespaces("ignis-" + name + "-", 0);
        cgroups = Cgroups.detect("ignis-" + name);
        uids = UidRanges.claim(200_000, 1000);
        owner = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "gvisor-test-owner");
            t.setDaemon(true);
            return t;
        });
        launchers = new SandboxLauncher.Ready(launcher, owner, 1);
    }

    /** A world-readable directory holding the given files (executable when named bootstrap or *.sh). */
    Path dir(Map<String, String> files) {
        try {
            Path d = Files.createDirectories(base.resolve("code-" + UUID.randomUUID()));
            for (var f : files.entrySet()) {
                Path p = d.resolve(f.getKey());
                Files.writeString(p, f.getValue());
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(
                        f.getKey().equals("bootstrap") || f.getKey().endsWith(".sh") ? "rwxr-xr-x" : "rw-r--r--"));
            }
            Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One started gVisor sandbox. */
    final class Started implements AutoCloseable {
        final String id;
        final int uid;
        final NetNamespaces.Netns ns;
        final RuntimeApiServer server;
        final Cgroups.Group group;
        final RunscCommand.Prepared prepared;
        final Process process;
        final long startNanos;
        private final ByteArrayOutputStream output = new ByteArrayOutputStream();
        private final Thread pump;

        Started(String id, int uid, NetNamespaces.Netns ns, RuntimeApiServer server, Cgroups.Group group,
                RunscCommand.Prepared prepared, Process process, long startNanos) {
            this.id = id;
            this.uid = uid;
            this.ns = ns;
            this.server = server;
            this.group = group;
            this.prepared = prepared;
            this.process = process;
            this.startNanos = startNanos;
            this.pump = Thread.ofVirtual().start(() -> {
                byte[] buf = new byte[8192];
                try (InputStream in = process.getInputStream()) {
                    for (int n; (n = in.read(buf)) > 0; ) {
                        synchronized (output) {
                            output.write(buf, 0, n);
                        }
                    }
                } catch (IOException ignored) {
                    // the process is gone
                }
            });
        }

        /** The runtime's first event (its first /next, an init error, or its exit), waited for at most {@code max}. */
        RuntimeEvent init(Duration max) throws Exception {
            return server.api().init().get(max.toMillis(), TimeUnit.MILLISECONDS);
        }

        String output() {
            synchronized (output) {
                return output.toString(StandardCharsets.UTF_8);
            }
        }

        /** Output once the process has ended (waits at most {@code max}). */
        String outputAfterExit(Duration max) throws Exception {
            process.waitFor(max.toMillis(), TimeUnit.MILLISECONDS);
            pump.join(2000);
            return output();
        }

        /** Host pids in the sandbox's cgroup (runsc, the Sentry, the Gofer, the stubs). */
        List<Long> pids() {
            try {
                return Files.readAllLines(group.procsFiles().getFirst()).stream().filter(s -> !s.isBlank()).map(Long::parseLong).toList();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void close() {
            group.killAll();
            process.destroyForcibly();
            try {
                process.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            server.close();
            server.api().close(new IllegalStateException("closed"));
            group.remove();
            netns.release(ns);
            prepared.remove();
        }
    }

    /** Starts {@code runtime} with {@code code} at /var/task under runsc, as the driver would. */
    Started start(RuntimeDefinition runtime, Path code, int memoryMb, int tmpMb, Map<String, String> env) throws Exception {
        String id = "sb-" + next.incrementAndGet();
        int uid = uids.range().first() + next.get();
        NetNamespaces.Netns ns = netns.acquire();
        RuntimeApiServer server = new RuntimeApiServer(netns.openLoopbackListener(ns, 9001), new RuntimeApi(), id);
        Cgroups.Limits limits = Cgroups.Limits.forMemory(memoryMb, 256);
        Cgroups.Group group = cgroups.create(id, limits);
        RunscCommand.Prepared prepared = RunscCommand.prepare(runsc, base.resolve("gvisor"), await, noSeccomp,
                new RunscCommand.Params(id, group.procsFiles(), ns.path(), uid, runtime, code, tmpMb * 1024L * 1024L,
                        limits.memoryBytes(), limits.cpuQuotaMicros(), limits.cpuPeriodMicros(), limits.pidsMax(), null));
        Map<String, String> all = new java.util.LinkedHashMap<>(Map.of("PATH", "/usr/bin:/bin", "HOME", "/tmp", "LANG", "C.UTF-8",
                "AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001", "LAMBDA_TASK_ROOT", "/var/task"));
        all.putAll(runtime.environment());
        all.putAll(env);
        long t0 = System.nanoTime();
        Process p = launchers.start(prepared.launcherArgs(), SandboxLauncher.Ready.runtimeMessage(runtime.command(), all));
        return new Started(id, uid, ns, server, group, prepared, p, t0);
    }

    static RuntimeDefinition python(Path runtimeDir) {
        return new RuntimeDefinition("python3.11", "Debian python3.11", runtimeDir, HOST_PATHS,
                List.of("/usr/bin/python3.11", "-u", "/var/runtime/runtime.py"), Map.of("PYTHONDONTWRITEBYTECODE", "1"));
    }

    static RuntimeDefinition provided() {
        return new RuntimeDefinition("provided.al2023", "host /bin/sh", null, HOST_PATHS, List.of("/var/task/bootstrap"), Map.of());
    }

    @Override
    public void close() {
        launchers.close();
        owner.shutdownNow();
        netns.close();
        cgroups.removeAll();
        uids.close();
        try (Stream<Path> s = Files.walk(base)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

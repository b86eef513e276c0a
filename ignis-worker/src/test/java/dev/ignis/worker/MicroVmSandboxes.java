package dev.ignis.worker;

import dev.ignis.runtimes.RuntimeDefinition;
import dev.ignis.worker.microvm.GuestImage;
import dev.ignis.worker.microvm.MicroVmDriver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * Test fixture: a real SandboxWorker on the microvm driver (QEMU microvm, KVM or TCG), with the same two test runtimes
 * as {@link TestSandboxes} (a shell bootstrap with curl; a python3.11 loop). The guest image comes from
 * {@link MicroVmDriver#defaultCacheDir()} (fetched and built on first use). Init is bounded at 3 minutes: under TCG
 * on a loaded 2-core host a boot and Python's start take tens of seconds.
 */
final class MicroVmSandboxes implements AutoCloseable {
    final Path base;
    final SandboxWorker worker;
    final MicroVmDriver driver;

    MicroVmSandboxes() {
        this(false);
    }

    /**
     * @param narrowPython python3.11 gets what the runtime catalog gives it (the interpreter, its stdlib, the shared
     *                     libraries it and its extension modules link) rather than the host's whole /usr: the shape a
     *                     snapshottable VM needs (its directories become disk images, docs/snapshots.md)
     */
    MicroVmSandboxes(boolean narrowPython) {
        try {
            base = Files.createDirectories(Path.of("/tmp/ignis-microvm-test-" + UUID.randomUUID()));
            Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
            Path runtimeDir = Files.createDirectories(base.resolve("runtime-python"));
            Files.writeString(runtimeDir.resolve("runtime.py"), TestSandboxes.PY_RUNTIME);
            Files.setPosixFilePermissions(runtimeDir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(runtimeDir.resolve("runtime.py"), PosixFilePermissions.fromString("rw-r--r--"));
            String workerId = "m" + HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt());
            Map<String, RuntimeDefinition> runtimes = Map.of(
                    "provided.al2023", new RuntimeDefinition("provided.al2023", "host /bin/sh + curl", null,
                            TestSandboxes.HOST_PATHS, List.of("/var/task/bootstrap"), Map.of()),
                    "python3.11", narrowPython ? narrowPython(runtimeDir)
                            : new RuntimeDefinition("python3.11", "Debian python3.11", runtimeDir, TestSandboxes.HOST_PATHS,
                            List.of("/usr/bin/python3.11", "-u", "/var/runtime/runtime.py"), Map.of("PYTHONDONTWRITEBYTECODE", "1")));
            WorkerConfig d = WorkerConfig.defaults(workerId, base.resolve("data"), id -> Optional.ofNullable(runtimes.get(id)));
            WorkerConfig config = new WorkerConfig(d.workerId(), d.dataDir(), d.runtimes(), d.clock(), d.uidBase(), d.uidCount(),
                    d.pidsMax(), Duration.ofMinutes(3), d.logFileMaxBytes(), d.logFilesKept(), d.warmNetns(), d.runtimeApi(), d.capacity());
            driver = new MicroVmDriver(config, GuestImage.prepare(MicroVmDriver.defaultCacheDir()));
            worker = new SandboxWorker(config, driver);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** python3.11 as the catalog shapes it: the interpreter and ld.so (files), its stdlib, a copy of its libraries. */
    private RuntimeDefinition narrowPython(Path runtimeDir) throws IOException {
        Path libs = Files.createDirectories(base.resolve("python-libs"));
        List<String> objects = new java.util.ArrayList<>(List.of("/usr/bin/python3.11"));
        try (Stream<Path> s = Files.list(Path.of("/usr/lib/python3.11/lib-dynload"))) {
            s.map(Path::toString).filter(n -> n.endsWith(".so")).sorted().forEach(objects::add);
        }
        List<String> cmd = new java.util.ArrayList<>(List.of("ldd"));
        cmd.addAll(objects);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("=> (/lib/x86_64-linux-gnu/\\S+)").matcher(out);
        while (m.find()) {
            Path lib = Path.of(m.group(1));
            Path to = libs.resolve(lib.getFileName());
            if (!Files.exists(to)) {
                Files.copy(lib, to);
                Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        }
        Files.setPosixFilePermissions(libs, PosixFilePermissions.fromString("rwxr-xr-x"));
        return new RuntimeDefinition("python3.11", "Debian python3.11 (catalog shape)", runtimeDir,
                List.of(Path.of("/usr/bin/python3.11"), Path.of("/lib64/ld-linux-x86-64.so.2"), Path.of("/usr/lib/python3.11")),
                List.of("/usr/bin/python3.11", "-u", "/var/runtime/runtime.py"), Map.of("PYTHONDONTWRITEBYTECODE", "1"),
                Map.of(Path.of("/lib/x86_64-linux-gnu"), libs));
    }

    /** A python3.11 function's spec (one code directory: every sandbox of it shares one snapshot key). */
    SandboxSpec pythonSpec(String function, int memoryMb, int timeoutSeconds) {
        return TestSandboxes.spec("python3.11", code(Map.of("function.py", function)), memoryMb, timeoutSeconds, 64,
                Map.of("SECRET_OF_THE_FUNCTION", "s3cr3t"));
    }

    Path code(Map<String, String> files) {
        try {
            Path dir = Files.createDirectories(base.resolve("code-" + UUID.randomUUID()));
            for (var f : files.entrySet()) {
                Path p = dir.resolve(f.getKey());
                Files.writeString(p, f.getValue());
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(
                        f.getKey().equals("bootstrap") ? "rwxr-xr-x" : "rw-r--r--"));
            }
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    SandboxHandle python(String function, int memoryMb, int timeoutSeconds) {
        return worker.createSandbox(TestSandboxes.spec("python3.11", code(Map.of("function.py", function)), memoryMb,
                timeoutSeconds, 64, Map.of("SECRET_OF_THE_FUNCTION", "s3cr3t")));
    }

    SandboxHandle shell(String bootstrap, int memoryMb, int timeoutSeconds) {
        return worker.createSandbox(TestSandboxes.spec("provided.al2023", code(Map.of("bootstrap", bootstrap)), memoryMb,
                timeoutSeconds, 64, Map.of()));
    }

    InvokeOutcome invoke(SandboxHandle h, String payload) {
        return worker.invoke(h.sandboxId(), TestSandboxes.request(payload));
    }

    @Override
    public void close() {
        worker.close();
        try (Stream<Path> s = Files.walk(base)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

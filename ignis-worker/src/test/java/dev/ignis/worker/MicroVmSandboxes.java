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
                    "python3.11", new RuntimeDefinition("python3.11", "Debian python3.11", runtimeDir, TestSandboxes.HOST_PATHS,
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

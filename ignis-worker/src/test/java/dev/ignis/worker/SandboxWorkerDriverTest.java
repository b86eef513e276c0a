package dev.ignis.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.runtimes.RuntimeDefinition;
import dev.ignis.worker.runtimeapi.RuntimeEvent;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The worker's side of the {@link SandboxDriver} contract, with a driver that starts nothing (no root needed). */
class SandboxWorkerDriverTest {
    @TempDir
    Path dir;

    /** A driver whose starts throw ({@code failStart}) or return a sandbox that never connects its Runtime API; records what the worker called. */
    static final class FakeDriver implements SandboxDriver {
        final List<String> calls = new ArrayList<>();
        final boolean failStart;

        FakeDriver(boolean failStart) {
            this.failStart = failStart;
        }

        @Override
        public String name() {
            return "fake";
        }

        @Override
        public Availability probe() {
            return new Availability.Available();
        }

        @Override
        public boolean canSnapshot() {
            return false;
        }

        @Override
        public long pidsInUse() {
            return 0;
        }

        @Override
        public Sandbox start(Start start) {
            calls.add("start " + start.environment().get("AWS_LAMBDA_RUNTIME_API"));
            if (failStart) {
                throw new IllegalStateException("no room for it");
            }
            var exit = new CompletableFuture<RuntimeEvent.Exited>();
            return new Sandbox() {
                @Override
                public String id() {
                    return "sb-fake";
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
                    calls.add("stop");
                    exit.complete(new RuntimeEvent.Exited(137, false));
                }

                @Override
                public void close() {
                    calls.add("close");
                }
            };
        }

        @Override
        public void close() {
            calls.add("driver close");
        }
    }

    private SandboxWorker worker(FakeDriver driver) throws Exception {
        RuntimeDefinition rt = new RuntimeDefinition("python3.11", "test", null, List.of(), List.of("/bin/true"), Map.of());
        WorkerConfig config = WorkerConfig.defaults("wfake", dir.resolve("data"), id -> Optional.of(rt))
                .withCapacity(new WorkerCapacity(256, 10_000));
        return new SandboxWorker(config, driver);
    }

    private SandboxSpec spec() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path code = Files.createDirectories(dir.resolve("code"));
        Files.setPosixFilePermissions(code, PosixFilePermissions.fromString("rwxr-xr-x"));
        return TestSandboxes.spec("python3.11", code, 256, 3, 64, Map.of());
    }

    @Test
    void aFailedStartGivesItsAdmissionBack() throws Exception {
        FakeDriver driver = new FakeDriver(true);
        try (SandboxWorker w = worker(driver)) {
            SandboxSpec spec = spec();
            // the whole capacity (256 MB) each time: a ticket kept by the first failure would refuse the second
            for (int i = 0; i < 2; i++) {
                assertThatThrownBy(() -> w.createSandbox(spec)).isInstanceOf(IllegalStateException.class).hasMessage("no room for it");
            }
            assertThat(driver.calls).containsExactly("start 127.0.0.1:9001", "start 127.0.0.1:9001");
            assertThat(w.sandboxes()).isEmpty();
        }
        assertThat(driver.calls).last().isEqualTo("driver close");
    }

    @Test
    void aDriverThatNeverConnectsTheRuntimeApiIsRefusedAndItsSandboxStoppedAndClosed() throws Exception {
        FakeDriver driver = new FakeDriver(false);
        try (SandboxWorker w = worker(driver)) {
            assertThatThrownBy(() -> w.createSandbox(spec())).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("without connecting its Runtime API");
            assertThat(driver.calls).containsExactly("start 127.0.0.1:9001", "stop", "close");
            assertThat(w.sandboxes()).isEmpty();
        }
    }
}

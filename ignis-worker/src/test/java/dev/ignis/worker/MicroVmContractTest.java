package dev.ignis.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.worker.microvm.GuestImage;
import dev.ignis.worker.microvm.MicroVmDriver;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;

/**
 * {@link SandboxContract} on the microvm driver (QEMU microvm, KVM or TCG): every sandbox boots a Linux kernel. Tagged
 * {@code microvm}, kept out of the default run; {@code ./mvnw -pl ignis-worker -am verify -Pmicrovm -Dtest=MicroVmContractTest}.
 * The guest image comes from {@link MicroVmDriver#defaultCacheDir()} (fetched and built on first use).
 */
@Tag("microvm")
class MicroVmContractTest extends SandboxContract {
    @Override
    TestSandboxes sandboxes(Duration initTimeout) {
        return new TestSandboxes(initTimeout, null, WorkerCapacity.ofHost(),
                config -> new MicroVmDriver(config, GuestImage.prepare(MicroVmDriver.defaultCacheDir())));
    }

    /** Under TCG on a loaded 2-core host a boot and Python's start take tens of seconds. */
    @Override
    Duration initTimeout() {
        return Duration.ofMinutes(3);
    }

    @Override
    int timeoutSeconds() {
        return 2;
    }

    @Override
    Boundary boundary() {
        return Boundary.MICROVM;
    }

    private MicroVmDriver driver() {
        return (MicroVmDriver) t.sandboxDriver;
    }

    @Override
    Runnable stopCheck(SandboxHandle h) {
        long pid = driver().info(h.sandboxId()).orElseThrow().qemuPid();
        assertThat(ProcessHandle.of(pid)).as("QEMU's process").isPresent();
        return () -> {
            // the whole VM is gone, not just the runtime (QEMU inside its bwrap is reaped a moment after the outer process)
            ProcessHandle.of(pid).ifPresent(p -> p.onExit().completeOnTimeout(p, 5, java.util.concurrent.TimeUnit.SECONDS).join());
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("QEMU alive").isFalse();
            assertThat(driver().info(h.sandboxId())).isEmpty();
        };
    }

    @Override
    List<ProcessHandle> hostProcesses(List<SandboxHandle> sandboxes) {
        // each VM's QEMU (inside its bwrap) and whatever it runs
        return sandboxes.stream().map(h -> ProcessHandle.of(driver().info(h.sandboxId()).orElseThrow().qemuPid()).orElseThrow())
                .flatMap(p -> Stream.concat(Stream.of(p), p.descendants())).toList();
    }
}

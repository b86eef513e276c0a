package dev.ignis.worker;

import dev.ignis.worker.gvisor.GvisorDriver;
import java.time.Duration;
import java.util.List;

/**
 * {@link SandboxContract} on the gvisor driver (runsc, ptrace platform). gVisor boots its kernel inside the sandbox's
 * CPU share: init gets 30 s on a loaded 2-vCPU host.
 */
class GvisorContractTest extends SandboxContract {
    @Override
    TestSandboxes sandboxes(Duration initTimeout) {
        return GvisorSuites.sandboxes(initTimeout);
    }

    @Override
    Boundary boundary() {
        return Boundary.GVISOR;
    }

    @Override
    List<ProcessHandle> hostProcesses(List<SandboxHandle> sandboxes) {
        // runsc, its Sentry and Gofer, and the stubs of each sandbox: all started by this JVM's driver
        List<ProcessHandle> all = ProcessHandle.current().descendants().filter(p -> sandboxes.stream().anyMatch(h -> p.info().commandLine()
                .orElse("").contains("/gvisor/state/" + h.sandboxId()))).toList();
        org.assertj.core.api.Assertions.assertThat(all).as("runsc, Sentry and Gofer of each sandbox").hasSizeGreaterThanOrEqualTo(3 * sandboxes.size());
        return all;
    }
}

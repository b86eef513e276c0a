package dev.ignis.worker;

import java.time.Duration;
import java.util.List;

/** {@link SandboxContract} on the process driver (bubblewrap), every sandbox started from scratch. */
class ProcessContractTest extends SandboxContract {
    BubblewrapDriver.StartPath startPath() {
        return BubblewrapDriver.StartPath.FROM_SCRATCH;
    }

    @Override
    TestSandboxes sandboxes(Duration initTimeout) {
        return new TestSandboxes(initTimeout, null, WorkerCapacity.ofHost(), startPath());
    }

    @Override
    void checkStarted(SandboxHandle h) {
        org.assertj.core.api.Assertions.assertThat(t.startedInShell(h.sandboxId())).isEqualTo(startPath() == BubblewrapDriver.StartPath.READY_SHELL);
    }

    @Override
    Boundary boundary() {
        return Boundary.PROCESS;
    }

    @Override
    List<ProcessHandle> hostProcesses(List<SandboxHandle> sandboxes) {
        // the runtimes this JVM started (bwrap's init runs as the same uid: its own user namespace maps it)
        return ProcessHandle.current().descendants()
                .filter(p -> p.info().commandLine().orElse("").contains("/var/runtime/runtime.py")).toList();
    }
}

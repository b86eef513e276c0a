package dev.ignis.worker;

import java.time.Duration;

/** {@link FailureTest} on the gvisor driver: timeouts, crashes, OOM, init errors. */
class GvisorFailureTest extends FailureTest {
    @Override
    TestSandboxes sandboxes(Duration initTimeout) {
        // gVisor boots its kernel inside the sandbox's CPU share: a 10 s init budget is tight on a loaded 2-vCPU host
        return GvisorSuites.sandboxes(initTimeout.compareTo(Duration.ofSeconds(10)) >= 0 ? Duration.ofSeconds(30) : initTimeout);
    }
}

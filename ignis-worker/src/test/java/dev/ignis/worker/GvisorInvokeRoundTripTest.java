package dev.ignis.worker;

import java.time.Duration;

/** {@link InvokeRoundTripTest} on the gvisor driver. */
class GvisorInvokeRoundTripTest extends InvokeRoundTripTest {
    @Override
    TestSandboxes sandboxes() {
        return GvisorSuites.sandboxes(Duration.ofSeconds(30));
    }
}

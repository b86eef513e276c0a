package dev.ignis.worker;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ignis.worker.gvisor.GvisorDriver;
import dev.ignis.worker.gvisor.Runsc;
import java.nio.file.Files;
import java.time.Duration;

/** The worker's suites on the gvisor driver: skipped, saying so, only when runsc is not installed. */
final class GvisorSuites {
    private GvisorSuites() {}

    static TestSandboxes sandboxes(Duration initTimeout) {
        assumeTrue(Files.exists(Runsc.DEFAULT), "gVisor's runsc is not installed (" + Runsc.DEFAULT + "; Debian: apt-get install runsc)");
        return new TestSandboxes(initTimeout, null, WorkerCapacity.ofHost(), GvisorDriver::new);
    }
}

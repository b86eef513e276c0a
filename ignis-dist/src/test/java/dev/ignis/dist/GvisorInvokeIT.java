package dev.ignis.dist;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@link InvokeIT} on the gvisor sandbox driver ({@code ignis serve --sandbox gvisor}): every runtime of the real
 * catalog (python, node, AWS's Java RIC, provided), errors, timeouts and OOM through the AWS SDK. Skipped, saying so,
 * only when runsc is not installed.
 */
class GvisorInvokeIT extends InvokeIT {
    @Override
    PlatformConfig config(Path dataDir) {
        assumeTrue(Files.exists(Path.of("/usr/bin/runsc")), "gVisor's runsc is not installed (Debian: apt-get install runsc)");
        return super.config(dataDir).withSandboxDriver("gvisor");
    }
}

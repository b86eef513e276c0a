package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.worker.WorkerConfig;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SandboxDriversTest {
    @Test
    void anUnknownDriverIsRefusedWithTheNamesThatExist() {
        WorkerConfig c = WorkerConfig.defaults("wx", Path.of("/nonexistent"), id -> Optional.empty());
        assertThatThrownBy(() -> SandboxDrivers.worker("firecracker", c)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown sandbox driver firecracker").hasMessageContaining("[process, microvm]");
        assertThat(new PlatformConfig(Path.of("d"), "h", 1, java.time.Duration.ZERO, "w", Path.of("r")).sandboxDriver())
                .isEqualTo("process");
        assertThat(new ServeCommand().sandbox).isEqualTo("process");
    }
}

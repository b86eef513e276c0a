package dev.ignis.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SandboxDriversTest {
    @Test
    void anUnknownNameIsRefusedListingTheKnownOnesAndNothingIsStarted(@TempDir Path dir) {
        WorkerConfig config = WorkerConfig.defaults("tdrv", dir.resolve("data"), id -> Optional.empty());
        assertThatThrownBy(() -> SandboxDrivers.create("firecracker", config)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("process, gvisor, microvm");
        assertThat(dir.resolve("data")).doesNotExist();
        assertThat(SandboxDrivers.NAMES.getFirst()).isEqualTo("process");
    }
}

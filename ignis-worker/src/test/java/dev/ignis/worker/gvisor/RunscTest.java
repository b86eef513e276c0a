package dev.ignis.worker.gvisor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunscTest {
    private static final Path BIN = Path.of("/usr/bin/runsc");

    @Test
    void debiansAndGvisorsOwnVersionStringsAreRead() {
        Runsc debian = Runsc.parse(BIN, "runsc version 0.0~20221219.0\nspec: 1.0.2-dev\n");
        assertThat(debian.buildDate()).isEqualTo(20221219);
        assertThat(debian.platform()).isEqualTo("ptrace");
        assertThat(debian.describe()).contains("the tested release");
        Runsc release = Runsc.parse(BIN, "runsc version release-20240513.0\nspec: 1.1.0\n");
        assertThat(release.buildDate()).isEqualTo(20240513);
        assertThat(release.describe()).contains("untested", Runsc.TESTED);
    }

    @Test
    void anOlderReleaseIsRefusedNamingTheTestedOne() {
        assertThatThrownBy(() -> Runsc.parse(BIN, "runsc version release-20210906.0\n"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("release-20210906.0").hasMessageContaining("older").hasMessageContaining(Runsc.TESTED);
    }

    @Test
    void somethingThatIsNotRunscIsRefused() {
        assertThatThrownBy(() -> Runsc.parse(BIN, "docker version 24.0\n")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("docker version 24.0");
        assertThatThrownBy(() -> Runsc.parse(BIN, "")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aMissingBinarySaysWhatToInstall(@TempDir Path dir) {
        assertThatThrownBy(() -> Runsc.probe(dir.resolve("runsc"))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("apt-get install runsc").hasMessageContaining("gvisor.dev");
    }

    @Test
    void aBinaryThatFailsIsRefusedWithItsOutput(@TempDir Path dir) throws Exception {
        Path fake = dir.resolve("runsc");
        Files.writeString(fake, "#!/bin/sh\necho 'broken install' >&2\nexit 3\n");
        fake.toFile().setExecutable(true);
        assertThatThrownBy(() -> Runsc.probe(fake)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("exit 3").hasMessageContaining("broken install");
    }
}

package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `ignis serve` refuses clearly, and leaves the running server alone, when its data directory or port is taken. */
class ServeCommandIT {
    @TempDir Path dir;
    @TempDir Path other;

    record Exit(int code, String output) {}

    static Exit serve(String... args) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        var cmd = new java.util.ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "dev.ignis.dist.Main", "serve", "--runtime-home", TestPlatform.RUNTIME_HOME.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError("serve did not exit");
        }
        return new Exit(p.exitValue(), new String(p.getInputStream().readAllBytes()));
    }

    @Test
    void dataDirectoryInUseAndPortInUse() throws Exception {
        ChildServer running = ChildServer.start(dir);
        try {
            Exit sameDir = serve("--data-dir", dir.toString(), "--port", "0");
            assertThat(sameDir.code()).isEqualTo(1);
            assertThat(sameDir.output()).contains("another Ignis server (pid " + running.process().pid() + ") is using " + dir);

            Exit samePort = serve("--data-dir", other.toString(), "--port", Integer.toString(running.port()));
            assertThat(samePort.code()).isEqualTo(1);
            assertThat(samePort.output()).contains("cannot listen on 127.0.0.1:" + running.port());

            assertThat(running.process().isAlive()).isTrue();
        } finally {
            running.kill();
        }
    }

    /** Under a 0700 directory (what `mktemp -d` makes) sandboxes cannot reach their code: refused at start, not at the first invoke. */
    @Test
    void aDataDirectoryTheSandboxesCannotReachIsRefusedAtStart() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x")); // only `locked` stops them
        Path locked = Files.createDirectory(dir.resolve("private"));
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwx------"));
        Exit refused = serve("--data-dir", locked.resolve("data").toString(), "--port", "0");
        assertThat(refused.code()).as(refused.output()).isEqualTo(1);
        assertThat(refused.output()).contains("the data directory " + locked.resolve("data") + " cannot be reached by the sandboxes")
                .contains(locked + " is rwx------").contains("chmod o+x " + locked);
    }

    @Test
    void anUnknownSandboxDriverIsRefusedNamingTheKnownOnes() throws Exception {
        Exit refused = serve("--data-dir", dir.resolve("data").toString(), "--port", "0", "--sandbox", "firecracker");
        assertThat(refused.code()).as(refused.output()).isEqualTo(2);
        assertThat(refused.output()).contains("--sandbox must be one of process, gvisor");
        assertThat(dir.resolve("data")).doesNotExist();
    }
}

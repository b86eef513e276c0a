package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
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
}

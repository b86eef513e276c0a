package dev.ignis.dist;

import dev.ignis.common.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/** `ignis serve` as a child process of the test (so the test can kill -9 it), on a free port. */
record ChildServer(Process process, int port) {

    static ChildServer start(Path dataDir) throws Exception {
        Files.deleteIfExists(dataDir.resolve("server.json"));
        String java = ProcessHandle.current().info().command().orElse("java");
        Path log = dataDir.resolve("server.log");
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "dev.ignis.dist.Main", "serve", "--data-dir", dataDir.toString(), "--port", "0",
                "--runtime-home", TestPlatform.RUNTIME_HOME.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        Path file = dataDir.resolve("server.json");
        Instant deadline = Instant.now().plus(Duration.ofSeconds(120));
        while (Instant.now().isBefore(deadline)) {
            if (!p.isAlive()) {
                throw new AssertionError("server exited: " + Files.readString(log));
            }
            if (Files.exists(file)) {
                var json = Json.mapper().readTree(file.toFile());
                if (json.get("pid").asLong() == p.pid()) {
                    return new ChildServer(p, json.get("port").asInt());
                }
            }
            Thread.sleep(100);
        }
        p.destroyForcibly().waitFor();
        throw new AssertionError("server did not start: " + Files.readString(log));
    }

    /** kill -9. */
    void kill() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }
}

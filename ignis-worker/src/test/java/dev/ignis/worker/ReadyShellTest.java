package dev.ignis.worker;

import static dev.ignis.worker.TestSandboxes.text;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A cold start like a recent one finds a ready shell: the same confinement as a sandbox started from
 * scratch, its own code (mounted read-only over the shell's empty /var/task), nothing of the shell's
 * previous tenant, and no mount left once it is retired.
 */
class ReadyShellTest {
    static final String PROBE = """
            import os
            def handler(event):
                try:
                    open("/var/task/x", "w")
                    write = "ALLOWED"
                except OSError as e:
                    write = "DENIED " + str(e.errno)
                return {"files": sorted(os.listdir("/var/task")), "cwd": os.getcwd(), "write": write, "uid": os.getuid(),
                        "marker": open("/var/task/marker").read()}
            """;

    final TestSandboxes t = new TestSandboxes();

    @AfterEach
    void stop() {
        t.close();
    }

    SandboxHandle start(String marker, int memoryMb) {
        Path code = t.code(Map.of("function.py", PROBE, "marker", marker));
        return t.worker.createSandbox(TestSandboxes.spec("python3.11", code, memoryMb, 10, 16, Map.of()));
    }

    void awaitReadyShells(int n) throws InterruptedException {
        for (int i = 0; i < 200 && t.driver.readyShells() < n; i++) {
            Thread.sleep(50);
        }
        assertThat(t.driver.readyShells()).isEqualTo(n);
    }

    @Test
    void aShellStartRunsTheNewFunctionsOwnCodeConfinedAndLeavesNoMountBehind() throws Exception {
        SandboxHandle first = start("first", 256);
        assertThat(t.startedInShell(first.sandboxId())).as("nothing was ready for the first cold start").isFalse();
        awaitReadyShells(1);

        SandboxHandle second = start("second", 256);
        assertThat(t.startedInShell(second.sandboxId())).isTrue();
        assertThat(second.initDuration()).isPositive();
        String out = text(t.invoke(second, "{}"));
        assertThat(out).contains("\"files\": [\"function.py\", \"marker\"]", "\"cwd\": \"/var/task\"",
                "\"write\": \"DENIED 30\"", "\"marker\": \"second\""); // 30: EROFS
        assertThat(out).doesNotContain("\"uid\": 0");
        assertThat(text(t.invoke(first, "{}"))).contains("\"marker\": \"first\"");

        // the next one like it is being readied; one of another memory size finds nothing ready
        awaitReadyShells(1);
        SandboxHandle other = start("other", 512);
        assertThat(t.startedInShell(other.sandboxId())).isFalse();

        // on the host: the slot's own bind (shared) and, over it, the function's code (read-only, nosuid, nodev)
        assertThat(mountsUnder(BubblewrapDriver.SLOTS).stream().filter(l -> l.contains(second.sandboxId())))
                .hasSize(2).anyMatch(l -> l.contains(" ro,nosuid,nodev"));
        t.worker.retire(second.sandboxId());
        assertThat(mountsUnder(BubblewrapDriver.SLOTS)).noneMatch(l -> l.contains(second.sandboxId()));
        assertThat(Files.exists(BubblewrapDriver.SLOTS.resolve(t.workerId + "." + second.sandboxId()))).isFalse();
        t.worker.retire(first.sandboxId());
        t.worker.retire(other.sandboxId());
        // close() (in stop) discards the waiting shells and checks that no mount is left
    }

    static java.util.List<String> mountsUnder(Path dir) throws java.io.IOException {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().filter(l -> l.contains(dir.toString() + "/")).toList();
    }
}

package dev.ignis.worker;

import static dev.ignis.worker.TestSandboxes.text;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A function whose Environment names a library of its own package in the loader's variables: it may
 * change its runtime (Lambda allows LD_PRELOAD and LD_LIBRARY_PATH there), never a process that runs on
 * the host before the sandbox confines it (the launcher, bwrap).
 */
class HostileEnvironmentTest {
    /** A constructor that records where it ran: into the host canary directory when it can, else into /tmp. */
    static final String PRELOAD = """
            #include <stdio.h>
            #include <unistd.h>
            __attribute__((constructor)) static void canary(void) {
                char ns[128] = "?", exe[256] = "?", path[512];
                ssize_t n = readlink("/proc/self/ns/mnt", ns, sizeof ns - 1);
                if (n > 0) ns[n] = 0;
                n = readlink("/proc/self/exe", exe, sizeof exe - 1);
                if (n > 0) exe[n] = 0;
                snprintf(path, sizeof path, "%s/preloaded-%d", CANARY, (int) getpid());
                FILE *f = fopen(path, "w");
                if (f == NULL) {
                    snprintf(path, sizeof path, "/tmp/preloaded-%d", (int) getpid());
                    f = fopen(path, "w");
                }
                if (f != NULL) {
                    fprintf(f, "%s %s uid=%d", exe, ns, (int) getuid());
                    fclose(f);
                }
            }
            """;

    static final String FUNCTION = """
            import os
            def handler(event):
                return {"env": os.environ.get("LD_PRELOAD"),
                        "preloaded": sorted(open("/tmp/" + f).read() for f in os.listdir("/tmp") if f.startswith("preloaded-"))}
            """;

    final TestSandboxes t = new TestSandboxes();

    @AfterEach
    void stop() {
        t.close();
    }

    @Test
    void aPreloadInTheFunctionsEnvironmentNeverRunsOnTheHost() throws Exception {
        // a directory every uid of the host may write to, that no sandbox can see
        Path canary = Files.createDirectories(t.base.resolve("canary"));
        Files.setPosixFilePermissions(canary, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path code = t.code(Map.of("function.py", FUNCTION));
        Path source = t.base.resolve("preload.c");
        Files.writeString(source, PRELOAD);
        Process cc = new ProcessBuilder("gcc", "-shared", "-fPIC", "-DCANARY=\"" + canary + "\"", "-o",
                code.resolve("preload.so").toString(), source.toString()).inheritIO().start();
        assertThat(cc.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(cc.exitValue()).isZero();
        Files.setPosixFilePermissions(code.resolve("preload.so"), PosixFilePermissions.fromString("rwxr-xr-x"));

        // the host path works for a process on the host, /var/task's for one in the sandbox
        String preload = code.resolve("preload.so") + " /var/task/preload.so";
        int memoryMb = 320;
        for (String variable : List.of("LD_PRELOAD", "LD_AUDIT")) {
            Map<String, String> env = Map.of(variable, preload, "LD_LIBRARY_PATH", code.toString());
            // a memory size of its own: no ready shell exists for it, so this is a start from scratch
            SandboxHandle h = t.worker.createSandbox(TestSandboxes.spec("python3.11", code, memoryMb += 16, 10, 16, env));
            assertThat(t.startedInShell(h.sandboxId())).isFalse();
            String out = text(t.invoke(h, "{}"));
            t.worker.retire(h.sandboxId());
            try (Stream<Path> s = Files.list(canary)) {
                List<String> ranOnHost = s.map(p -> p + ": " + read(p)).toList();
                assertThat(ranOnHost).as(variable + " ran code on the host").isEmpty();
            }
            if (variable.equals("LD_PRELOAD")) {
                // the runtime itself still gets the function's variables, and the library ran in the sandbox only
                assertThat(out).contains("\"env\": \"" + preload + "\"").contains("/usr/bin/python3.11");
            }
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }
}

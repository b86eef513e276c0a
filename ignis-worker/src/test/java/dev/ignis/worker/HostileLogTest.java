package dev.ignis.worker;

import static dev.ignis.worker.TestSandboxes.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.worker.logs.LogFiles;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Attacks on the function log (issue #14, findings 4 and 11): a function that never stops printing, an operator who
 * truncates a live log file (logrotate's copytruncate), a tenant who fills the data disk. Each invoke must still
 * answer, on time, and the worker's other invokes must not notice.
 */
class HostileLogTest {
    static TestSandboxes t;

    /**
     * First invoke: starts four processes that print 1 KB lines without pause, 64 of them per write, and returns.
     * Later invokes: wait 1.2 s (so the flood runs through a whole second of the invoke) and return.
     */
    static final String FLOOD_AFTER_RETURN = """
            import os, time
            def handler(event):
                if event != 1:
                    time.sleep(1.2)
                    return 'waited'
                for _ in range(4):
                    if os.fork() == 0:
                        lines = (b'x' * 1000 + b'\\n') * 64
                        while True:
                            os.write(1, lines)
                return 'flooding'
            """;

    @BeforeAll
    static void start() {
        t = new TestSandboxes();
    }

    @AfterAll
    static void stop() {
        t.close();
    }

    @Test
    void aFunctionPrintingWithoutPauseAfterItReturnsStillAnswersOnTimeAndOthersDoNotNotice() throws Exception {
        int floods = Math.min(4, Runtime.getRuntime().availableProcessors());
        List<SandboxHandle> flooding = new ArrayList<>();
        SandboxHandle quiet = t.worker.createSandbox(TestSandboxes.spec("python3.11", t.code(Map.of("function.py",
                "def handler(event):\n    print('quiet', event)\n    return event\n")), 256, 5, 64, Map.of()));
        try {
            for (int i = 0; i < floods; i++) {
                flooding.add(t.worker.createSandbox(named("flood" + i, FLOOD_AFTER_RETURN, 3, 3538))); // 2 vCPUs for the writers
            }
            List<CompletableFuture<InvokeOutcome>> first = flooding.stream().map(h -> async(() -> t.invoke(h, "1"))).toList();
            for (var f : first) {
                InvokeOutcome o = f.get(10, TimeUnit.SECONDS); // today: never answers (the END drain never ends)
                assertThat(o.status()).isEqualTo(InvokeOutcome.Status.SUCCESS);
                assertThat(text(o)).isEqualTo("\"flooding\"");
            }
            // the floods go on; the next invoke of a flooding sandbox answers too, with the drop said in its tail
            InvokeOutcome again = async(() -> t.invoke(flooding.getFirst(), "2")).get(10, TimeUnit.SECONDS);
            assertThat(again.status()).isEqualTo(InvokeOutcome.Status.SUCCESS);
            assertThat(shortTail(again)).contains("LOGS_DROPPED", "END RequestId: ", "REPORT RequestId: ");
            // and a quiet function on the same worker answers promptly all along
            for (int i = 0; i < 20; i++) {
                long t0 = System.nanoTime();
                String payload = String.valueOf(i);
                InvokeOutcome o = async(() -> t.invoke(quiet, payload)).get(10, TimeUnit.SECONDS);
                assertThat(o.status()).isEqualTo(InvokeOutcome.Status.SUCCESS);
                assertThat(TestSandboxes.tail(o)).contains("quiet " + i).doesNotContain("LOGS_DROPPED");
                assertThat((System.nanoTime() - t0) / 1_000_000).as("quiet invoke ms").isLessThan(1000);
            }
        } finally {
            flooding.forEach(h -> t.worker.retire(h.sandboxId()));
            t.worker.retire(quiet.sandboxId());
        }
    }

    @Test
    void aHandlerPrintingWithoutPauseTimesOutOnTime() throws Exception {
        SandboxHandle h = t.worker.createSandbox(named("floodhandler",
                "import os\ndef handler(event):\n    lines = (b'y' * 1000 + b'\\n') * 64\n    while True:\n        os.write(1, lines)\n", 2));
        try {
            long t0 = System.nanoTime();
            InvokeOutcome o = async(() -> t.invoke(h, "{}")).get(15, TimeUnit.SECONDS);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertThat(o.status()).isEqualTo(InvokeOutcome.Status.TIMEOUT);
            assertThat(ms).isBetween(1990L, 5000L);
            assertThat(shortTail(o)).contains("Task timed out after 2.00 seconds", "LOGS_DROPPED", "REPORT RequestId: ");
        } finally {
            t.worker.retire(h.sandboxId());
        }
    }

    @Test
    void truncatingALiveLogFileDoesNotFailTheNextInvokes() throws Exception {
        SandboxSpec spec = named("rotated", "def handler(event):\n    print('handled', event)\n    return event\n", 5);
        SandboxHandle h = t.worker.createSandbox(spec);
        Path log = LogFiles.directory(t.base.resolve("data"), spec.accountId(), spec.functionName()).resolve("current.log");
        try {
            assertThat(t.invoke(h, "1").status()).isEqualTo(InvokeOutcome.Status.SUCCESS);
            try (FileChannel ch = FileChannel.open(log, StandardOpenOption.WRITE)) {
                ch.truncate(0); // what logrotate's copytruncate does after its copy
            }
            for (int i = 2; i <= 4; i++) {
                InvokeOutcome o = t.invoke(h, String.valueOf(i));
                assertThat(o.status()).as(text(o)).isEqualTo(InvokeOutcome.Status.SUCCESS);
                assertThat(text(o)).isEqualTo(String.valueOf(i));
                assertThat(TestSandboxes.tail(o)).contains("handled " + i, "REPORT RequestId: ");
            }
            // writing goes on at the start of the truncated file
            List<String> lines = LogFiles.tail(t.base.resolve("data"), spec.accountId(), spec.functionName(), 100);
            assertThat(lines.getFirst()).contains("\tSTART RequestId: ");
            assertThat(String.join("\n", lines)).contains("\thandled 2", "\thandled 4").doesNotContain("\thandled 1");
        } finally {
            t.worker.retire(h.sandboxId());
        }
    }

    @Test
    void aFullDataDiskDoesNotFailAnInvoke() throws Exception {
        SandboxSpec spec = named("fulldisk", "def handler(event):\n    print('handled', event)\n    return event\n", 5);
        Path dir = LogFiles.directory(t.base.resolve("data"), spec.accountId(), spec.functionName());
        Files.createDirectories(dir);
        run("mount", "-t", "tmpfs", "-o", "size=1m", "ignis-test-full", dir.toString());
        SandboxHandle h = null;
        try {
            // the tenant (or anyone) filled the disk
            run("sh", "-c", "dd if=/dev/zero of=" + dir.resolve("filler") + " bs=64k 2>/dev/null; true");
            h = t.worker.createSandbox(spec);
            for (int i = 1; i <= 3; i++) {
                InvokeOutcome o = t.invoke(h, String.valueOf(i));
                assertThat(o.status()).as(text(o)).isEqualTo(InvokeOutcome.Status.SUCCESS);
                assertThat(text(o)).isEqualTo(String.valueOf(i));
                // the log could not be written, but the client's Tail still has the invoke's lines
                assertThat(TestSandboxes.tail(o)).contains("handled " + i, "END RequestId: ", "REPORT RequestId: ");
            }
            // space comes back: the log is written again
            Files.delete(dir.resolve("filler"));
            Thread.sleep(1100);
            assertThat(t.invoke(h, "5").status()).isEqualTo(InvokeOutcome.Status.SUCCESS);
            assertThat(String.join("\n", LogFiles.tail(t.base.resolve("data"), spec.accountId(), spec.functionName(), 100)))
                    .contains("\thandled 5");
        } finally {
            if (h != null) {
                t.worker.retire(h.sandboxId());
            }
            run("umount", "-l", dir.toString());
        }
    }

    private static SandboxSpec named(String name, String function, int timeoutSeconds) {
        return named(name, function, timeoutSeconds, 256);
    }

    private static SandboxSpec named(String name, String function, int timeoutSeconds, int memoryMb) {
        SandboxSpec s = TestSandboxes.spec("python3.11", t.code(Map.of("function.py", function)), memoryMb, timeoutSeconds, 64, Map.of());
        return new SandboxSpec(s.accountId(), s.region(), name, s.functionArn().replace(s.functionName(), name), s.version(),
                s.revisionId(), s.runtime(), s.handler(), s.memoryMb(), s.timeoutSeconds(), s.ephemeralStorageMb(), s.environment(),
                s.codeDirectory());
    }

    /** The tail without the flood's lines (they would fill a failure message). */
    private static String shortTail(InvokeOutcome o) {
        return TestSandboxes.tail(o).lines().filter(l -> !l.matches("[xy]{100,}")).collect(java.util.stream.Collectors.joining("\n"));
    }

    private static <T> CompletableFuture<T> async(Supplier<T> call) {
        CompletableFuture<T> f = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            try {
                f.complete(call.get());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(String.join(" ", command) + ": " + out).isZero();
    }
}

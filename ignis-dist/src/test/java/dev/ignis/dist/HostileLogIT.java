package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.worker.logs.LogFiles;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LogType;

/**
 * Function logs under attack through the real server (issue #14, findings 4 and 11): a function that never
 * stops printing, a full data disk under a new function's log, a live log cut by logrotate's copytruncate.
 * Every invoke answers 200 with its result and its Tail; none answers 500.
 */
class HostileLogIT extends PlatformTestBase {

    void deploy(String name, String code, int timeout) {
        lambda.createFunction(b -> b.functionName(name).runtime("python3.11").handler("app.handler").role(TestPlatform.ROLE)
                .timeout(timeout).memorySize(256).code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.python(code)))));
    }

    InvokeResponse invoke(String name, String payload) {
        return lambda.invoke(b -> b.functionName(name).logType(LogType.TAIL).payload(SdkBytes.fromUtf8String(payload)));
    }

    static String tail(InvokeResponse r) {
        return new String(Base64.getDecoder().decode(r.logResult()), StandardCharsets.UTF_8);
    }

    Path logDir(String function) {
        return LogFiles.directory(dir.resolve("worker"), key.accountId(), function);
    }

    @Test
    void aFunctionThatNeverStopsPrintingAnswersOnTimeAndAnotherFunctionDoesNotNotice() throws Exception {
        deploy("flood", """
                import os, time
                def handler(event, context):
                    if event != 1:
                        time.sleep(1.2)
                        return 'waited'
                    for _ in range(4):
                        if os.fork() == 0:
                            lines = (b'x' * 1000 + b'\\n') * 64
                            while True:
                                os.write(1, lines)
                    return 'flooding'
                """, 10);
        deploy("quiet", "def handler(event, context):\n    print('quiet', event)\n    return event\n", 10);
        assertThat(invoke("quiet", "0").statusCode()).isEqualTo(200);
        InvokeResponse first = async(() -> invoke("flood", "1")).get(20, TimeUnit.SECONDS);
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.functionError()).isNull();
        assertThat(first.payload().asUtf8String()).isEqualTo("\"flooding\"");
        InvokeResponse second = async(() -> invoke("flood", "2")).get(20, TimeUnit.SECONDS);
        assertThat(second.payload().asUtf8String()).isEqualTo("\"waited\"");
        assertThat(tail(second).lines().filter(l -> !l.matches("x{100,}")).toList())
                .anyMatch(l -> l.startsWith("LOGS_DROPPED Lines: ")).anyMatch(l -> l.startsWith("REPORT RequestId: "));
        for (int i = 1; i <= 10; i++) {
            long t0 = System.nanoTime();
            String payload = String.valueOf(i);
            InvokeResponse r = async(() -> invoke("quiet", payload)).get(10, TimeUnit.SECONDS);
            assertThat(r.payload().asUtf8String()).isEqualTo(payload);
            assertThat(tail(r)).contains("quiet " + i).doesNotContain("LOGS_DROPPED");
            assertThat((System.nanoTime() - t0) / 1_000_000).as("quiet invoke ms").isLessThan(1000);
        }
    }

    @Test
    void aFullDataDiskDoesNotFailANewFunctionsFirstInvoke() throws Exception {
        deploy("full-disk", "def handler(event, context):\n    print('handled', event)\n    return event\n", 10);
        Path logs = logDir("full-disk");
        Files.createDirectories(logs);
        run("mount", "-t", "tmpfs", "-o", "size=1m", "ignis-test-full", logs.toString());
        try {
            run("sh", "-c", "dd if=/dev/zero of=" + logs.resolve("filler") + " bs=64k 2>/dev/null; true");
            for (int i = 1; i <= 3; i++) {
                InvokeResponse r = invoke("full-disk", String.valueOf(i)); // today: 500 InternalError (SIGBUS in the log file)
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.functionError()).isNull();
                assertThat(r.payload().asUtf8String()).isEqualTo(String.valueOf(i));
                assertThat(tail(r)).contains("handled " + i, "REPORT RequestId: ");
            }
        } finally {
            run("umount", "-l", logs.toString());
        }
    }

    @Test
    void aLiveLogCutByCopytruncateDoesNotFailLaterInvokes() throws Exception {
        deploy("rotated", "def handler(event, context):\n    print('handled', event)\n    return event\n", 10);
        assertThat(invoke("rotated", "1").statusCode()).isEqualTo(200);
        try (FileChannel ch = FileChannel.open(logDir("rotated").resolve("current.log"), StandardOpenOption.WRITE)) {
            ch.truncate(0);
        }
        for (int i = 2; i <= 4; i++) {
            InvokeResponse r = invoke("rotated", String.valueOf(i)); // today: 500 InternalError on every later invoke
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.payload().asUtf8String()).isEqualTo(String.valueOf(i));
            assertThat(tail(r)).contains("handled " + i);
        }
        assertThat(String.join("\n", LogFiles.tail(dir.resolve("worker"), key.accountId(), "rotated", 100)))
                .contains("\thandled 4").doesNotContain("\thandled 1");
    }

    private static <T> CompletableFuture<T> async(Supplier<T> call) {
        return CompletableFuture.supplyAsync(call, r -> Thread.ofPlatform().daemon().start(r));
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(String.join(" ", command) + ": " + out).isZero();
    }
}

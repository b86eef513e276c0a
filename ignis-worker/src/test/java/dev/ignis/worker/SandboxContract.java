package dev.ignis.worker;

import static dev.ignis.worker.TestSandboxes.tail;
import static dev.ignis.worker.TestSandboxes.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The one test body every sandbox driver runs (issues #16, #17): python, node, a provided bash runtime and AWS's Java
 * runtime client echo with Lambda's log frame and warm reuse; timeout, OOM, crash and init failures; the isolation and
 * attack probes. Subclasses only say which driver ({@link #sandboxes}, {@link #boundary}); where a boundary legitimately
 * answers a probe differently the case says so and why, beside the expectation (never a skip). This class is over 400
 * lines because it is that one body: split, a driver could run half of it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class SandboxContract {
    /** The boundary a driver puts between tenant code and the host, where expectations legitimately differ. */
    enum Boundary { PROCESS, GVISOR, MICROVM }

    TestSandboxes t;
    private SandboxHandle hostile;
    private SandboxHandle neighbour;
    private Path neighbourCode;

    /** A worker on the driver under test with this init timeout. */
    abstract TestSandboxes sandboxes(Duration initTimeout);

    abstract Boundary boundary();

    /** The init budget of the driver's worker (a microVM's boot is part of its init). */
    Duration initTimeout() {
        return Duration.ofSeconds(30);
    }

    /** The host processes that run the given sandboxes (each must be an unprivileged uid of the worker's block). */
    abstract List<ProcessHandle> hostProcesses(List<SandboxHandle> sandboxes);

    @BeforeAll
    void start() {
        t = sandboxes(initTimeout());
        ContractRuntimes.addNode(t);
    }

    @AfterAll
    void stop() {
        if (t != null) {
            for (SandboxHandle h : List.of(t.worker.sandboxes().toArray(SandboxHandle[]::new))) {
                t.worker.retire(h.sandboxId());
            }
            t.close();
            t = null;
        }
    }

    // ---- runtimes: echo, log frame, warm reuse ----

    /** What the driver says of how a sandbox started (the process driver: from scratch or in a ready shell). */
    void checkStarted(SandboxHandle h) {}

    /** After a failure the worker carries on: a new sandbox starts and answers. */
    void aNewSandboxStillWorks() {
        SandboxHandle h = t.python("def handler(event):\n    return {'ok': event}\n", 256, 5, 64);
        try {
            InvokeOutcome o = t.invoke(h, "1");
            assertThat(o.status()).as(text(o)).isEqualTo(InvokeOutcome.Status.SUCCESS);
            assertThat(text(o)).isEqualTo("{\"ok\": 1}");
        } finally {
            t.worker.retire(h.sandboxId());
        }
    }

    @Test
    void pythonEchoFramesItsLogsAndIsReusedWarm() {
        SandboxHandle h = t.python("print('init of the function')\ndef handler(event):\n    print('handling', event)\n    return event\n", 256, 10, 64);
        try {
            checkStarted(h);
            assertThat(h.initDuration()).isPositive();
            InvokeOutcome first = t.invoke(h, "{\"hello\":\"world\"}");
            assertThat(first.status()).as(text(first) + tail(first)).isEqualTo(InvokeOutcome.Status.SUCCESS);
            assertThat(text(first)).isEqualTo("{\"hello\": \"world\"}");
            assertThat(first.sandboxReusable()).isTrue();
            assertThat(tail(first)).containsPattern("(?s)START RequestId: \\S+ Version: \\$LATEST\n.*handling \\{'hello': 'world'\\}\n"
                            + "END RequestId: \\S+\nREPORT RequestId: \\S+\tDuration: ")
                    .contains("\tMemory Size: 256 MB\tMax Memory Used: ", "\tInit Duration: ")
                    .containsPattern("\tMax Memory Used: [1-9]\\d* MB");
            InvokeOutcome second = t.invoke(h, "\"second\"");
            assertThat(text(second)).as(tail(second)).isEqualTo("\"second\"");
            assertThat(tail(second)).doesNotContain("Init Duration").contains("handling second");
            assertThat(t.worker.sandboxes()).extracting(SandboxHandle::sandboxId).contains(h.sandboxId());
        } finally {
            t.worker.retire(h.sandboxId());
        }
        assertThat(t.worker.sandboxes()).extracting(SandboxHandle::sandboxId).doesNotContain(h.sandboxId());
    }

    @Test
    void nodeEcho() {
        SandboxHandle h = t.worker.createSandbox(TestSandboxes.spec("nodejs20.x", t.code(Map.of("function.mjs", """
                console.log('node init');
                export const handler = async (event, context) => {
                  console.log('node handling', JSON.stringify(event));
                  return { echo: event, fn: context.functionName };
                };
                """)), 256, 10, 64, Map.of()));
        try {
            for (int i = 0; i < 2; i++) {
                InvokeOutcome o = t.invoke(h, "{\"n\":" + i + "}");
                assertThat(o.status()).as(text(o) + tail(o)).isEqualTo(InvokeOutcome.Status.SUCCESS);
                assertThat(text(o)).isEqualTo("{\"echo\":{\"n\":" + i + "},\"fn\":\"fn-nodejs20-x\"}");
                assertThat(tail(o)).contains("node handling {\"n\":" + i + "}", "END RequestId: ");
            }
        } finally {
            t.worker.retire(h.sandboxId());
        }
    }

    @Test
    void providedBashRuntimeEchoesOverANewConnectionPerRequest() {
        SandboxHandle h = t.shell(TestSandboxes.ECHO_BOOTSTRAP.replace("#!/bin/sh", "#!/bin/bash"), 128, 10);
        try {
            for (int i = 0; i < 3; i++) {
                InvokeOutcome o = t.invoke(h, "{\"n\":" + i + "}");
                assertThat(o.status()).as(text(o) + tail(o)).isEqualTo(InvokeOutcome.Status.SUCCESS);
                assertThat(text(o)).isEqualTo("{\"n\":" + i + "}");
                assertThat(tail(o)).contains("handling ");
            }
        } finally {
            t.worker.retire(h.sandboxId());
        }
    }

    @Test
    void awsJavaRuntimeClientServesInvokesAndErrors() throws Exception {
        Path code = ContractRuntimes.addJava(t);
        SandboxHandle h = t.worker.createSandbox(TestSandboxes.spec("java21", code, 1769, 20, 256, Map.of()));
        try {
            InvokeOutcome ok = t.invoke(h, "{\"name\":\"ignis\"}");
            assertThat(ok.status()).as(text(ok) + "\n" + tail(ok)).isEqualTo(InvokeOutcome.Status.SUCCESS);
            assertThat(text(ok)).isEqualTo("\"hello ignis from fn-java21\"");
            assertThat(tail(ok)).contains("java handler ", "remaining true");
            InvokeOutcome err = t.invoke(h, "{\"fail\":true}");
            assertThat(err.status()).as(text(err) + "\n" + tail(err)).isEqualTo(InvokeOutcome.Status.FUNCTION_ERROR);
            assertThat(text(err)).contains("\"errorMessage\":\"asked to fail\"", "java.lang.IllegalStateException");
            assertThat(err.sandboxReusable()).isTrue();
            assertThat(text(t.invoke(h, "{\"name\":\"again\"}"))).isEqualTo("\"hello again from fn-java21\"");
            System.out.printf("%s: java21 (AWS RIC) cold start to first /next: %d ms%n", boundary(), h.initDuration().toMillis());
        } finally {
            t.worker.retire(h.sandboxId());
        }
    }

    @Test
    void nextCarriesLambdasHeadersOnlyWhenNonEmpty() {
        SandboxHandle h = t.shell("""
                #!/bin/sh
                API="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
                while true; do
                  curl -sS -o /tmp/event -D /tmp/headers "$API/invocation/next" || exit 3
                  RID=$(grep -i '^lambda-runtime-aws-request-id:' /tmp/headers | cut -d' ' -f2 | tr -d '\\r')
                  curl -sS -o /dev/null -X POST --data-binary @/tmp/headers "$API/invocation/$RID/response"
                done
                """, 256, 7);
        try {
            long before = System.currentTimeMillis();
            InvokeOutcome o = t.worker.invoke(h.sandboxId(), new InvokeRequest("req-1", "{}".getBytes(),
                    "arn:aws:lambda:us-east-1:123456789012:function:f:live", "{\"custom\":{\"k\":\"v\"}}", null, false));
            String headers = text(o).replace("\r", "");
            assertThat(headers).startsWith("HTTP/1.1 200 OK\n").contains("Lambda-Runtime-Aws-Request-Id: req-1\n",
                    "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:f:live\n",
                    "Lambda-Runtime-Client-Context: {\"custom\":{\"k\":\"v\"}}\n")
                    .containsPattern("Lambda-Runtime-Trace-Id: Root=1-[0-9a-f]{8}-[0-9a-f]{24};")
                    .doesNotContain("Lambda-Runtime-Cognito-Identity");
            long deadline = Long.parseLong(headers.replaceAll("(?s).*Lambda-Runtime-Deadline-Ms: (\\d+).*", "$1"));
            assertThat(deadline).isBetween(before + 7000, System.currentTimeMillis() + 7000);
            assertThat(o.logTail()).isNull();
        } finally {
            t.worker.retire(h.sandboxId());
        }
    }

    @Test
    void environmentIsLambdasAndTheFunctionCannotRedirectTheRuntimeApi() {
        SandboxSpec spec = TestSandboxes.spec("python3.11", t.code(Map.of("function.py", """
                import os
                def handler(event):
                    return {k: os.environ.get(k) for k in event}
                """)), 256, 5, 64, Map.of("MY_VAR", "mine", "AWS_LAMBDA_RUNTIME_API", "10.0.0.1:80"));
        SandboxHandle h = t.worker.createSandbox(spec);
        try {
            InvokeOutcome o = t.invoke(h, "[\"AWS_LAMBDA_RUNTIME_API\",\"_HANDLER\",\"LAMBDA_TASK_ROOT\",\"LAMBDA_RUNTIME_DIR\","
                    + "\"AWS_LAMBDA_FUNCTION_NAME\",\"AWS_LAMBDA_FUNCTION_VERSION\",\"AWS_LAMBDA_FUNCTION_MEMORY_SIZE\","
                    + "\"AWS_LAMBDA_LOG_GROUP_NAME\",\"AWS_LAMBDA_LOG_STREAM_NAME\",\"AWS_REGION\",\"AWS_DEFAULT_REGION\",\"TZ\","
                    + "\"AWS_LAMBDA_INITIALIZATION_TYPE\",\"MY_VAR\",\"PWD\",\"HOME\"]");
            assertThat(o.status()).as(text(o)).isEqualTo(InvokeOutcome.Status.SUCCESS);
            assertThat(text(o)).contains("\"AWS_LAMBDA_RUNTIME_API\": \"127.0.0.1:9001\"", "\"_HANDLER\": \"function.handler\"",
                    "\"LAMBDA_TASK_ROOT\": \"/var/task\"", "\"LAMBDA_RUNTIME_DIR\": \"/var/runtime\"",
                    "\"AWS_LAMBDA_FUNCTION_NAME\": \"fn-python3-11\"", "\"AWS_LAMBDA_FUNCTION_VERSION\": \"$LATEST\"",
                    "\"AWS_LAMBDA_FUNCTION_MEMORY_SIZE\": \"256\"", "\"AWS_LAMBDA_LOG_GROUP_NAME\": \"/aws/lambda/fn-python3-11\"",
                    "\"AWS_REGION\": \"us-east-1\"", "\"AWS_DEFAULT_REGION\": \"us-east-1\"", "\"TZ\": \":UTC\"",
                    "\"AWS_LAMBDA_INITIALIZATION_TYPE\": \"on-demand\"", "\"MY_VAR\": \"mine\"", "\"PWD\": \"/var/task\"", "\"HOME\": \"/tmp\"")
                    .containsPattern("\"AWS_LAMBDA_LOG_STREAM_NAME\": \"\\d{4}/\\d{2}/\\d{2}/\\[\\$LATEST\\][0-9a-f]{32}\"");
        } finally {
            t.worker.retire(h.sandboxId());
        }
    }

    // ---- failures: each an AWS-shaped outcome, and the worker carries on ----

    /** The task timeout of the timeout case: 2 s in a microVM (TCG makes python's own start slow), else 1 s. */
    int timeoutSeconds() {
        return 1;
    }

    /**
     * Taken before an invoke that must stop the sandbox; run after the sandbox's retirement, checks what a driver can see
     * beyond the worker (a microVM's QEMU process is gone, not just the runtime). Nothing more by default.
     */
    Runnable stopCheck(SandboxHandle h) {
        return () -> {};
    }

    @Test
    void timeoutStopsTheSandboxAndAFreshOneServesTheFunction() {
        int timeout = timeoutSeconds();
        Path code = t.code(Map.of("function.py", "import time\ndef handler(event):\n    print('sleeping')\n    time.sleep(30)\n    return 1\n"));
        SandboxHandle h = t.worker.createSandbox(TestSandboxes.spec("python3.11", code, 256, timeout, 64, Map.of()));
        Runnable stopped = stopCheck(h);
        try {
            long t0 = System.nanoTime();
            InvokeOutcome o = t.invoke(h, "{}");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertThat(o.status()).as(text(o)).isEqualTo(InvokeOutcome.Status.TIMEOUT);
            assertThat(text(o)).isEqualTo("{\"errorMessage\":\"Task timed out after " + timeout + ".00 seconds\",\"errorType\":\"Sandbox.Timeout\"}");
            assertThat(o.sandboxReusable()).isFalse();
            // not before the timeout, and before the function's own 30 s sleep would have ended: the timeout cut it
            assertThat(ms).isGreaterThanOrEqualTo(timeout * 1000L - 10).isLessThan(30_000L);
            assertThat(tail(o)).contains("sleeping", "Task timed out after " + timeout + ".00 seconds", "REPORT RequestId: ");
            var duration = java.util.regex.Pattern.compile("\tDuration: (\\d+)\\.\\d{2} ms\t").matcher(tail(o));
            assertThat(duration.find()).as("REPORT has a Duration").isTrue();
            assertThat(Long.parseLong(duration.group(1))).isGreaterThanOrEqualTo(timeout * 1000L).isLessThan(30_000L);
        } finally {
            t.worker.retire(h.sandboxId());
        }
        stopped.run();
        aNewSandboxStillWorks(); // the timed-out sandbox is replaced by a new one
    }

    @Test
    void outOfMemoryIsRuntimeOutOfMemory() {
        SandboxHandle h = t.python("def handler(event):\n    hog = []\n    while True:\n        hog.append(b'x' * (8 << 20))\n", 128, 60, 64);
        Runnable stopped = stopCheck(h);
        try {
            InvokeOutcome o = t.invoke(h, "{}");
            assertThat(o.status()).as(text(o)).isEqualTo(InvokeOutcome.Status.EXIT_ERROR);
            // AWS: {"errorMessage":"RequestId: … Error: Runtime exited with error: signal: killed","errorType":"Runtime.OutOfMemory"}
            assertThat(text(o)).contains("Runtime exited with error: signal: killed", "\"errorType\":\"Runtime.OutOfMemory\"",
                    "out of memory"); // and Ignis' hint: "(out of memory: the function exceeded its MemorySize)"
            assertThat(o.sandboxReusable()).isFalse();
            assertThat(tail(o)).contains("Runtime.OutOfMemory", "Max Memory Used: 128 MB");
        } finally {
            t.worker.retire(h.sandboxId());
        }
        stopped.run();
        aNewSandboxStillWorks();
    }

    @Test
    void anExitDuringAnInvokeIsExitErrorWithItsStatus() {
        SandboxHandle h = t.shell("""
                #!/bin/sh
                curl -sS -o /dev/null "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next"
                echo "about to crash"
                exit 3
                """, 128, 10);
        Runnable stopped = stopCheck(h);
        try {
            InvokeOutcome o = t.invoke(h, "{}");
            assertThat(o.status()).as(text(o)).isEqualTo(InvokeOutcome.Status.EXIT_ERROR);
            assertThat(text(o)).contains("Runtime exited with error: exit status 3", "\"errorType\":\"Runtime.ExitError\"")
                    .doesNotContain("out of memory");
            assertThat(o.sandboxReusable()).isFalse();
            assertThat(tail(o)).contains("about to crash", "Runtime.ExitError");
        } finally {
            t.worker.retire(h.sandboxId());
        }
        stopped.run();
        aNewSandboxStillWorks();
    }

    @Test
    void aCrashBySignalIsExitErrorNamingTheSignal() {
        SandboxHandle h = t.python("import os, signal\ndef handler(event):\n    print('crashing')\n    os.kill(os.getpid(), signal.SIGSEGV)\n", 128, 10, 64);
        Runnable stopped = stopCheck(h);
        try {
            InvokeOutcome o = t.invoke(h, "{}");
            assertThat(o.status()).as(text(o)).isEqualTo(InvokeOutcome.Status.EXIT_ERROR);
            assertThat(text(o)).contains("Runtime exited with error: signal: segmentation fault", "\"errorType\":\"Runtime.ExitError\"");
            assertThat(o.sandboxReusable()).isFalse();
            assertThat(tail(o)).contains("crashing");
        } finally {
            t.worker.retire(h.sandboxId());
        }
        stopped.run();
        aNewSandboxStillWorks();
    }

    @Test
    void aHandlerPrintingWithoutPauseTimesOutOnTime() throws Exception {
        int timeout = timeoutSeconds() + 1;
        SandboxHandle h = t.python("import os\ndef handler(event):\n    lines = (b'y' * 1000 + b'\\n') * 64\n    while True:\n        os.write(1, lines)\n",
                256, timeout, 64);
        try {
            long t0 = System.nanoTime();
            InvokeOutcome o = java.util.concurrent.CompletableFuture.supplyAsync(() -> t.invoke(h, "{}")).get(30, java.util.concurrent.TimeUnit.SECONDS);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertThat(o.status()).as(text(o)).isEqualTo(InvokeOutcome.Status.TIMEOUT);
            // the log channel's backlog must not hold the invoke past its timeout (by more than the kill's own cost)
            assertThat(ms).isBetween(timeout * 1000L - 10, timeout * 1000L + 3000);
            String frame = tail(o).lines().filter(l -> !l.matches("y{100,}")).collect(java.util.stream.Collectors.joining("\n"));
            assertThat(frame).contains("Task timed out after " + timeout + ".00 seconds",
                    "LOGS_DROPPED", "REPORT RequestId: ");
        } finally {
            t.worker.retire(h.sandboxId());
        }
        aNewSandboxStillWorks();
    }

    @Test
    void stdoutAndStderrBlockAsOnLambda() {
        // a runtime's writes to its log wait for the reader; non-blocking, a burst of output failed with EAGAIN
        assertThat(probe(hostile(), "{\"probe\":\"stdio\"}")).isEqualTo("[false, false]");
    }

    @Test
    void payloadsUpToLambdasLimitsPassBothWaysAndAnOversizedResponseIsRefused() {
        SandboxHandle h = t.python("def handler(event):\n    return event if isinstance(event, str) else 'z' * event['n']\n", 512, 20, 64);
        try {
            String big = "a".repeat(1 << 20);
            InvokeOutcome echo = t.invoke(h, "\"" + big + "\"");
            assertThat(echo.status()).as(tail(echo)).isEqualTo(InvokeOutcome.Status.SUCCESS);
            assertThat(text(echo)).isEqualTo("\"" + big + "\"");
            // Lambda's synchronous response limit is 6 MB; the worker allows 100 bytes of slack: a JSON string of 6 MB + 100 B
            // is 102 bytes past 6 MB
            InvokeOutcome tooLarge = t.invoke(h, "{\"n\": " + (6 * 1024 * 1024 + 100) + "}");
            assertThat(tooLarge.status()).as("%d bytes", tooLarge.payload().length).isEqualTo(InvokeOutcome.Status.RESPONSE_TOO_LARGE);
            assertThat(text(tooLarge)).contains("\"errorType\":\"Function.ResponseSizeTooLarge\"");
            InvokeOutcome after = t.invoke(h, "\"small\"");
            assertThat(after.status()).as(text(after)).isEqualTo(InvokeOutcome.Status.SUCCESS);
            assertThat(text(after)).isEqualTo("\"small\"");
        } finally {
            t.worker.retire(h.sandboxId());
        }
    }

    @Test
    void functionErrorKeepsTheSandbox() {
        SandboxHandle h = t.python("def handler(event):\n    raise ValueError('bad input ' + str(event))\n", 256, 5, 64);
        try {
            InvokeOutcome o = t.invoke(h, "7");
            assertThat(o.status()).isEqualTo(InvokeOutcome.Status.FUNCTION_ERROR);
            assertThat(text(o)).contains("\"errorMessage\": \"bad input 7\"", "\"errorType\": \"ValueError\"", "stackTrace");
            assertThat(o.sandboxReusable()).isTrue();
            assertThat(text(t.invoke(h, "8"))).contains("bad input 8");
        } finally {
            t.worker.retire(h.sandboxId());
        }
        // retired here: an invoke naming it ran nothing, and says so, so the caller tries another sandbox
        assertThatThrownBy(() -> t.invoke(h, "8")).isInstanceOf(SandboxGoneException.class).hasMessageContaining("not on worker");
        aNewSandboxStillWorks();
    }

    @Test
    void initErrorFromTheRuntimeIsReportedOnTheFirstInvoke() {
        SandboxHandle h = t.python("import no_such_module\ndef handler(event):\n    return 1\n", 256, 5, 64);
        try {
            InvokeOutcome o = t.invoke(h, "{}");
            assertThat(o.status()).isEqualTo(InvokeOutcome.Status.INIT_ERROR);
            assertThat(text(o)).contains("no_such_module", "Runtime.ImportModuleError");
            assertThat(o.sandboxReusable()).isFalse();
            assertThat(tail(o)).contains("Init Duration");
        } finally {
            t.worker.retire(h.sandboxId());
        }
        aNewSandboxStillWorks();
    }

    @Test
    void exitDuringInitIsInitErrorWithExitError() {
        SandboxHandle h = t.shell("#!/bin/sh\necho 'init going wrong' >&2\nexit 2\n", 128, 5);
        try {
            InvokeOutcome o = t.invoke(h, "{}");
            assertThat(o.status()).isEqualTo(InvokeOutcome.Status.INIT_ERROR);
            assertThat(text(o)).contains("Runtime exited with error: exit status 2", "Runtime.ExitError");
        } finally {
            t.worker.retire(h.sandboxId());
        }
        aNewSandboxStillWorks();
    }

    @Test
    void initIsBoundedByTheInitTimeout() {
        try (TestSandboxes quick = sandboxes(Duration.ofSeconds(1))) {
            long t0 = System.nanoTime();
            SandboxHandle h = quick.shell("#!/bin/sh\necho 'slow init'\nsleep 30\n", 128, 5);
            // not before the 1 s init timeout, and well before the 30 s the init would have taken on its own
            assertThat((System.nanoTime() - t0) / 1_000_000).isGreaterThanOrEqualTo(1000L).isLessThan(30_000L);
            InvokeOutcome o = quick.invoke(h, "{}");
            assertThat(o.status()).isEqualTo(InvokeOutcome.Status.INIT_ERROR);
            assertThat(text(o)).isEqualTo("{\"errorMessage\":\"Init timed out after 1.00 seconds\",\"errorType\":\"Sandbox.Timeout\"}");
            assertThat(tail(o)).contains("END RequestId");
            quick.worker.retire(h.sandboxId());
        }
    }

    @Test
    void sandboxOutlivesTheThreadThatCreatedIt() throws Exception {
        SandboxHandle[] created = new SandboxHandle[1];
        Thread request = new Thread(() -> created[0] = t.shell(TestSandboxes.ECHO_BOOTSTRAP, 128, 10));
        request.start();
        request.join();
        Thread.sleep(500); // PR_SET_PDEATHSIG would have fired by now if it were tied to that thread
        try {
            InvokeOutcome o = t.invoke(created[0], "still alive");
            assertThat(o.status()).isEqualTo(InvokeOutcome.Status.SUCCESS);
            assertThat(text(o)).isEqualTo("still alive");
        } finally {
            t.worker.retire(created[0].sandboxId());
        }
    }

    // ---- isolation and attack probes: a hostile function and its neighbour ----

    private synchronized SandboxHandle hostile() {
        if (hostile == null) {
            hostile = t.python(ContractProbes.HOSTILE, 512, 20, 16);
            neighbourCode = t.code(Map.of("function.py", ContractProbes.HOSTILE));
            neighbour = t.worker.createSandbox(TestSandboxes.spec("python3.11", neighbourCode, 512, 20, 16, Map.of()));
            assertThat(probe(neighbour, "{\"probe\":\"marker\",\"name\":\"neighbour\"}")).startsWith("\"ALLOWED");
        }
        return hostile;
    }

    String probe(SandboxHandle h, String event) {
        InvokeOutcome o = t.invoke(h, event);
        assertThat(o.status()).as(text(o) + tail(o)).isEqualTo(InvokeOutcome.Status.SUCCESS);
        return text(o);
    }

    @Test
    void hostFilesAndWorkerStateAreInvisibleAndTheCodeIsReadOnly() throws IOException {
        SandboxHandle h = hostile();
        Path secret = Files.writeString(t.base.resolve("host-secret"), "host only"); // world-readable on the host
        assertThat(probe(h, "{\"probe\":\"read\",\"path\":\"" + secret + "\"}")).isEqualTo("\"DENIED: ENOENT\"");
        assertThat(probe(h, "{\"probe\":\"read\",\"path\":\"/etc/shadow\"}")).isEqualTo("\"DENIED: ENOENT\"");
        assertThat(probe(h, "{\"probe\":\"read\",\"path\":\"/etc/passwd\"}")).isEqualTo("\"DENIED: ENOENT\"");
        assertThat(probe(h, "{\"probe\":\"list\",\"path\":\"" + t.base.resolve("data") + "\"}")).isEqualTo("\"DENIED: ENOENT\"");
        assertThat(probe(h, "{\"probe\":\"list\",\"path\":\"/root\"}")).startsWith("\"DENIED");
        // the sandbox's root: the runtime's few host paths and mount points; no /etc, /home, /root or /work of the host
        String root = probe(h, "{\"probe\":\"list\",\"path\":\"/\"}");
        switch (boundary()) {
            case PROCESS -> assertThat(root).isEqualTo("\"ALLOWED: ['.ignis-await', 'bin', 'dev', 'lib', 'lib64', 'opt', 'proc', 'sbin', 'tmp', 'usr', 'var']\"");
            case GVISOR -> assertThat(root).isEqualTo("\"ALLOWED: ['.ignis-await', 'bin', 'dev', 'lib', 'lib64', 'opt', 'proc', 'sbin', 'sys', 'tmp', 'usr', 'var']\"");
            // the guest's initramfs (agent as /init, modules, mount points) and the runtime's read-only 9p shares; its
            // /root is the initramfs' own empty directory
            case MICROVM -> assertThat(root).isEqualTo("\"ALLOWED: ['bin', 'dev', 'ignis', 'init', 'lib', 'lib64', 'proc', 'root', 'sbin', 'sys', 'tmp', 'usr', 'var']\"");
        }
        for (String path : List.of("/var/task/x", "/var/runtime/x", "/usr/x", "/x")) {
            // read-only everywhere; the errno is the boundary's: gVisor answers EACCES to the sandbox's uid where a
            // read-only bind mount (process) says EROFS, and a microVM's read-only 9p share may say either
            assertThat(probe(h, "{\"probe\":\"write\",\"path\":\"" + path + "\"}")).as(path).startsWith("\"DENIED: E");
        }
        if (boundary() == Boundary.PROCESS) {
            assertThat(probe(h, "{\"probe\":\"write\",\"path\":\"/var/task/x\"}")).isEqualTo("\"DENIED: EROFS\"");
        }
        // nothing stored outside /tmp's cap: /dev and /dev/shm hold nothing (Lambda has no /dev/shm)
        assertThat(probe(h, "{\"probe\":\"write\",\"path\":\"/dev/shm/x\"}")).startsWith("\"DENIED: E");
        assertThat(probe(h, "{\"probe\":\"write\",\"path\":\"/dev/x\"}")).startsWith("\"DENIED: E");
    }

    @Test
    void anotherSandboxsCodeAndTmpAreInvisible() {
        SandboxHandle h = hostile();
        assertThat(probe(h, "{\"probe\":\"list\",\"path\":\"" + neighbourCode + "\"}")).isEqualTo("\"DENIED: ENOENT\"");
        assertThat(probe(h, "{\"probe\":\"list\",\"path\":\"/tmp\"}")).doesNotContain("marker-neighbour");
        assertThat(probe(h, "{\"probe\":\"read\",\"path\":\"/tmp/marker-neighbour\"}")).startsWith("\"DENIED: ENOENT");
        assertThat(probe(neighbour, "{\"probe\":\"read\",\"path\":\"/tmp/marker-neighbour\"}")).startsWith("\"ALLOWED");
    }

    @Test
    void onlyTheSandboxsOwnProcessesAreVisible() {
        String pids = probe(hostile(), "{\"probe\":\"procs\"}");
        switch (boundary()) {
            // bwrap's init (1) and the runtime (2), nothing of the host
            case PROCESS -> assertThat(pids).isEqualTo("[[1, \"bwrap\"], [2, \"python3.11\"]]");
            // no bwrap init: the runtime is gVisor's pid 1
            case GVISOR -> assertThat(pids).isEqualTo("[[1, \"python3.11\"]]");
            // the guest's own kernel: its agent is pid 1 and kernel threads have pids too; no process of the host
            // (nor of another VM) exists in this kernel, so the user-space ones must be the agent and the runtime
            case MICROVM -> assertThat(pids).containsPattern("^\\[\\[1, \"[^\"]+\"\\]").contains("\"python3.11\"");
        }
        assertThat(pids).doesNotContain("java", "qemu", "runsc", "bwrap\"], [3");
    }

    @Test
    void hostLoopbackHostAddressesAndOtherRuntimeApisAreUnreachable() throws IOException {
        SandboxHandle h = hostile();
        try (ServerSocket host = new ServerSocket()) {
            host.bind(new InetSocketAddress("0.0.0.0", 0));
            int port = host.getLocalPort();
            assertThat(probe(h, "{\"probe\":\"connect\",\"host\":\"127.0.0.1\",\"port\":" + port + "}")).isEqualTo("\"DENIED: ECONNREFUSED\"");
            Optional<String> external = hostAddress();
            if (external.isPresent()) {
                assertThat(probe(h, "{\"probe\":\"connect\",\"host\":\"" + external.get() + "\",\"port\":" + port + "}"))
                        .isEqualTo("\"DENIED: ENETUNREACH\"");
            }
            // QEMU's user-mode network's host alias: no device, no route
            assertThat(probe(h, "{\"probe\":\"connect\",\"host\":\"10.0.2.2\",\"port\":" + port + "}")).isEqualTo("\"DENIED: ENETUNREACH\"");
            assertThat(probe(h, "{\"probe\":\"connect\",\"host\":\"1.1.1.1\",\"port\":53}")).isEqualTo("\"DENIED: ENETUNREACH\"");
        }
        assertThat(probe(h, "{\"probe\":\"ifaces\"}")).isEqualTo("[\"lo\"]");
        // the only listener in the sandbox's network is its own Runtime API (9001 = 0x2329)
        String listeners = probe(h, "{\"probe\":\"listeners\"}");
        switch (boundary()) {
            case PROCESS, MICROVM -> assertThat(listeners).isEqualTo("[\"0100007F:2329\"]");
            // gVisor's hostinet sockets are the host's (in the sandbox's own network namespace): its /proc/net lists none
            case GVISOR -> assertThat(listeners).isEqualTo("[]");
        }
        long neighbourRequests = t.worker.runtimeApiRequests(neighbour.sandboxId());
        assertThat(probe(h, "{\"probe\":\"connect\",\"host\":\"127.0.0.1\",\"port\":9001}")).isEqualTo("\"ALLOWED: 'connected'\"");
        assertThat(t.worker.runtimeApiRequests(neighbour.sandboxId())).isEqualTo(neighbourRequests);
    }

    @Test
    void aRuntimeCannotOpenUnboundedRuntimeApiConnections() {
        // the runtime's own keep-alive connection counts too; at most MAX_CONNECTIONS are served
        assertThat(Integer.parseInt(probe(hostile(), "{\"probe\":\"flood\"}"))).isGreaterThanOrEqualTo(50 - 8);
        assertThat(probe(hostile(), "{\"probe\":\"uid\"}")).startsWith("[");
    }

    @Test
    void privilegedCallsAreDeniedAndNoCapabilitiesRemain() {
        SandboxHandle h = hostile();
        String ptrace = probe(h, "{\"probe\":\"ptrace\"}");
        switch (boundary()) {
            case PROCESS -> assertThat(ptrace).isEqualTo("\"DENIED: EPERM\""); // seccomp
            // PTRACE_TRACEME succeeds: ptrace among the sandbox's own tasks is its own kernel's (gVisor's Sentry, the
            // guest's Linux); the host's ptrace is never reached
            case GVISOR, MICROVM -> assertThat(ptrace).isEqualTo("\"ALLOWED: 0\"");
        }
        assertThat(probe(h, "{\"probe\":\"mount\"}")).isEqualTo("\"DENIED: EPERM\"");
        // no user namespace: in one the tenant holds every capability (gVisor's did: CapEff 3fffffffff before its filter)
        String unshare = probe(h, "{\"probe\":\"unshare\"}");
        switch (boundary()) {
            case PROCESS, GVISOR -> assertThat(unshare).isEqualTo("\"DENIED: EPERM\""); // seccomp, the bundle's seccomp
            // the guest kernel's own answer once user.max_user_namespaces is 0 (user_namespaces(7)): no seccomp in the guest
            case MICROVM -> assertThat(unshare).isEqualTo("\"DENIED: ENOSPC\"");
        }
        String status = probe(h, "{\"probe\":\"status\"}");
        assertThat(status).contains("\"CapEff\": \"0000000000000000\"", "\"CapPrm\": \"0000000000000000\"",
                "\"CapBnd\": \"0000000000000000\"");
        switch (boundary()) {
            case PROCESS -> assertThat(status).contains("\"Seccomp\": \"2\"", "\"NoNewPrivs\": \"1\"");
            // gVisor's kernel applies the bundle's seccomp program; its /proc has no NoNewPrivs line
            case GVISOR -> assertThat(status).contains("\"Seccomp\": \"2\"", "\"Uid\": \"993\\t993\\t993\\t993\"");
            // the guest's kernel: no set-uid binary of the shared /usr may lift the runtime back to root
            case MICROVM -> assertThat(status).contains("\"NoNewPrivs\": \"1\"", "\"Uid\": \"993\\t993\\t993\\t993\"");
        }
    }

    @Test
    void everyProcessOfTheSandboxIsAnUnprivilegedUid() throws IOException {
        SandboxHandle h = hostile();
        String ids = probe(h, "{\"probe\":\"uid\"}");
        switch (boundary()) {
            // the host's uid itself: a uid of the worker's block
            case PROCESS -> assertThat(ids).matches("\\[2\\d{5}, 2\\d{5}, 2\\d{5}, \\[\\]\\]");
            // the runtime's own kernel maps it to the bundle's / guest's unprivileged user; the host side is below
            case GVISOR, MICROVM -> assertThat(ids).isEqualTo("[993, 993, 993, []]");
        }
        List<ProcessHandle> processes = hostProcesses(List.of(h, neighbour));
        assertThat(processes).as("host processes of two sandboxes").hasSizeGreaterThanOrEqualTo(2);
        for (ProcessHandle p : processes) {
            String uidLine = Files.readAllLines(Path.of("/proc/" + p.pid() + "/status")).stream()
                    .filter(l -> l.startsWith("Uid:")).findFirst().orElseThrow();
            assertThat(uidLine.split("\\s+")[1]).as("host uid of pid " + p.pid() + " " + p.info().command().orElse(""))
                    .matches("2\\d{5}");
        }
    }

    @Test
    void fileDescriptorsAndCoreFilesAreBoundedAsOnLambda() {
        // Lambda's quota is 1,024 descriptors, no core files, and the runtime cannot raise them
        String r = probe(hostile(), "{\"probe\":\"rlimits\"}");
        assertThat(r).contains("\"nofile\": [1024, 1024]", "\"core\": [0, 0]", "\"error\": \"EMFILE\"", "\"raise\": \"DENIED: EPERM\"");
        assertThat(Integer.parseInt(r.replaceAll(".*\"opened\": (\\d+).*", "$1"))).isLessThan(1024);
    }

    @Test
    void writingPastTheTmpCapFailsWithEnospc() {
        SandboxHandle h = t.python(ContractProbes.HOSTILE, 256, 20, 16);
        try {
            assertThat(probe(h, "{\"probe\":\"tmpsize\"}")).isEqualTo(Long.toString(16L << 20)); // /tmp is EphemeralStorage
            assertThat(probe(h, "{\"probe\":\"fill\",\"mb\":8}")).isEqualTo("\"ALLOWED: 'wrote all'\"");
            assertThat(probe(h, "{\"probe\":\"fill\",\"mb\":20}")).isEqualTo("\"DENIED: ENOSPC\"");
        } finally {
            t.worker.retire(h.sandboxId());
        }
    }

    @Test
    void aForkBombIsContained() {
        SandboxHandle h = t.python(ContractProbes.HOSTILE, 512, 40, 16);
        try {
            long t0 = System.nanoTime();
            InvokeOutcome o = t.invoke(h, "{\"probe\":\"forkbomb\"}");
            String r = text(o);
            System.out.printf("%s: fork bomb ended in %d ms: %s %s%n", boundary(), (System.nanoTime() - t0) / 1_000_000, o.status(), r);
            if (boundary() != Boundary.GVISOR || o.status() == InvokeOutcome.Status.SUCCESS) {
                assertThat(o.status()).as(r).isEqualTo(InvokeOutcome.Status.SUCCESS);
                assertThat(r).matches("\"stopped after \\d+ forks: EAGAIN\"");
                assertThat(Integer.parseInt(r.replaceAll("\\D+(\\d+).*", "$1"))).isLessThan(TestSandboxes.PIDS_MAX);
            } else {
                // gVisor: each task costs the Sentry memory inside the sandbox's cgroup, so the memory limit may end
                // the bomb before the task limit does: then the whole sandbox is killed, which contains it too
                assertThat(o.status()).isEqualTo(InvokeOutcome.Status.EXIT_ERROR);
                assertThat(r).contains("signal: killed", "Runtime.OutOfMemory");
            }
        } finally {
            t.worker.retire(h.sandboxId());
        }
        // the worker is fine: other sandboxes still answer
        assertThat(probe(hostile(), "{\"probe\":\"uid\"}")).startsWith("[");
    }

    private static Optional<String> hostAddress() throws IOException {
        for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (nif.isUp() && !nif.isLoopback()) {
                for (InetAddress a : Collections.list(nif.getInetAddresses())) {
                    if (a instanceof Inet4Address) {
                        return Optional.of(a.getHostAddress());
                    }
                }
            }
        }
        return Optional.empty();
    }
}

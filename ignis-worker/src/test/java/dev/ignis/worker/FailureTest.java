package dev.ignis.worker;

import static dev.ignis.worker.TestSandboxes.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Timeouts, crashes, OOM, init errors: each yields an AWS-shaped outcome, and the worker carries on. Every sandbox
 * starts from scratch here, in a ready shell in {@link FailureInShellTest}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FailureTest {
    static TestSandboxes t;

    BubblewrapDriver.StartPath startPath() {
        return BubblewrapDriver.StartPath.FROM_SCRATCH;
    }

    /** The worker the suite runs on, with this init timeout (overridden to run the suite on another driver). */
    TestSandboxes sandboxes(java.time.Duration initTimeout) {
        return new TestSandboxes(initTimeout, null, WorkerCapacity.ofHost(), startPath());
    }

    @BeforeAll
    void start() {
        t = sandboxes(java.time.Duration.ofSeconds(10));
    }

    @AfterAll
    void stop() {
        if (t != null) {
            t.close();
            t = null;
        }
    }

    /** After every failure a fresh sandbox must work. */
    @AfterEach
    void aNewSandboxStillWorks() {
        SandboxHandle h = t.python("def handler(event):\n    return {'ok': event}\n", 512, 5, 64);
        try {
            InvokeOutcome o = t.invoke(h, "1");
            assertThat(o.status()).isEqualTo(InvokeOutcome.Status.SUCCESS);
            assertThat(text(o)).isEqualTo("{\"ok\": 1}");
        } finally {
            t.worker.retire(h.sandboxId());
        }
    }

    @Test
    void timeoutKillsTheSandbox() {
        SandboxHandle h = t.python("import time\ndef handler(event):\n    print('sleeping')\n    time.sleep(5)\n    return 1\n", 512, 1, 64);
        try {
            long t0 = System.nanoTime();
            InvokeOutcome o = t.invoke(h, "{}");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertThat(o.status()).isEqualTo(InvokeOutcome.Status.TIMEOUT);
            assertThat(text(o)).isEqualTo("{\"errorMessage\":\"Task timed out after 1.00 seconds\",\"errorType\":\"Sandbox.Timeout\"}");
            assertThat(o.sandboxReusable()).isFalse();
            // Not before the 1 s timeout, and before the function's own 5 s sleep would have ended: the timeout cut it.
            // (No bound tighter than the function's: how fast the kill lands is a benchmark's figure, not a test's.)
            assertThat(ms).isGreaterThanOrEqualTo(990L).isLessThan(5_000L);
            assertThat(TestSandboxes.tail(o)).contains("sleeping", "Task timed out after 1.00 seconds", "REPORT RequestId: ");
            var duration = java.util.regex.Pattern.compile("\tDuration: (\\d+)\\.\\d{2} ms\t").matcher(TestSandboxes.tail(o));
            assertThat(duration.find()).as("REPORT has a Duration").isTrue();
            assertThat(Long.parseLong(duration.group(1))).isGreaterThanOrEqualTo(1_000L).isLessThan(5_000L);
        } finally {
            t.worker.retire(h.sandboxId());
        }
    }

    @Test
    void crashDuringInvokeIsExitError() {
        SandboxHandle h = t.shell("""
                #!/bin/sh
                curl -sS -o /dev/null "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next"
                echo "about to crash"
                exit 1
                """, 256, 5);
        try {
            InvokeOutcome o = t.invoke(h, "{}");
            assertThat(o.status()).isEqualTo(InvokeOutcome.Status.EXIT_ERROR);
            assertThat(text(o)).contains("Runtime exited with error: exit status 1", "\"errorType\":\"Runtime.ExitError\"");
            assertThat(o.sandboxReusable()).isFalse();
            assertThat(TestSandboxes.tail(o)).contains("about to crash", "Runtime.ExitError");
        } finally {
            t.worker.retire(h.sandboxId());
        }
    }

    @Test
    void outOfMemoryIsExitErrorWithOomNoted() {
        SandboxHandle h = t.python("def handler(event):\n    s = 'x' * (300 * 1024 * 1024)\n    return len(s)\n", 128, 20, 64);
        try {
            InvokeOutcome o = t.invoke(h, "{}");
            assertThat(o.status()).as(text(o)).isEqualTo(InvokeOutcome.Status.EXIT_ERROR);
            assertThat(text(o)).contains("signal: killed", "out of memory", "Runtime.ExitError");
            assertThat(o.sandboxReusable()).isFalse();
            assertThat(TestSandboxes.tail(o)).contains("Max Memory Used: 128 MB");
        } finally {
            t.worker.retire(h.sandboxId());
        }
    }

    @Test
    void functionErrorKeepsTheSandbox() {
        SandboxHandle h = t.python("def handler(event):\n    raise ValueError('bad input ' + str(event))\n", 512, 5, 64);
        try {
            InvokeOutcome o = t.invoke(h, "7");
            assertThat(o.status()).isEqualTo(InvokeOutcome.Status.FUNCTION_ERROR);
            assertThat(text(o)).contains("\"errorMessage\": \"bad input 7\"", "\"errorType\": \"ValueError\"", "stackTrace");
            assertThat(o.sandboxReusable()).isTrue();
        } finally {
            t.worker.retire(h.sandboxId());
        }
        // Retired here (or never here): an invoke naming it ran nothing, and says so, so the caller tries another sandbox.
        assertThatThrownBy(() -> t.invoke(h, "8")).isInstanceOf(SandboxGoneException.class).hasMessageContaining("not on worker");
    }

    @Test
    void initErrorFromTheRuntimeIsReportedOnTheFirstInvoke() {
        SandboxHandle h = t.python("import no_such_module\ndef handler(event):\n    return 1\n", 512, 5, 64);
        try {
            InvokeOutcome o = t.invoke(h, "{}");
            assertThat(o.status()).isEqualTo(InvokeOutcome.Status.INIT_ERROR);
            assertThat(text(o)).contains("no_such_module", "Runtime.ImportModuleError");
            assertThat(o.sandboxReusable()).isFalse();
            assertThat(TestSandboxes.tail(o)).contains("Init Duration");
        } finally {
            t.worker.retire(h.sandboxId());
        }
    }

    @Test
    void exitDuringInitIsInitErrorWithExitError() {
        SandboxHandle h = t.shell("#!/bin/sh\necho 'init going wrong' >&2\nexit 2\n", 256, 5);
        try {
            InvokeOutcome o = t.invoke(h, "{}");
            assertThat(o.status()).isEqualTo(InvokeOutcome.Status.INIT_ERROR);
            assertThat(text(o)).contains("Runtime exited with error: exit status 2", "Runtime.ExitError");
        } finally {
            t.worker.retire(h.sandboxId());
        }
    }

    @Test
    void initIsBoundedByTheInitTimeout() {
        try (TestSandboxes quick = sandboxes(java.time.Duration.ofSeconds(1))) {
            long t0 = System.nanoTime();
            SandboxHandle h = quick.shell("#!/bin/sh\necho 'slow init'\nsleep 30\n", 256, 5);
            // Not before the 1 s init timeout, and well before the 30 s the init would have taken on its own.
            assertThat((System.nanoTime() - t0) / 1_000_000).isGreaterThanOrEqualTo(1000L).isLessThan(30_000L);
            InvokeOutcome o = quick.invoke(h, "{}");
            assertThat(o.status()).isEqualTo(InvokeOutcome.Status.INIT_ERROR);
            assertThat(text(o)).isEqualTo("{\"errorMessage\":\"Init timed out after 1.00 seconds\",\"errorType\":\"Sandbox.Timeout\"}");
            assertThat(TestSandboxes.tail(o)).contains("END RequestId");
            quick.worker.retire(h.sandboxId());
        }
    }

    @Test
    void sandboxOutlivesTheThreadThatCreatedIt() throws Exception {
        SandboxHandle[] created = new SandboxHandle[1];
        Thread request = new Thread(() -> created[0] = t.shell(TestSandboxes.ECHO_BOOTSTRAP, 256, 5));
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
}

package dev.ignis.worker;

import static dev.ignis.worker.TestSandboxes.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.worker.runtimeapi.RuntimeApiLimits;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Functions in real sandboxes that attack the worker through their Runtime API: the worker's heap
 * is not theirs to take, and the worker's other sandboxes carry on.
 */
class HostileRuntimeApiClientTest {
    /** Opens every connection the Runtime API allows besides the runtime's own, each declaring a 6 MB body it never sends. */
    private static final String DECLARE_SIX_MEGABYTES = """
            import os, socket
            held = []
            def handler(event):
                host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
                for i in range(7):
                    s = socket.create_connection((host, int(port)))
                    s.sendall(b"POST /2018-06-01/runtime/invocation/x/response HTTP/1.1\\r\\nContent-Length: 6291556\\r\\n\\r\\n")
                    held.append(s)
                return len(held)
            """;

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getTotalThreadAllocatedBytes();
    }

    @Test
    void functionsDeclaringSixMegabytesOnEveryConnectionTheyMayOpenPinNoWorkerHeap() throws Exception {
        try (TestSandboxes t = new TestSandboxes()) {
            List<SandboxHandle> hostile = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                hostile.add(t.python(DECLARE_SIX_MEGABYTES, 128, 10, 64));
            }
            long before = allocatedBytes();
            for (SandboxHandle h : hostile) {
                InvokeOutcome o = t.invoke(h, "{}");
                assertThat(text(o)).as(text(o)).isEqualTo("7");
            }
            Thread.sleep(1000); // every connection's thread has read its head and waits for the body
            long allocated = allocatedBytes() - before;
            assertThat(allocated).as("worker heap allocated for 8 x 7 connections declaring 6 MB each (%d MB)", 8 * 7 * 6)
                    .isLessThan(48L << 20);
            SandboxHandle h = hostile.getFirst();
            assertThat(t.invoke(h, "{}").status()).as("the attacker's own runtime still works").isEqualTo(InvokeOutcome.Status.SUCCESS);
            for (SandboxHandle s : hostile) {
                t.worker.retire(s.sandboxId());
            }
        }
    }

    @Test
    void aResponseBeyondTheWorkersBodyBudgetFailsAsTooLargeAndTheWorkerCarriesOn() {
        try (TestSandboxes t = new TestSandboxes(Duration.ofSeconds(10), new RuntimeApiLimits(2L << 20, Duration.ofSeconds(30)))) {
            SandboxHandle big = t.python("def handler(event):\n    return 'x' * (3 * 1024 * 1024)\n", 256, 10, 64);
            InvokeOutcome o = t.invoke(big, "{}");
            assertThat(o.status()).isEqualTo(InvokeOutcome.Status.RESPONSE_TOO_LARGE);
            assertThat(text(o)).contains("\"errorType\":\"Function.ResponseSizeTooLarge\"");
            t.worker.retire(big.sandboxId());

            SandboxHandle fine = t.python("def handler(event):\n    return 'y' * (512 * 1024)\n", 256, 10, 64);
            InvokeOutcome ok = t.invoke(fine, "{}");
            assertThat(ok.status()).isEqualTo(InvokeOutcome.Status.SUCCESS);
            assertThat(ok.payload()).hasSize(512 * 1024 + 2); // a JSON string (growing to it holds up to twice that for a moment)
            t.worker.retire(fine.sandboxId());
        }
    }
}

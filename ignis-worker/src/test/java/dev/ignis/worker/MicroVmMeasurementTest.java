package dev.ignis.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.worker.microvm.MicroVmDriver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The figures of docs/sandbox-microvm.md and SPECIFICATION.md, in one run: the same python echo function in the process
 * driver and in a microVM, warm invokes interleaved (medians: the channel's cost), the microVM's boot split (kernel to
 * agent, agent to runtime exec, runtime init to its first /next), and QEMU's memory (PSS) idle after init. Prints, asserts
 * only that everything answered.
 */
@Tag("microvm")
class MicroVmMeasurementTest {
    static final String ECHO = """
            def handler(event):
                return event
            """;

    @Test
    void bootWarmLatencyAndMemoryBesideTheProcessDriver() throws Exception {
        try (TestSandboxes process = new TestSandboxes(BubblewrapDriver.StartPath.FROM_SCRATCH);
             MicroVmSandboxes microvm = new MicroVmSandboxes()) {
            SandboxHandle p = process.python(ECHO, 128, 30, 64);
            long t0 = System.nanoTime();
            SandboxHandle m = microvm.python(ECHO, 128, 30);
            long createMs = (System.nanoTime() - t0) / 1_000_000;
            try {
                MicroVmDriver.VmInfo info = microvm.driver.info(m.sandboxId()).orElseThrow();
                long pss = pssKb(info.qemuPid());
                List<Long> pu = new ArrayList<>();
                List<Long> mu = new ArrayList<>();
                for (int i = 0; i < 41; i++) {
                    long a = System.nanoTime();
                    assertThat(TestSandboxes.text(process.invoke(p, "\"x\""))).isEqualTo("\"x\"");
                    long b = System.nanoTime();
                    assertThat(TestSandboxes.text(microvm.invoke(m, "\"x\""))).isEqualTo("\"x\"");
                    long c = System.nanoTime();
                    if (i > 0) {
                        pu.add((b - a) / 1000);
                        mu.add((c - b) / 1000);
                    }
                }
                pu.sort(null);
                mu.sort(null);
                long pssAfter = pssKb(info.qemuPid());
                System.out.printf("MEASURE accel=%s loadavg=%s%n", microvm.driver.accel().name(),
                        Files.readString(Path.of("/proc/loadavg")).trim());
                System.out.printf("MEASURE microvm create->ready %d ms (Init Duration %d ms): kernel to agent %d ms, agent to runtime exec %d ms, "
                                + "runtime init to first /next %d ms; process driver Init Duration %d ms%n",
                        createMs, m.initDuration().toMillis(), info.agentStartMs(), info.runtimeExecMs() - info.agentStartMs(),
                        m.initDuration().toMillis() - info.runtimeExecMs(), p.initDuration().toMillis());
                System.out.printf("MEASURE warm invoke median: process %d us, microvm %d us (x%.1f); p90 %d vs %d us%n",
                        pu.get(20), mu.get(20), (double) mu.get(20) / pu.get(20), pu.get(36), mu.get(36));
                System.out.printf("MEASURE QEMU PSS idle after init %d MB, after 40 invokes %d MB, guest RAM %d MB (MemorySize 128 + %d)%n",
                        pss / 1024, pssAfter / 1024, info.guestMemoryMb(), MicroVmDriver.GUEST_OVERHEAD_MB);
            } finally {
                process.worker.retire(p.sandboxId());
                microvm.worker.retire(m.sandboxId());
            }
        }
    }

    static long pssKb(long pid) throws Exception {
        return Files.readAllLines(Path.of("/proc/" + pid + "/smaps_rollup")).stream().filter(l -> l.startsWith("Pss:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", ""))).sum();
    }
}

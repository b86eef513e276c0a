package dev.ignis.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ignis.worker.gvisor.GvisorDriver;
import dev.ignis.worker.gvisor.Runsc;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Cold start (Init Duration) and warm invoke of a python function on the process and gvisor drivers, interleaved in
 * one run, medians printed. Not a pass/fail test: run it by hand ({@code -Dignis.excludedGroups=none}).
 */
@Tag("benchmark")
class DriverColdStartBenchmarkTest {
    @Test
    void pythonColdAndWarmOnBothDrivers() {
        assumeTrue(Files.exists(Runsc.DEFAULT), "gVisor's runsc is not installed (apt-get install runsc)");
        int rounds = Integer.getInteger("rounds", 5);
        try (TestSandboxes process = new TestSandboxes(Duration.ofSeconds(30), null, WorkerCapacity.ofHost(),
                c -> new BubblewrapDriver(c, BubblewrapDriver.StartPath.FROM_SCRATCH));
             TestSandboxes gvisor = new TestSandboxes(Duration.ofSeconds(30), null, WorkerCapacity.ofHost(), GvisorDriver::new)) {
            for (int memory : List.of(512, 1769)) {
                Map<String, List<Double>> init = Map.of("process", new ArrayList<>(), "gvisor", new ArrayList<>());
                Map<String, List<Double>> warm = Map.of("process", new ArrayList<>(), "gvisor", new ArrayList<>());
                for (int r = 0; r < rounds; r++) {
                    for (var e : Map.of("process", process, "gvisor", gvisor).entrySet()) {
                        TestSandboxes t = e.getValue();
                        SandboxHandle h = t.python("def handler(event):\n    return event\n", memory, 5, 64);
                        try {
                            init.get(e.getKey()).add(h.initDuration().toNanos() / 1e6);
                            assertThat(t.invoke(h, "0").status()).isEqualTo(InvokeOutcome.Status.SUCCESS);
                            List<Double> w = new ArrayList<>();
                            for (int i = 0; i < 50; i++) {
                                long t0 = System.nanoTime();
                                assertThat(t.invoke(h, Integer.toString(i)).status()).isEqualTo(InvokeOutcome.Status.SUCCESS);
                                w.add((System.nanoTime() - t0) / 1e6);
                            }
                            warm.get(e.getKey()).add(median(w));
                        } finally {
                            t.worker.retire(h.sandboxId());
                        }
                    }
                }
                for (String d : List.of("process", "gvisor")) {
                    System.out.printf("%s %d MB: Init Duration p50 %.1f ms %s; warm invoke p50 %.2f ms %s%n", d, memory,
                            median(init.get(d)), init.get(d), median(warm.get(d)), warm.get(d));
                }
            }
        }
    }

    private static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        return s.get(s.size() / 2);
    }
}

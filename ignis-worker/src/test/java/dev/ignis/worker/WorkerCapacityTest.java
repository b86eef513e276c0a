package dev.ignis.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The host's capacity is derived from what the kernel reports (read here through another program). */
class WorkerCapacityTest {
    @Test
    void theHostsShareIsHalfItsPidsAndItsMemoryLessAReserve() throws Exception {
        long pidMax = Long.parseLong(cat("/proc/sys/kernel/pid_max"));
        long threadsMax = Long.parseLong(cat("/proc/sys/kernel/threads-max"));
        long memTotalMb = Long.parseLong(cat("/proc/meminfo").lines().filter(l -> l.startsWith("MemTotal:")).findFirst().orElseThrow()
                .replaceAll("[^0-9]", "")) / 1024;
        WorkerCapacity host = WorkerCapacity.ofHost();
        assertThat(host.pids()).isEqualTo(Math.max(WorkerCapacity.START_PIDS, Math.min(pidMax, threadsMax) / 2));
        assertThat(host.memoryMb()).isEqualTo(Math.max(64, memTotalMb - Math.max(1024, memTotalMb / 8)));
        assertThat(WorkerCapacity.ofHost(2).pids()).isEqualTo(Math.max(WorkerCapacity.START_PIDS, host.pids() / 2));
        assertThatThrownBy(() -> new WorkerCapacity(32, 1000)).isInstanceOf(IllegalArgumentException.class);
    }

    private static String cat(String file) throws Exception {
        Process p = new ProcessBuilder("/bin/cat", file).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(p.waitFor()).isZero();
        return out;
    }
}

package dev.ignis.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Workers that share a host share none of the host's limited resources with each other's tenants. */
class HostSharingTest {
    @Test
    void sandboxesOfTwoWorkersOnOneHostNeverRunAsTheSameUid() throws Exception {
        try (TestSandboxes one = new TestSandboxes(); TestSandboxes two = new TestSandboxes()) {
            SandboxHandle a = one.shell(TestSandboxes.ECHO_BOOTSTRAP, 128, 30);
            SandboxHandle b = two.shell(TestSandboxes.ECHO_BOOTSTRAP, 128, 30);
            Set<Long> uidsA = hostUids(one.workerId, a.sandboxId());
            Set<Long> uidsB = hostUids(two.workerId, b.sandboxId());
            assertThat(uidsA).isNotEmpty();
            assertThat(uidsB).isNotEmpty();
            // a process escaping worker one's sandbox would own every process of its uid on the host
            assertThat(uidsA).doesNotContainAnyElementsOf(uidsB);
            assertThat(uidsA).allMatch(u -> one.driver.uidRange().contains(u) && !two.driver.uidRange().contains(u));
            assertThat(uidsB).allMatch(u -> two.driver.uidRange().contains(u) && !one.driver.uidRange().contains(u));
        }
    }

    /** The real uids (as the host sees them) of every process in a sandbox's cgroup. */
    static Set<Long> hostUids(String workerId, String sandboxId) throws IOException {
        String group = "/ignis-" + workerId + "/" + sandboxId;
        Set<Long> uids = new HashSet<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    if (Files.readAllLines(p.resolve("cgroup")).stream().noneMatch(l -> l.endsWith(group))) {
                        continue;
                    }
                    for (String line : Files.readAllLines(p.resolve("status"))) {
                        if (line.startsWith("Uid:")) {
                            uids.add(Long.parseLong(line.split("\\s+")[1]));
                        }
                    }
                } catch (IOException exited) {
                    // gone meanwhile
                }
            }
        }
        return uids;
    }
}

package dev.ignis.worker;

import static dev.ignis.worker.TestSandboxes.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A worker admits sandboxes only while the host has room for them in its capacity, and its cgroup
 * holds all of them to that capacity: tenants cannot take the memory or the pids the host has left.
 */
class AdmissionTest {
    static final String FORKER = """
            import os, time
            def handler(event):
                for i in range(event["n"]):
                    if os.fork() == 0:
                        time.sleep(600); os._exit(0)
                return event["n"]
            """;

    @Test
    void theWorkerCgroupHoldsAllItsSandboxesToTheCapacity() throws Exception {
        try (TestSandboxes t = new TestSandboxes(new WorkerCapacity(1000, 3000))) {
            Map<String, Path> groups = workerGroups(t.workerId);
            assertThat(groups).isNotEmpty();
            for (Path g : groups.values()) {
                read(g, "memory.limit_in_bytes").ifPresent(v -> assertThat(v).isEqualTo(Long.toString(1000L << 20)));
                read(g, "memory.memsw.limit_in_bytes").ifPresent(v -> assertThat(v).isEqualTo(Long.toString(1000L << 20)));
                read(g, "memory.max").ifPresent(v -> assertThat(v).isEqualTo(Long.toString(1000L << 20)));
                read(g, "memory.swap.max").ifPresent(v -> assertThat(v).isEqualTo("0"));
                read(g, "pids.max").ifPresent(v -> assertThat(v).isEqualTo("3000"));
            }
            // every limit is in place on whichever hierarchy carries it
            assertThat(groups.values().stream().anyMatch(g -> read(g, "memory.limit_in_bytes").or(() -> read(g, "memory.max")).isPresent())).isTrue();
            assertThat(groups.values().stream().anyMatch(g -> read(g, "pids.max").isPresent())).isTrue();
        }
    }

    @Test
    void aWorkerFullOfSandboxesRefusesTheNextOneWithoutCreatingAnything() throws Exception {
        try (TestSandboxes t = new TestSandboxes(new WorkerCapacity(256, 10_000))) {
            SandboxHandle first = t.shell(TestSandboxes.ECHO_BOOTSTRAP, 128, 30);
            t.shell(TestSandboxes.ECHO_BOOTSTRAP, 128, 30);
            awaitQuiet(t);
            Set<String> before = footprint(t);

            assertThatThrownBy(() -> t.shell(TestSandboxes.ECHO_BOOTSTRAP, 128, 30))
                    .isInstanceOf(WorkerAtCapacityException.class).hasMessageContaining("256 MB");
            assertThatThrownBy(() -> t.shell(TestSandboxes.ECHO_BOOTSTRAP, 64, 30)).isInstanceOf(WorkerAtCapacityException.class);
            assertThat(footprint(t)).isEqualTo(before);

            t.worker.retire(first.sandboxId()); // its memory is given back
            assertThat(text(t.invoke(t.shell(TestSandboxes.ECHO_BOOTSTRAP, 128, 30), "{\"again\":1}"))).isEqualTo("{\"again\":1}");
        }
    }

    @Test
    void aSandboxThatTakesThePidsTheWorkerHasLeftMakesItRefuseNewSandboxes() throws Exception {
        try (TestSandboxes t = new TestSandboxes(new WorkerCapacity(10_000, 150))) {
            SandboxHandle hog = t.python(FORKER, 128, 30, 64);
            assertThat(text(t.invoke(hog, "{\"n\": 100}"))).isEqualTo("100");
            assertThatThrownBy(() -> t.shell(TestSandboxes.ECHO_BOOTSTRAP, 128, 30))
                    .isInstanceOf(WorkerAtCapacityException.class).hasMessageContaining("pids");
            t.worker.retire(hog.sandboxId());
            assertThat(text(t.invoke(t.shell(TestSandboxes.ECHO_BOOTSTRAP, 128, 30), "{}"))).isEqualTo("{}");
        }
    }

    /** Waits until no ready shell is being started (they start on their own after each cold start). */
    private static void awaitQuiet(TestSandboxes t) throws Exception {
        Set<String> last = footprint(t);
        for (int stable = 0, i = 0; stable < 5 && i < 200; i++) {
            Thread.sleep(100);
            Set<String> now = footprint(t);
            stable = now.equals(last) ? stable + 1 : 0;
            last = now;
        }
    }

    /** What the worker holds on the host: its sandboxes, sandbox cgroups and network namespaces. */
    private static Set<String> footprint(TestSandboxes t) throws IOException {
        Set<String> all = new TreeSet<>();
        t.worker.sandboxes().forEach(h -> all.add("sandbox " + h.sandboxId()));
        for (Path g : workerGroups(t.workerId).values()) {
            try (Stream<Path> s = Files.list(g)) {
                s.filter(Files::isDirectory).forEach(d -> all.add("cgroup " + d));
            }
        }
        if (Files.isDirectory(Path.of("/run/netns"))) {
            try (Stream<Path> s = Files.list(Path.of("/run/netns"))) {
                s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("ignis-" + t.workerId + "-")).forEach(n -> all.add("netns " + n));
            }
        }
        return all;
    }

    /**
     * The worker's parent group in each hierarchy that has it, found from this process's own groups
     * (v1: {@code /sys/fs/cgroup/<controller>/<own path>/ignis-<id>}; v2: {@code <mount>/ignis-<id>}).
     */
    static Map<String, Path> workerGroups(String workerId) throws IOException {
        Map<String, Path> found = new java.util.TreeMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
            String[] parts = line.split(":", 3);
            for (String c : parts[1].split(",")) {
                if (List.of("memory", "pids").contains(c)) {
                    Path g = Path.of("/sys/fs/cgroup", c, parts[2].substring(1), "ignis-" + workerId);
                    if (Files.isDirectory(g)) {
                        found.put(c, g);
                    }
                }
            }
        }
        for (Path v2 : List.of(Path.of("/sys/fs/cgroup"), Path.of("/sys/fs/cgroup/unified"))) {
            Path g = v2.resolve("ignis-" + workerId);
            if (Files.isRegularFile(v2.resolve("cgroup.controllers")) && Files.isDirectory(g)) {
                found.put("v2 " + v2, g);
            }
        }
        return found;
    }

    private static java.util.Optional<String> read(Path group, String file) {
        try {
            Path f = group.resolve(file);
            return Files.exists(f) ? java.util.Optional.of(Files.readString(f).trim()) : java.util.Optional.empty();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}

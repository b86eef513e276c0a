package dev.ignis.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A worker that starts after a crash of its predecessor (same id) clears what the predecessor left;
 * any worker clears what a crashed worker with another id left, once nobody holds that id's claim.
 */
class WorkerRestartTest {
    @Test
    void aWorkerSweepsWhatACrashedWorkerWithAnotherIdLeft() throws Exception {
        String ghost = "g" + UUID.randomUUID().toString().substring(0, 6);
        String id = "r" + UUID.randomUUID().toString().substring(0, 6);
        // a worker that died by SIGKILL: its claim (nobody holds the lock any more), a namespace, a cgroup.
        // It holds its claim while they are made and dies only then: a worker of another test JVM on this
        // host starting meanwhile would sweep a dead claim's leftovers while this test still makes them.
        Process dead = new ProcessBuilder("/usr/bin/python3", "-c", """
                import fcntl, os, sys
                os.makedirs("/run/ignis/claims", exist_ok=True)
                f = open("/run/ignis/claims/%s.lock" % sys.argv[1], "w"); fcntl.lockf(f, fcntl.LOCK_EX)
                print("held", flush=True); sys.stdin.readline()
                os.kill(os.getpid(), 9)
                """, ghost).start();
        assertThat(new java.io.BufferedReader(new java.io.InputStreamReader(dead.getInputStream())).readLine()).isEqualTo("held");
        new ProcessBuilder("ip", "netns", "add", "ignis-" + ghost + "-0").start().waitFor();
        Path group = ownGroup("cpu").resolve("ignis-" + ghost).resolve("sb-left");
        Files.createDirectories(group);
        assertThat(Path.of("/run/netns/ignis-" + ghost + "-0")).exists();
        Path slot = leaveSlot(ghost);
        dead.getOutputStream().write('\n');
        dead.getOutputStream().flush();
        assertThat(dead.waitFor()).isEqualTo(137);

        Path data = Files.createTempDirectory("ignis-sweep");
        try (SandboxWorker w = SandboxWorker.process(WorkerConfig.defaults(id, data, rt -> Optional.empty()))) {
            assertThat(Path.of("/run/netns/ignis-" + ghost + "-0")).doesNotExist();
            assertThat(group.getParent()).doesNotExist();
            assertThat(Path.of("/run/ignis/claims/" + ghost + ".lock")).doesNotExist();
            assertThat(Path.of("/run/ignis/claims/" + id + ".lock")).exists();
            assertThat(slotMounts(ghost)).as("the dead worker's ready-shell slot mounts").isEmpty();
            assertThat(slot).doesNotExist();
        } finally {
            try (Stream<Path> s = Files.walk(data)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        assertThat(Path.of("/run/ignis/claims/" + id + ".lock")).doesNotExist();
    }

    @Test
    void staleSandboxProcessesCgroupsAndNamespacesAreRemovedAtStart() throws Exception {
        String id = "r" + UUID.randomUUID().toString().substring(0, 6);
        // what a crashed worker leaves: a namespace, and a sandbox cgroup with a live process in it
        new ProcessBuilder("ip", "netns", "add", "ignis-" + id + "-5").start().waitFor();
        List<Path> stale = Stream.of("memory", "cpu", "pids").map(c -> ownGroup(c).resolve("ignis-" + id).resolve("sb-crashed")).toList();
        for (Path d : stale) {
            Files.createDirectories(d);
        }
        StringBuilder join = new StringBuilder();
        stale.forEach(d -> join.append("echo $$ > ").append(d.resolve("cgroup.procs")).append("; "));
        Process orphan = new ProcessBuilder("/bin/sh", "-c", join + "exec sleep 300").start();
        // the orphan has joined all three sandbox cgroups (its shell wrote its pid into each)
        String pid = Long.toString(orphan.pid());
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (!stale.stream().allMatch(d -> procs(d).contains(pid))) {
            assertThat(orphan.isAlive()).as("the orphan, joining its cgroups").isTrue();
            assertThat(System.nanoTime()).as("the orphan joins its cgroups within 30 s").isLessThan(deadline);
            Thread.sleep(5);
        }
        assertThat(orphan.isAlive()).isTrue();

        Path slot = leaveSlot(id);

        Path data = Files.createTempDirectory("ignis-restart");
        try (SandboxWorker w = SandboxWorker.process(WorkerConfig.defaults(id, data, rt -> Optional.empty()))) {
            assertThat(orphan.waitFor()).isEqualTo(137);
            assertThat(slotMounts(id)).as("the previous run's ready-shell slot mounts").isEmpty();
            assertThat(slot).doesNotExist();
            for (Path d : stale) {
                assertThat(Files.exists(d)).as(d.toString()).isFalse();
            }
            assertThat(Files.exists(Path.of("/run/netns/ignis-" + id + "-5"))).isFalse();
        } finally {
            orphan.destroyForcibly();
            try (Stream<Path> s = Files.walk(data)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        for (Path d : stale) {
            assertThat(Files.exists(d.getParent())).isFalse();
        }
    }

    /** This JVM's own group in a v1 controller (the worker nests its groups there). */
    private static Path ownGroup(String controller) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
                String[] p = line.split(":", 3);
                if (List.of(p[1].split(",")).contains(controller)) {
                    return Path.of("/sys/fs/cgroup", controller, p[2].substring(1));
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return Path.of("/sys/fs/cgroup", controller);
    }

    /** What a crashed worker leaves of a ready shell that had a function's code in it: a slot with two mounts. */
    private static Path leaveSlot(String workerId) throws Exception {
        Path slot = BubblewrapDriver.SLOTS.resolve(workerId + ".sb-left");
        Path code = Files.createDirectories(Files.createTempDirectory("ignis-code").resolve("fn"));
        Files.writeString(code.resolve("app.py"), "x = 1\n");
        Files.createDirectories(slot.resolve("task"));
        Files.createDirectories(slot.resolve("stage"));
        dev.ignis.worker.sandbox.Mounts.bindShared(slot.resolve("task"));
        dev.ignis.worker.sandbox.Mounts.bindReadOnly(code, slot.resolve("stage"), slot.resolve("task"));
        assertThat(slotMounts(workerId)).hasSize(2);
        return slot;
    }

    private static List<String> slotMounts(String workerId) throws Exception {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .filter(l -> l.contains(BubblewrapDriver.SLOTS + "/" + workerId + ".")).toList();
    }

    private static List<String> procs(Path cgroup) {
        try {
            return Files.readAllLines(cgroup.resolve("cgroup.procs"));
        } catch (java.io.IOException e) {
            return List.of();
        }
    }
}

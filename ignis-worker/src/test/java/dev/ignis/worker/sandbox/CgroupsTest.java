package dev.ignis.worker.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Against the machine's real cgroup hierarchy (v1 here). */
class CgroupsTest {
    @Test
    void cpuQuotaIsProportionalToMemory() {
        assertThat(Cgroups.Limits.forMemory(1769, 256).cpuQuotaMicros()).isEqualTo(100_000);
        assertThat(Cgroups.Limits.forMemory(3538, 256).cpuQuotaMicros()).isEqualTo(200_000);
        assertThat(Cgroups.Limits.forMemory(128, 256).cpuQuotaMicros()).isEqualTo(7235);
        assertThat(Cgroups.Limits.forMemory(128, 256).memoryBytes()).isEqualTo(128L << 20);
    }

    /** This host carries its controllers on v1, so v2's files are checked on a directory laid out as cgroupfs would be. */
    @Test
    void v2LimitsTheWorkersParentGroup(@org.junit.jupiter.api.io.TempDir Path mount) throws Exception {
        Files.writeString(mount.resolve("cgroup.controllers"), "cpu memory pids\n");
        CgroupsV2 cg = new CgroupsV2(mount, "ignis-v2test");
        Files.writeString(mount.resolve("ignis-v2test/memory.swap.max"), "max\n");
        cg.limitAll(512L << 20, 2048);
        assertThat(Files.readString(mount.resolve("ignis-v2test/memory.max"))).isEqualTo(Long.toString(512L << 20));
        assertThat(Files.readString(mount.resolve("ignis-v2test/memory.swap.max"))).isEqualTo("0");
        assertThat(Files.readString(mount.resolve("ignis-v2test/pids.max"))).isEqualTo("2048");
        Files.writeString(mount.resolve("ignis-v2test/pids.current"), "17\n");
        assertThat(cg.pidsInUse()).isEqualTo(17);
    }

    @Test
    void createsLimitsJoinsKillsAndRemoves() throws Exception {
        Cgroups cg = Cgroups.detect("ignis-cgtest" + ProcessHandle.current().pid());
        Cgroups.Group g = cg.create("sb-test", Cgroups.Limits.forMemory(256, 64));
        try {
            for (Path procs : g.procsFiles()) {
                Path dir = procs.getParent();
                if (Files.exists(dir.resolve("memory.limit_in_bytes"))) {
                    assertThat(Files.readString(dir.resolve("memory.limit_in_bytes")).trim()).isEqualTo(Long.toString(256L << 20));
                }
                if (Files.exists(dir.resolve("memory.max"))) {
                    assertThat(Files.readString(dir.resolve("memory.max")).trim()).isEqualTo(Long.toString(256L << 20));
                }
                if (Files.exists(dir.resolve("pids.max"))) {
                    assertThat(Files.readString(dir.resolve("pids.max")).trim()).isEqualTo("64");
                }
            }
            StringBuilder join = new StringBuilder();
            for (Path procs : g.procsFiles()) {
                join.append("echo $$ > ").append(procs).append("; ");
            }
            Process p = new ProcessBuilder("/bin/sh", "-c", join + "exec sleep 60").start();
            // the shell joins the group itself, one hierarchy after the other (cgroup v1): wait until it is in
            // every one (or has died trying); killAll reads only the pids controller's list
            while (p.isAlive() && !inEvery(g.procsFiles(), p.pid())) {
                Thread.sleep(5);
            }
            for (Path procs : g.procsFiles()) {
                assertThat(Files.readString(procs).trim()).as(procs.toString()).isEqualTo(Long.toString(p.pid()));
            }
            g.killAll();
            assertThat(p.waitFor()).isEqualTo(137);
        } finally {
            g.remove();
            cg.removeAll();
        }
        for (Path procs : g.procsFiles()) {
            assertThat(Files.exists(procs.getParent())).isFalse();
        }
    }

    private static boolean inEvery(java.util.List<Path> procsFiles, long pid) throws java.io.IOException {
        for (Path procs : procsFiles) {
            if (!Files.readString(procs).trim().equals(Long.toString(pid))) {
                return false;
            }
        }
        return true;
    }
}

package dev.ignis.worker.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * cgroup v1: one directory per controller. Groups nest under this process's own group in each
 * controller (so whatever limits the host gave the worker still bound its sandboxes), in a
 * per-worker parent {@code <own>/<workerGroup>/<sandbox>}.
 */
final class CgroupsV1 implements Cgroups {
    private static final List<String> CONTROLLERS = List.of("memory", "cpu", "pids");
    private final Map<String, Path> parents;

    CgroupsV1(Map<String, Path> parents) {
        this.parents = Map.copyOf(parents);
    }

    static CgroupsV1 forCurrentProcess(Path root, String workerGroup) {
        Map<String, String> own = ownPaths();
        Map<String, Path> parents = new LinkedHashMap<>();
        for (String c : CONTROLLERS) {
            Path mount = root.resolve(c);
            if (!Files.isDirectory(mount)) {
                throw new IllegalStateException("cgroup v1 controller '" + c + "' is not mounted at " + mount);
            }
            String rel = own.getOrDefault(c, "/").substring(1);
            Path parent = (rel.isEmpty() ? mount : mount.resolve(rel)).resolve(workerGroup);
            mkdirs(parent);
            parents.put(c, parent);
        }
        return new CgroupsV1(parents);
    }

    /** controller -> path, from /proc/self/cgroup lines "N:ctrl1,ctrl2:/path". */
    private static Map<String, String> ownPaths() {
        Map<String, String> m = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
                String[] parts = line.split(":", 3);
                if (parts.length == 3) {
                    for (String c : parts[1].split(",")) {
                        m.put(c, parts[2]);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return m;
    }

    private static void mkdirs(Path p) {
        try {
            Files.createDirectories(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create cgroup " + p, e);
        }
    }

    @Override
    public Group create(String sandboxName, Limits limits) {
        Map<String, Path> dirs = new LinkedHashMap<>();
        try {
            for (String c : CONTROLLERS) {
                Path d = parents.get(c).resolve(sandboxName);
                mkdirs(d);
                dirs.put(c, d);
            }
            Path mem = dirs.get("memory");
            Cgroups.write(mem.resolve("memory.limit_in_bytes"), Long.toString(limits.memoryBytes()));
            // memsw = memory + swap; equal to the memory limit means no swap at all
            if (Files.exists(mem.resolve("memory.memsw.limit_in_bytes"))) {
                Cgroups.write(mem.resolve("memory.memsw.limit_in_bytes"), Long.toString(limits.memoryBytes()));
            }
            try {
                Cgroups.write(mem.resolve("memory.swappiness"), "0");
            } catch (UncheckedIOException ignored) {
                // some kernels refuse swappiness on non-root groups under use_hierarchy; memsw already forbids swap
            }
            Path cpu = dirs.get("cpu");
            Cgroups.write(cpu.resolve("cpu.cfs_period_us"), Long.toString(limits.cpuPeriodMicros()));
            Cgroups.write(cpu.resolve("cpu.cfs_quota_us"), Long.toString(limits.cpuQuotaMicros()));
            Cgroups.write(dirs.get("pids").resolve("pids.max"), Integer.toString(limits.pidsMax()));
            return new V1Group(dirs);
        } catch (RuntimeException e) {
            dirs.values().forEach(Cgroups::rmdir);
            throw e;
        }
    }

    @Override
    public void limitAll(long memoryBytes, long pids) {
        Path mem = parents.get("memory");
        Path memsw = mem.resolve("memory.memsw.limit_in_bytes");
        boolean swapAccounting = Files.exists(memsw);
        if (swapAccounting) {
            Cgroups.write(memsw, "-1"); // memsw >= limit at every step, whichever way the limit moves
        }
        Cgroups.write(mem.resolve("memory.limit_in_bytes"), Long.toString(memoryBytes));
        if (swapAccounting) {
            Cgroups.write(memsw, Long.toString(memoryBytes));
        }
        Cgroups.write(parents.get("pids").resolve("pids.max"), Long.toString(pids));
    }

    @Override
    public long pidsInUse() {
        return Cgroups.readLong(parents.get("pids").resolve("pids.current"));
    }

    @Override
    public void removeStale() {
        for (Path parent : parents.values()) {
            try (Stream<Path> s = Files.list(parent)) {
                for (Path d : s.filter(Files::isDirectory).toList()) {
                    Cgroups.killProcs(d.resolve("cgroup.procs"));
                    Cgroups.rmdir(d);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @Override
    public void removeAll() {
        removeStale();
        parents.values().forEach(Cgroups::rmdir);
    }

    @Override
    public String describe() {
        return "cgroup v1 (memory, cpu, pids) under " + parents.values();
    }

    private record V1Group(Map<String, Path> dirs, CounterFile peak) implements Group {
        V1Group(Map<String, Path> dirs) {
            this(dirs, new CounterFile(dirs.get("memory").resolve("memory.max_usage_in_bytes")));
        }

        @Override
        public List<Path> procsFiles() {
            List<Path> l = new ArrayList<>();
            dirs.values().forEach(d -> l.add(d.resolve("cgroup.procs")));
            return l;
        }

        @Override
        public long peakMemoryBytes() {
            return peak.read();
        }

        @Override
        public long oomKills() {
            return Cgroups.keyed(dirs.get("memory").resolve("memory.oom_control"), "oom_kill");
        }

        @Override
        public void killAll() {
            // pids is the controller that tracks every task, including ones forked during the kill
            Cgroups.killProcs(dirs.get("pids").resolve("cgroup.procs"));
        }

        @Override
        public void remove() {
            peak.close();
            killAll();
            dirs.values().forEach(d -> {
                Cgroups.killProcs(d.resolve("cgroup.procs"));
                Cgroups.rmdir(d);
            });
        }
    }
}

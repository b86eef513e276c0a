package dev.ignis.worker.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * cgroup v2: one unified directory per sandbox. Groups live at {@code <mount>/<workerGroup>/<sandbox>}
 * directly under the hierarchy root, because v2 forbids enabling controllers for children of a group
 * that itself holds processes (the worker's own group usually does); the root is exempt.
 */
final class CgroupsV2 implements Cgroups {
    private static final String CONTROLLERS = "+memory +cpu +pids";
    private final Path parent;

    CgroupsV2(Path mount, String workerGroup) {
        this.parent = mount.resolve(workerGroup);
        try {
            Files.createDirectories(parent);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create cgroup " + parent, e);
        }
        Cgroups.write(mount.resolve("cgroup.subtree_control"), CONTROLLERS);
        Cgroups.write(parent.resolve("cgroup.subtree_control"), CONTROLLERS);
    }

    /** A cgroup2 mount (at root or root/unified) whose cgroup.controllers lists memory. */
    static Optional<Path> findMountWithMemory(Path root) {
        for (Path p : List.of(root, root.resolve("unified"))) {
            String controllers = Cgroups.read(p.resolve("cgroup.controllers"));
            if (List.of(controllers.split("\\s+")).contains("memory")) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    @Override
    public Group create(String sandboxName, Limits limits) {
        Path d = parent.resolve(sandboxName);
        try {
            Files.createDirectories(d);
            Cgroups.write(d.resolve("memory.max"), Long.toString(limits.memoryBytes()));
            if (Files.exists(d.resolve("memory.swap.max"))) {
                Cgroups.write(d.resolve("memory.swap.max"), "0");
            }
            Cgroups.write(d.resolve("cpu.max"), limits.cpuQuotaMicros() + " " + limits.cpuPeriodMicros());
            Cgroups.write(d.resolve("pids.max"), Integer.toString(limits.pidsMax()));
            return new V2Group(d);
        } catch (IOException | RuntimeException e) {
            Cgroups.rmdir(d);
            throw e instanceof RuntimeException r ? r : new UncheckedIOException((IOException) e);
        }
    }

    @Override
    public void limitAll(long memoryBytes, long pids) {
        Cgroups.write(parent.resolve("memory.max"), Long.toString(memoryBytes));
        if (Files.exists(parent.resolve("memory.swap.max"))) {
            Cgroups.write(parent.resolve("memory.swap.max"), "0");
        }
        Cgroups.write(parent.resolve("pids.max"), Long.toString(pids));
    }

    @Override
    public long pidsInUse() {
        return Cgroups.readLong(parent.resolve("pids.current"));
    }

    @Override
    public void removeStale() {
        try (Stream<Path> s = Files.list(parent)) {
            for (Path d : s.filter(Files::isDirectory).toList()) {
                new V2Group(d).remove();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void removeAll() {
        removeStale();
        Cgroups.rmdir(parent);
    }

    @Override
    public String describe() {
        return "cgroup v2 (memory, cpu, pids) under " + parent;
    }

    private record V2Group(Path dir, CounterFile peak) implements Group {
        V2Group(Path dir) {
            this(dir, new CounterFile(dir.resolve("memory.peak"))); // kernel >= 5.19; reads 0 before
        }

        @Override
        public List<Path> procsFiles() {
            return List.of(dir.resolve("cgroup.procs"));
        }

        @Override
        public long peakMemoryBytes() {
            return peak.read();
        }

        @Override
        public long oomKills() {
            return Cgroups.keyed(dir.resolve("memory.events"), "oom_kill");
        }

        @Override
        public void killAll() {
            Path kill = dir.resolve("cgroup.kill"); // kernel >= 5.14: atomic, fork-safe
            if (Files.exists(kill)) {
                Cgroups.write(kill, "1");
            }
            Cgroups.killProcs(dir.resolve("cgroup.procs"));
        }

        @Override
        public void remove() {
            peak.close();
            killAll();
            Cgroups.rmdir(dir);
        }
    }
}

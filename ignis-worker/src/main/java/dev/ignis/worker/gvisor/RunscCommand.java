package dev.ignis.worker.gvisor;

import dev.ignis.runtimes.RuntimeDefinition;
import dev.ignis.worker.sandbox.SandboxCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Starts one gVisor sandbox with the process driver's launcher, so both drivers share the start path:
 * <pre>
 * ignis-sandbox-exec --kernel-nofile=8192  (as root: joins the sandbox's cgroups, enters its network namespace
 *                      (lo only, the Runtime API listening on 127.0.0.1:9001), sets the rlimits, drops to the
 *                      sandbox's own unprivileged host uid)
 *  -> runsc --rootless --ignore-cgroups --network=host --platform=ptrace ... run --bundle B ID
 *     (the Sentry, the Gofer and the ptrace stubs all run as that uid, in a user namespace of their own,
 *      inside the sandbox's cgroups and network namespace)
 *  -> /.ignis-await --await   (in gVisor: reads the runtime's command and environment on stdin)
 *  -> the runtime, cwd /var/task
 * </pre>
 * Why {@code --network=host}: inside the sandbox's own network namespace "host" is that namespace, whose
 * only listener is the sandbox's Runtime API, so the runtime reaches 127.0.0.1:9001 with no relay and
 * nothing else; gVisor's own stack ({@code sandbox}, {@code none}) has a loopback of its own, which would
 * need a veth pair or a Unix-socket relay in the sandbox (measured: docs/sandbox-gvisor.md). The cost:
 * socket calls go from the Sentry to the host kernel (in that empty namespace), and a hostinet sandbox
 * cannot be checkpointed.
 *
 * <p>Why rootless: runsc started as root keeps its Sentry as host uid 0 (with only CAP_SYS_PTRACE) when
 * the network is {@code host}; started as the sandbox's uid it makes a user namespace of its own and every
 * process of the sandbox is that unprivileged uid on the host, as in the process driver. Rootless runsc
 * cannot write cgroups, hence {@code --ignore-cgroups}: the launcher has already put it in the sandbox's.
 */
public final class RunscCommand {
    private RunscCommand() {}

    /** Where the waiting program is, in every sandbox (the process driver's path). */
    public static final String AWAIT = SandboxCommand.AWAIT;

    /**
     * Inputs for one sandbox. {@code tmpBytes} is the EphemeralStorage cap; the limits are also those of the
     * cgroup the launcher joins ({@code cgroupProcs}); {@code layersDirectory} is the function's merged layers (bound
     * read-only at {@code /opt}) or null (an empty {@code /opt}).
     */
    public record Params(String sandboxId, List<Path> cgroupProcs, Path netnsPath, int uid, RuntimeDefinition runtime,
                         Path codeDirectory, long tmpBytes, long memoryBytes, long cpuQuotaMicros, long cpuPeriodMicros,
                         int pidsMax, Path layersDirectory) {
        public Params {
            if (!sandboxId.matches("[A-Za-z0-9_.-]{1,64}")) {
                throw new IllegalArgumentException("bad sandbox id: " + sandboxId);
            }
        }
    }

    /** What {@link #prepare} made for one sandbox: the launcher's arguments and the directories to remove after. */
    public record Prepared(List<String> launcherArgs, Path bundleDir, Path stateDir) {
        /** Deletes the bundle and runsc's state (once every process of the sandbox is gone). */
        public void remove() {
            deleteTree(stateDir);
            deleteTree(bundleDir);
        }
    }

    /**
     * Writes the sandbox's bundle under {@code base/bundles/ID} and makes runsc's state directory
     * {@code base/state/ID} (the sandbox uid's, 0700), then returns the launcher's arguments (the first form
     * of ignis-sandbox-exec.c). {@code base} belongs to root and is traversable by others; {@code noSeccomp}
     * is an empty file the launcher opens on fd 4 (bwrap's seccomp slot, unused here: gVisor filters its own).
     */
    public static Prepared prepare(Runsc runsc, Path base, Path awaitBinary, Path noSeccomp, Params p) {
        List<OciBundle.Mount> mounts = mounts(p, awaitBinary);
        TreeMap<String, Boolean> points = new TreeMap<>();
        for (OciBundle.Mount m : mounts) {
            points.put(m.destination(), Files.isDirectory(Path.of(m.source())));
        }
        Path root = RootSkeleton.ensure(base.resolve("roots"), points);
        OciBundle bundle = new OciBundle(root, List.of(AWAIT, "--await"), Map.of("PATH", "/usr/bin:/bin"),
                SANDBOX_UID, SANDBOX_UID, "/var/task", mounts, p.tmpBytes(), p.memoryBytes(), p.cpuQuotaMicros(),
                p.cpuPeriodMicros(), p.pidsMax());
        Path bundleDir = base.resolve("bundles").resolve(p.sandboxId());
        Path stateDir = base.resolve("state").resolve(p.sandboxId());
        try {
            for (Path d : List.of(base.resolve("bundles"), base.resolve("state"))) {
                Files.createDirectories(d);
                Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwx--x--x"));
            }
            deleteTree(bundleDir);
            deleteTree(stateDir);
            Files.createDirectory(bundleDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
            bundle.write(bundleDir, p.uid());
            Files.createDirectory(stateDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Files.setAttribute(stateDir, "unix:uid", p.uid());
            Files.setAttribute(stateDir, "unix:gid", p.uid());
        } catch (IOException e) {
            deleteTree(bundleDir);
            deleteTree(stateDir);
            throw new UncheckedIOException("cannot prepare the gVisor sandbox " + p.sandboxId(), e);
        }
        List<String> a = new ArrayList<>();
        a.add("--kernel-nofile=" + KERNEL_NOFILE);
        p.cgroupProcs().forEach(f -> a.add(f.toString()));
        a.addAll(List.of("--", noSeccomp.toString(), p.netnsPath().toString(), Integer.toString(p.uid())));
        a.addAll(runsc.globalFlags(stateDir));
        a.addAll(List.of("--rootless", "--ignore-cgroups", "--network=host", "--host-uds=none", "--host-fifo=none", "--oci-seccomp",
                "run", "--bundle", bundleDir.toString(), p.sandboxId()));
        return new Prepared(List.copyOf(a), bundleDir, stateDir);
    }

    /**
     * The host descriptor limit of runsc, its Sentry and Gofer (the launcher's {@code --kernel-nofile}). The
     * runtime's own limit is Lambda's 1,024, enforced by gVisor from the bundle; the Sentry holds about two host
     * descriptors per file the runtime has open (measured: at a host limit of 1,024 the runtime got 433 files).
     */
    static final int KERNEL_NOFILE = 8192;

    /** The uid and gid of the runtime inside gVisor (Lambda's sandbox user is 993); the host sees the sandbox's own uid. */
    public static final int SANDBOX_UID = 993;

    /** The read-only binds: the runtime's host paths, its library copies, /var/runtime, the waiting program, /var/task, /opt. */
    static List<OciBundle.Mount> mounts(Params p, Path awaitBinary) {
        Map<String, OciBundle.Mount> m = new LinkedHashMap<>();
        for (Path host : new LinkedHashSet<>(p.runtime().hostReadOnlyPaths())) {
            if (Files.exists(host)) {
                m.put(host.toString(), OciBundle.Mount.readOnly(realPath(host), host.toString()));
            }
        }
        p.runtime().directoryBinds().forEach((inside, host) -> m.put(inside.toString(), OciBundle.Mount.readOnly(host, inside.toString())));
        if (p.runtime().runtimeDirectory() != null) {
            m.put("/var/runtime", OciBundle.Mount.readOnly(p.runtime().runtimeDirectory(), "/var/runtime"));
        }
        m.put(AWAIT, OciBundle.Mount.readOnly(awaitBinary, AWAIT));
        m.put("/var/task", OciBundle.Mount.readOnly(p.codeDirectory(), "/var/task"));
        if (p.layersDirectory() != null) {
            m.put("/opt", OciBundle.Mount.readOnly(p.layersDirectory(), "/opt"));
        }
        return List.copyOf(m.values());
    }

    /** The bind's source with links resolved, so a linked path (/lib -> usr/lib) appears with its target's content. */
    private static Path realPath(Path host) {
        try {
            return host.toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void deleteTree(Path p) {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(x);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + p, e);
        }
    }
}

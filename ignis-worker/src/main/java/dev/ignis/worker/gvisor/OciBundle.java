package dev.ignis.worker.gvisor;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.ignis.common.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The OCI runtime bundle ({@code config.json}) Ignis writes for one gVisor sandbox; no container engine
 * is involved. What it says, in the threat model's terms (docs/security.md, docs/sandbox-gvisor.md):
 * <ul>
 *   <li>the root is a read-only skeleton of mount points ({@link RootSkeleton}); the runtime's host paths,
 *       {@code /var/runtime} and {@code /var/task} are read-only, nosuid, nodev binds; {@code /opt} is
 *       an empty directory of the skeleton; the only writable filesystem is {@code /tmp}, a tmpfs of exactly
 *       EphemeralStorage bytes (gVisor's own tmpfs honours {@code size=}: ENOSPC past it);</li>
 *   <li>the process has no capability in any set, NoNewPrivs, an unprivileged uid/gid <em>inside</em> gVisor,
 *       and Lambda's quotas as rlimits (1,024 descriptors, no core files), which gVisor's kernel enforces, and the
 *       pids limit as RLIMIT_NPROC (gVisor's kernel counts its tasks against it);</li>
 *   <li>the memory limit, CPU share and pids limit, for a runsc that manages cgroups itself; the driver runs
 *       runsc rootless inside the sandbox's own cgroup, which holds the same limits
 *       ({@code --ignore-cgroups}, see {@link RunscCommand});</li>
 *   <li>new pid, ipc, uts and mount namespaces (gVisor's own: none of them is the host's). The network
 *       namespace is absent on purpose: runsc stays in the one it is started in, the sandbox's.</li>
 * </ul>
 * The sandbox's system calls are served by gVisor's kernel (the Sentry), and the Sentry and Gofer install their own
 * host seccomp filters; the bundle's seccomp program ({@link #noNamespaces}), applied by gVisor inside, only refuses
 * new namespaces.
 */
public record OciBundle(Path rootfs, List<String> args, Map<String, String> env, int uid, int gid, String cwd,
                        List<Mount> mounts, long tmpBytes, long memoryBytes, long cpuQuotaMicros, long cpuPeriodMicros,
                        int pidsMax) {
    /** Lambda's descriptor quota, as the process driver's launcher sets it. */
    public static final int NOFILE = 1024;

    public OciBundle {
        args = List.copyOf(args);
        env = Map.copyOf(new LinkedHashMap<>(env));
        mounts = List.copyOf(mounts);
        if (args.isEmpty()) {
            throw new IllegalArgumentException("a bundle needs a program");
        }
        if (uid <= 0 || gid <= 0) {
            throw new IllegalArgumentException("the sandbox's process must not be root inside gVisor either: uid " + uid + ", gid " + gid);
        }
        if (tmpBytes < 1 || memoryBytes < 1 || pidsMax < 1 || cpuQuotaMicros < 1 || cpuPeriodMicros < 1) {
            throw new IllegalArgumentException("limits must be positive");
        }
        for (var e : env.entrySet()) {
            if (e.getKey().isEmpty() || e.getKey().indexOf('=') >= 0 || e.getKey().indexOf('\0') >= 0 || e.getValue().indexOf('\0') >= 0) {
                throw new IllegalArgumentException("invalid environment variable: " + e.getKey());
            }
        }
    }

    /** One entry of {@code mounts}. */
    public record Mount(String destination, String type, String source, List<String> options) {
        public Mount {
            options = List.copyOf(options);
            if (!destination.startsWith("/") || destination.contains("/../") || destination.endsWith("/..")) {
                throw new IllegalArgumentException("mount destination must be absolute and normalized: " + destination);
            }
        }

        /** {@code host} at {@code inside}, read-only, nosuid, nodev. */
        public static Mount readOnly(Path host, String inside) {
            return new Mount(inside, "bind", host.toString(), List.of("rbind", "ro", "nosuid", "nodev"));
        }

        /** gVisor's tmpfs of exactly {@code bytes}, world-writable with the sticky bit, like {@code /tmp}. */
        public static Mount tmpfs(String inside, long bytes) {
            return new Mount(inside, "tmpfs", "tmpfs", List.of("nosuid", "nodev", "mode=1777", "size=" + bytes));
        }
    }

    /** The bundle's {@code config.json}, OCI runtime spec 1.0.2. */
    public byte[] configJson() {
        Map<String, Object> process = new LinkedHashMap<>();
        process.put("terminal", false);
        process.put("user", Map.of("uid", uid, "gid", gid, "additionalGids", List.of()));
        process.put("args", args);
        process.put("env", env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList());
        process.put("cwd", cwd);
        List<String> none = List.of();
        process.put("capabilities", Map.of("bounding", none, "effective", none, "inheritable", none, "permitted", none, "ambient", none));
        // RLIMIT_NPROC: gVisor's kernel has no pids cgroup of its own, but counts the sandbox's tasks against this
        // (measured: a fork bomb stops at the limit with EAGAIN); the host cgroup's pids limit is the backstop
        process.put("rlimits", List.of(rlimit("RLIMIT_NOFILE", NOFILE), rlimit("RLIMIT_CORE", 0), rlimit("RLIMIT_NPROC", pidsMax)));
        process.put("noNewPrivileges", true);

        List<Map<String, Object>> m = new ArrayList<>();
        m.add(mount(new Mount("/proc", "proc", "proc", List.of("nosuid", "nodev", "noexec"))));
        m.add(mount(Mount.tmpfs("/tmp", tmpBytes)));
        mounts.forEach(x -> m.add(mount(x)));

        Map<String, Object> linux = new LinkedHashMap<>();
        linux.put("resources", Map.of(
                "memory", Map.of("limit", memoryBytes, "swap", memoryBytes),
                "cpu", Map.of("quota", cpuQuotaMicros, "period", cpuPeriodMicros),
                "pids", Map.of("limit", pidsMax)));
        linux.put("namespaces", List.of(Map.of("type", "pid"), Map.of("type", "ipc"), Map.of("type", "uts"), Map.of("type", "mount")));
        linux.put("seccomp", noNamespaces());

        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("ociVersion", "1.0.2");
        spec.put("process", process);
        spec.put("root", Map.of("path", rootfs.toString(), "readonly", true));
        spec.put("hostname", "sandbox");
        spec.put("mounts", m);
        spec.put("linux", linux);
        try {
            return Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(spec);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The {@code CLONE_NEW*} flags: user, mount, pid, net, ipc, uts, cgroup, time namespaces. */
    static final long[] CLONE_NEW = {0x10000000L, 0x00020000L, 0x20000000L, 0x40000000L, 0x08000000L, 0x04000000L, 0x02000000L, 0x00000080L};

    /**
     * A seccomp program gVisor applies <em>inside</em> the sandbox ({@code runsc --oci-seccomp}): no new namespaces,
     * as the process driver's {@code bwrap --disable-userns} and its filter's {@code clone} rule. Without it a tenant
     * made a user namespace of gVisor's and held every capability there (measured). {@code unshare} and {@code setns}
     * are refused (EPERM), {@code clone} with any {@code CLONE_NEW*} flag too. No {@code clone3} rule: runsc 20221219
     * does not implement clone3 (ENOSYS, so libc falls back to clone) and its OCI seccomp ignores {@code errnoRet}
     * (a rule meant as ENOSYS answered EPERM, and node and the JVM could not start a thread). With a runsc that
     * implements clone3 (its flags are in memory, out of a filter's reach) add a rule once errnoRet is honoured.
     */
    static Map<String, Object> noNamespaces() {
        List<Map<String, Object>> rules = new ArrayList<>();
        rules.add(Map.of("names", List.of("unshare", "setns"), "action", "SCMP_ACT_ERRNO", "errnoRet", 1));
        for (long flag : CLONE_NEW) {
            rules.add(Map.of("names", List.of("clone"), "action", "SCMP_ACT_ERRNO", "errnoRet", 1,
                    "args", List.of(Map.of("index", 0, "value", flag, "valueTwo", flag, "op", "SCMP_CMP_MASKED_EQ"))));
        }
        Map<String, Object> seccomp = new LinkedHashMap<>();
        seccomp.put("defaultAction", "SCMP_ACT_ALLOW");
        seccomp.put("architectures", List.of("SCMP_ARCH_X86_64"));
        seccomp.put("syscalls", rules);
        return seccomp;
    }

    private static Map<String, Object> rlimit(String type, long both) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("type", type);
        o.put("hard", both);
        o.put("soft", both);
        return o;
    }

    private static Map<String, Object> mount(Mount x) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("destination", x.destination());
        o.put("type", x.type());
        o.put("source", x.source());
        o.put("options", x.options());
        return o;
    }

    /**
     * Writes {@code dir/config.json}, readable by its owner only ({@code owner}: the uid runsc runs as, which
     * reads it; the file holds the bundle's environment). {@code dir} must exist and belong to root.
     */
    public Path write(Path dir, int owner) {
        Path f = dir.resolve("config.json");
        try {
            Files.deleteIfExists(f);
            Files.createFile(f, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.write(f, configJson(), StandardOpenOption.TRUNCATE_EXISTING);
            Files.setAttribute(f, "unix:uid", owner);
            Files.setAttribute(f, "unix:gid", owner);
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("r--------"));
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the OCI bundle in " + dir, e);
        }
    }
}

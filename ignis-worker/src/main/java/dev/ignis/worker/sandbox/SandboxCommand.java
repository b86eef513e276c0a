package dev.ignis.worker.sandbox;

import dev.ignis.runtimes.RuntimeDefinition;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Builds the launcher's arguments that start one sandbox. The chain is exec-only (one pid throughout), so the
 * process Java starts <em>is</em> bwrap in the end and its parent is the worker's owner thread:
 * <pre>
 * ignis-sandbox-exec  (as root: joins the cgroups, opens the seccomp program on fd 4, enters the sandbox's
 *                      network namespace (lo only), drops to an unprivileged host uid/gid with no groups)
 *  -> bwrap --unshare-user,pid,ipc,uts,cgroup --disable-userns --cap-drop ALL --seccomp 4 ...
 *     (on the host, environment: a fixed PATH only)
 *  -> ignis-sandbox-exec --await  (in the sandbox: reads the runtime's command and environment on stdin)
 *  -> the runtime's command, cwd /var/task
 * </pre>
 * See {@link SandboxLauncher} and {@code ignis-sandbox-exec.c}.
 */
public final class SandboxCommand {
    private SandboxCommand() {}

    /**
     * Inputs for one sandbox's command line. {@code tmpBytes} is the EphemeralStorage cap: the size of
     * {@code /tmp}, the sandbox's only writable filesystem. {@code /dev} (with {@code /dev/shm}) is
     * read-only, as on Lambda, which has no {@code /dev/shm}: a function gets EROFS there where it gets
     * ENOSYS on Lambda, and cannot store anything outside the cap.
     */
    public record Params(List<Path> cgroupProcs, Path seccompFile, Path netnsPath, int uid,
                         RuntimeDefinition runtime, Path codeDirectory, long tmpBytes, Path layersDirectory) {
        /** Without layers: an empty /opt. */
        public Params(List<Path> cgroupProcs, Path seccompFile, Path netnsPath, int uid, RuntimeDefinition runtime, Path codeDirectory,
                      long tmpBytes) {
            this(cgroupProcs, seccompFile, netnsPath, uid, runtime, codeDirectory, tmpBytes, null);
        }
    }

    /**
     * The launcher's arguments (after its own name): the first form in ignis-sandbox-exec.c. bwrap's
     * program is the launcher's own {@code --await} form, bound in at {@link #AWAIT}, which waits for the
     * runtime's command and environment on stdin ({@link SandboxLauncher.Ready#runtimeMessage}): the
     * function's variables are never in the environment of bwrap, which runs on the host before any
     * confinement. In a ready shell {@code p.codeDirectory()} is an empty slot (the function's code is
     * mounted over it at assignment).
     */
    public static List<String> launcherArgs(Params p, Path awaitBinary) {
        return args(p, List.of("--ro-bind", awaitBinary.toString(), AWAIT), List.of(AWAIT, "--await"));
    }

    /** Where the waiting program is, in every sandbox. */
    public static final String AWAIT = "/.ignis-await";

    private static List<String> args(Params p, List<String> extraBinds, List<String> program) {
        List<String> a = new ArrayList<>();
        p.cgroupProcs().forEach(f -> a.add(f.toString()));
        a.addAll(List.of("--", p.seccompFile().toString(), p.netnsPath().toString(), Integer.toString(p.uid())));
        a.addAll(List.of("/usr/bin/bwrap",
                "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup",
                "--disable-userns", "--cap-drop", "ALL", "--die-with-parent", "--new-session",
                "--hostname", "sandbox"));
        // bwrap resolves a symlinked source, so each listed path appears at its listed name with the
        // content it has on the host (e.g. /lib64/ld-linux-x86-64.so.2 on merged-/usr Debian)
        for (Path host : new java.util.LinkedHashSet<>(p.runtime().hostReadOnlyPaths())) {
            if (Files.exists(host)) {
                a.addAll(List.of("--ro-bind", host.toString(), host.toString()));
            }
        }
        // the runtime's own copies of its libraries, one bind per directory (LibraryCopies)
        p.runtime().directoryBinds().forEach((inside, host) -> a.addAll(List.of("--ro-bind", host.toString(), inside.toString())));
        if (p.runtime().runtimeDirectory() != null) {
            a.addAll(List.of("--ro-bind", p.runtime().runtimeDirectory().toString(), "/var/runtime"));
        }
        a.addAll(extraBinds);
        a.addAll(List.of("--ro-bind", p.codeDirectory().toString(), "/var/task"));
        // the function's layers, merged in order on the host (ignis-config's LayerMerge), read-only like the code
        a.addAll(p.layersDirectory() == null ? List.of("--dir", "/opt") : List.of("--ro-bind", p.layersDirectory().toString(), "/opt"));
        a.addAll(List.of(
                "--dev", "/dev", // a tmpfs with the device nodes (and an empty shm/): read-only below, like the root
                "--proc", "/proc",
                "--size", Long.toString(p.tmpBytes()), "--tmpfs", "/tmp",
                "--remount-ro", "/dev",
                "--remount-ro", "/",
                "--chdir", "/var/task",
                "--seccomp", "4",
                "--"));
        a.addAll(program);
        return a;
    }

    /**
     * bwrap binds paths with the sandbox's unprivileged uid, so the code directory must be reachable by
     * "others" (AWS asks the same of deployment packages: world-readable files). Fails with a clear
     * message otherwise, before anything is started.
     */
    public static void checkReachable(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        if (!Files.isDirectory(abs, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException("code directory is not a directory: " + abs);
        }
        Path closed = abs.getParent() == null ? null : SandboxReach.firstClosed(abs.getParent());
        if (closed != null) {
            throw new IllegalArgumentException("code directory " + abs + " is not reachable by the sandbox uid: "
                    + closed + " lacks o+x");
        }
        try {
            Set<PosixFilePermission> own = Files.getPosixFilePermissions(abs);
            if (!own.contains(PosixFilePermission.OTHERS_EXECUTE) || !own.contains(PosixFilePermission.OTHERS_READ)) {
                throw new IllegalArgumentException("code directory " + abs + " must be world-readable (o+rx)");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

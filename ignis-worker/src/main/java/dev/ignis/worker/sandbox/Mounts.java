package dev.ignis.worker.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The few mount(2) calls a ready shell needs, made from the worker (root, host mount namespace)
 * through the JDK's foreign-function API: no helper process on the cold-start path.
 *
 * <p>A shell's {@code /var/task} is bound from a slot directory that is a shared mount on the host;
 * bwrap's copy of it in the sandbox is a slave of that mount (bwrap makes its namespace a recursive
 * slave), so a mount made later on the slot appears in the sandbox — and only that way: the sandbox
 * has no capability to mount or unmount anything itself.
 */
public final class Mounts {
    private static final long MS_RDONLY = 1;
    private static final long MS_NOSUID = 2;
    private static final long MS_NODEV = 4;
    private static final long MS_REMOUNT = 32;
    private static final long MS_BIND = 4096;
    private static final long MS_SHARED = 1L << 20;
    private static final int MNT_DETACH = 2;
    private static final int ENOENT = 2;
    private static final int EINVAL = 22;

    private static final MethodHandle MOUNT = Libc.downcall("mount", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
    private static final MethodHandle UMOUNT2 = Libc.downcall("umount2",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

    private Mounts() {}

    /** Makes {@code dir} a mount point of its own whose later submounts propagate to its copies. */
    public static void bindShared(Path dir) {
        mount(dir, dir, MS_BIND, "bind " + dir + " onto itself");
        mount(null, dir, MS_SHARED, "make " + dir + " shared");
    }

    /**
     * Mounts {@code source} read-only (and nosuid, nodev) over {@code target}, by way of the empty
     * directory {@code staging}: a remount's flags do not propagate, so the mount is made read-only
     * before it reaches {@code target} (and from there the sandbox).
     */
    public static void bindReadOnly(Path source, Path staging, Path target) {
        mount(source, staging, MS_BIND, "bind " + source);
        try {
            mount(null, staging, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, "make " + staging + " read-only");
            mount(staging, target, MS_BIND, "bind " + source + " over " + target);
        } finally {
            detachAll(staging);
        }
    }

    /** Detaches every mount stacked on {@code dir} (lazily: a sandbox still inside lets go when it ends). */
    public static void detachAll(Path dir) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment path = arena.allocateFrom(dir.toString());
            MemorySegment state = arena.allocate(Libc.CALL_STATE);
            for (int i = 0; i < 16; i++) {
                int rc = (int) UMOUNT2.invokeExact(state, path, MNT_DETACH);
                if (rc != 0) {
                    int errno = Libc.errno(state);
                    if (errno == EINVAL || errno == ENOENT) {
                        return; // not a mount point (any more)
                    }
                    throw new IllegalStateException("umount2(" + dir + ") failed: errno " + errno);
                }
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("umount2(" + dir + ")", t);
        }
    }

    /**
     * Detaches every mount whose mount point (as {@code /proc/self/mountinfo} spells it) the predicate
     * accepts, deepest first: e.g. the slots of a worker that died without cleaning up.
     */
    public static int detachWhere(java.util.function.Predicate<String> mountPoint) {
        List<Path> points = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] f = line.split(" ");
                if (f.length > 4) {
                    String point = f[4].replace("\\040", " ");
                    if (mountPoint.test(point)) {
                        points.add(Path.of(point));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        points.sort(Comparator.comparingInt(Path::getNameCount).reversed());
        for (Path p : points) {
            detachAll(p);
        }
        return points.size();
    }

    private static void mount(Path source, Path target, long flags, String what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = source == null ? MemorySegment.NULL : arena.allocateFrom(source.toString());
            MemorySegment state = arena.allocate(Libc.CALL_STATE);
            int rc = (int) MOUNT.invokeExact(state, src, arena.allocateFrom(target.toString()), MemorySegment.NULL, flags,
                    MemorySegment.NULL);
            if (rc != 0) {
                throw new IllegalStateException("cannot " + what + ": mount(2) errno " + Libc.errno(state));
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cannot " + what, t);
        }
    }
}

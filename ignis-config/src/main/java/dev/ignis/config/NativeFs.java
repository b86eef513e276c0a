package dev.ignis.config;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.function.IntSupplier;

/**
 * The few Linux calls the package unpacker needs, through the JDK's foreign-function API: every
 * path is one name relative to a directory descriptor, so no call ever walks a path the package
 * could have shaped. Each call returns the result or -errno.
 *
 * <p>{@code setfsuid}/{@code setfsgid} are issued as raw system calls: they change the filesystem
 * ids of the calling thread only (glibc broadcasts {@code setuid} and friends to every thread of
 * the process, but never these), which is what {@link PackageUnpacker} needs for one platform thread.
 */
final class NativeFs {
    static final int O_RDONLY = 0;
    static final int O_WRONLY = 01;
    static final int O_CREAT = 0100;
    static final int O_EXCL = 0200;
    static final int O_DIRECTORY = 0200000;
    static final int O_NOFOLLOW = 0400000;
    static final int O_CLOEXEC = 02000000;
    static final long RESOLVE_NO_XDEV = 0x01;
    static final long RESOLVE_NO_MAGICLINKS = 0x02;
    static final long RESOLVE_NO_SYMLINKS = 0x04;
    static final long RESOLVE_BENEATH = 0x08;
    static final int AT_FDCWD = -100;
    static final int EEXIST = 17;
    static final int ENOSYS = 38;

    private static final long SYS_SETFSUID = 122;
    private static final long SYS_SETFSGID = 123;
    private static final long SYS_OPENAT2 = 437;

    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle SYSCALL1 = downcall("syscall", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG), 1);
    private static final MethodHandle SYSCALL4 = downcall("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG), 1);
    private static final MethodHandle OPENAT = downcall("openat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 3);
    private static final MethodHandle MKDIRAT = downcall("mkdirat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), -1);
    private static final MethodHandle SYMLINKAT = downcall("symlinkat", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS), -1);
    private static final MethodHandle WRITE = downcall("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), -1);
    private static final MethodHandle FCHMOD = downcall("fchmod", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), -1);
    private static final MethodHandle FCHOWN = downcall("fchown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), -1);
    private static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), -1);
    private static final MethodHandle GETEUID = downcall("geteuid", FunctionDescriptor.of(JAVA_INT), -1);

    private final Arena arena;
    private final MemorySegment state;
    private final MemorySegment how;
    private boolean noOpenat2;

    /** Scratch memory for the calls of one thread; closed with the arena. */
    NativeFs(Arena arena) {
        this.arena = arena;
        this.state = arena.allocate(CALL_STATE);
        this.how = arena.allocate(24, 8);
    }

    private static MethodHandle downcall(String name, FunctionDescriptor fd, int firstVariadic) {
        MemorySegment symbol = LINKER.defaultLookup().find(name).orElseThrow(() -> new IllegalStateException("libc has no " + name));
        return firstVariadic < 0
                ? LINKER.downcallHandle(symbol, fd, Linker.Option.captureCallState("errno"))
                : LINKER.downcallHandle(symbol, fd, Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(firstVariadic));
    }

    static boolean isRoot() {
        try {
            return (int) GETEUID.invokeExact(Arena.global().allocate(CALL_STATE)) == 0;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private int result(long r) {
        return r < 0 ? -(int) ERRNO.get(state, 0L) : (int) r;
    }

    /** Sets the thread's filesystem uid (-1 only reads it); returns the previous one. Never fails: check by reading back. */
    int setfsuid(int uid) {
        try {
            return (int) (long) SYSCALL1.invokeExact(state, SYS_SETFSUID, (long) uid);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    int setfsgid(int gid) {
        try {
            return (int) (long) SYSCALL1.invokeExact(state, SYS_SETFSGID, (long) gid);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Runs one call with this thread's filesystem uid and gid switched to {@code uid}/{@code gid} (which
     * also drops the filesystem capabilities, CAP_DAC_OVERRIDE and CAP_CHOWN among them, for the call),
     * then restores them. Fails closed when the switch did not take.
     */
    int asUser(int uid, int gid, IntSupplier call) {
        int oldGid = setfsgid(gid);
        int oldUid = setfsuid(uid);
        try {
            if (setfsuid(-1) != uid || setfsgid(-1) != gid) {
                throw new IllegalStateException("could not switch this thread's filesystem ids to " + uid + ":" + gid);
            }
            return call.getAsInt();
        } finally {
            setfsuid(oldUid);
            setfsgid(oldGid);
        }
    }

    /**
     * Opens one name beneath a directory descriptor without following any symlink: openat2 with
     * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS (the kernel refuses "..", absolute names and links on
     * the way); where the kernel lacks openat2, openat with O_NOFOLLOW on a single name that the
     * caller has already checked is neither "..", "." nor contains '/'.
     */
    int openBeneath(int dirFd, String name, int flags, int mode) {
        MemorySegment path = arena.allocateFrom(name);
        try {
            if (!noOpenat2) {
                how.set(JAVA_LONG, 0, (long) (flags | O_NOFOLLOW | O_CLOEXEC));
                how.set(JAVA_LONG, 8, (long) mode);
                how.set(JAVA_LONG, 16, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
                int fd = result((long) SYSCALL4.invokeExact(state, SYS_OPENAT2, (long) dirFd, path, how, 24L));
                if (fd != -ENOSYS) {
                    return fd;
                }
                noOpenat2 = true;
            }
            return result((int) OPENAT.invokeExact(state, dirFd, path, flags | O_NOFOLLOW | O_CLOEXEC, mode));
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Opens a directory of the host by absolute path (the data directory's own, not the package's), its last name not followed. */
    int openDirectory(String absolutePath) {
        try {
            return result((int) OPENAT.invokeExact(state, AT_FDCWD, arena.allocateFrom(absolutePath),
                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0));
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    int mkdirat(int dirFd, String name, int mode) {
        try {
            return result((int) MKDIRAT.invokeExact(state, dirFd, arena.allocateFrom(name), mode));
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    int symlinkat(String target, int dirFd, String name) {
        try {
            return result((int) SYMLINKAT.invokeExact(state, arena.allocateFrom(target), dirFd, arena.allocateFrom(name)));
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Writes the whole buffer (retrying short writes); 0 or -errno. */
    int writeAll(int fd, MemorySegment buf, long n) {
        try {
            long done = 0;
            while (done < n) {
                long w = (long) WRITE.invokeExact(state, fd, buf.asSlice(done), n - done);
                if (w < 0) {
                    return result(w);
                }
                done += w;
            }
            return 0;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    int fchmod(int fd, int mode) {
        try {
            return result((int) FCHMOD.invokeExact(state, fd, mode));
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    int fchown(int fd, int uid, int gid) {
        try {
            return result((int) FCHOWN.invokeExact(state, fd, uid, gid));
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    void close(int fd) {
        try {
            int ignored = (int) CLOSE.invokeExact(state, fd);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}

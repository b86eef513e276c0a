package dev.ignis.common;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Lock files that say "a live process owns this" (a data directory, a worker's host resources). The
 * locks are POSIX record locks, which the kernel drops when the owner dies — and also when the owner
 * closes <em>any</em> descriptor of the file. So a process must never open a lock file it holds again,
 * not even to test it: the files this JVM holds are registered here, and {@link #held} answers for
 * them without touching the file.
 */
public final class LockFiles {
    private static final Set<Path> HELD_HERE = ConcurrentHashMap.newKeySet();

    private LockFiles() {}

    /** Records that this JVM now holds the lock on {@code file}. */
    public static void heldHere(Path file) {
        HELD_HERE.add(file.toAbsolutePath());
    }

    /** Records that this JVM released the lock on {@code file}. */
    public static void releasedHere(Path file) {
        HELD_HERE.remove(file.toAbsolutePath());
    }

    /** True if this JVM holds the lock on {@code file} (registered with {@link #heldHere}). */
    public static boolean isHeldHere(Path file) {
        return HELD_HERE.contains(file.toAbsolutePath());
    }

    /** True if a live process (this one included) holds the lock on {@code file}; false if there is no such file. */
    public static boolean held(Path file) throws IOException {
        if (isHeldHere(file)) {
            return true;
        }
        if (!Files.exists(file)) {
            return false;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            FileLock l = ch.tryLock();
            if (l == null) {
                return true;
            }
            l.release();
            return false;
        } catch (OverlappingFileLockException ownJvm) {
            return true;
        } catch (NoSuchFileException gone) {
            return false;
        }
    }
}

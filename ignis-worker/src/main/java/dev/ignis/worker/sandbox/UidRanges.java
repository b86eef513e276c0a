package dev.ignis.worker.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The host uids a worker gives its sandboxes: every worker on a host claims a block of its own, so a
 * process that escapes one worker's sandbox owns no uid of another worker's sandboxes.
 *
 * <p>Design: byte {@code u} of one file ({@code /run/ignis/claims/uid-ranges}) stands for uid {@code u},
 * and a worker holds an exclusive fcntl lock on the bytes of its block for as long as it lives. The
 * kernel refuses overlapping locks of two processes, whatever block sizes they were configured with
 * (two checkouts running tests in parallel included), and drops a dead process's locks, so a dead
 * worker's block is free again at once (its sandboxes died with it: their launcher is tied to the
 * worker, and the next worker's {@link HostClaims} sweep kills whatever its cgroups still hold). The
 * JVM refuses overlapping locks within one process ({@link OverlappingFileLockException}), which covers
 * two workers of one JVM. Each JVM opens the file once and never closes it: closing any descriptor of
 * a file drops every POSIX lock the process holds on it. The file has no {@code .lock} suffix, so the
 * {@link HostClaims} sweep never takes it for a worker's claim.
 */
public final class UidRanges {
    static final Path DEFAULT_FILE = HostClaims.DEFAULT_DIR.resolve("uid-ranges");
    /** Blocks tried above the base before a worker gives up (100 blocks of 10,000 uids by default). */
    static final int MAX_BLOCKS = 100;
    private static final Map<Path, FileChannel> OPEN = new ConcurrentHashMap<>();

    private UidRanges() {}

    /** Uids {@code first .. first + count - 1}. */
    public record Range(int first, int count) {
        public boolean contains(long uid) {
            return uid >= first && uid < (long) first + count;
        }
    }

    /** A block this process holds until {@link #close}. */
    public static final class Claim implements AutoCloseable {
        private final Range range;
        private final FileLock lock;

        private Claim(Range range, FileLock lock) {
            this.range = range;
            this.lock = lock;
        }

        public Range range() {
            return range;
        }

        @Override
        public void close() {
            try {
                lock.release();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Claims the first free block of {@code count} uids at {@code base + k * count}; fails when none is free. */
    public static Claim claim(int base, int count) {
        return claim(DEFAULT_FILE, base, count, MAX_BLOCKS);
    }

    static Claim claim(Path file, int base, int count, int blocks) {
        FileChannel ch = OPEN.computeIfAbsent(file.toAbsolutePath(), UidRanges::open);
        for (int k = 0; k < blocks; k++) {
            long first = base + (long) k * count;
            if (first + count > Integer.MAX_VALUE) {
                break;
            }
            try {
                FileLock lock = ch.tryLock(first, count, false);
                if (lock != null) {
                    return new Claim(new Range((int) first, count), lock);
                }
            } catch (OverlappingFileLockException heldByThisJvm) {
                // another worker of this process holds (part of) it
            } catch (IOException e) {
                throw new UncheckedIOException("cannot lock uids " + first + "+" + count + " in " + file, e);
            }
        }
        throw new IllegalStateException("no free block of " + count + " sandbox uids from uid " + base + " (" + blocks
                + " blocks tried in " + file + "): every block is held by a running worker of this host");
    }

    private static FileChannel open(Path file) {
        try {
            Files.createDirectories(file.getParent());
            return FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the uid claims " + file, e);
        }
    }
}

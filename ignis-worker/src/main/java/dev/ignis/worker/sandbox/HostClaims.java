package dev.ignis.worker.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import dev.ignis.common.LockFiles;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Which worker owns the host resources named after it (network namespaces, cgroups). A worker holds
 * an exclusive lock on {@code /run/ignis/claims/<workerId>.lock} for as long as its process lives;
 * the kernel drops the lock when the process dies, even by SIGKILL. A worker starting up sweeps the
 * claims nobody holds any more: their owners died without cleaning up, so their namespaces and
 * cgroups are removed. (Leaked namespaces are not free: every sandbox start copies the host's mount
 * table, and each namespace is a mount — 424 of them made every start ~20 ms slower.)
 *
 * <p>The claim file is locked before it gets its final name, so a sweeper never sees an unlocked
 * claim of a worker that is still starting. The claims this JVM holds are never opened again here
 * ({@link LockFiles}: closing any descriptor of the file would drop the lock).
 */
public final class HostClaims implements AutoCloseable {
    static final Path DEFAULT_DIR = Path.of("/run/ignis/claims");
    private static final String SUFFIX = ".lock";

    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;

    private HostClaims(Path file, FileChannel channel, FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    /** Claims {@code owner}'s resources for this process; fails if a live process holds them. */
    public static HostClaims claim(String owner) {
        return claim(DEFAULT_DIR, owner);
    }

    static HostClaims claim(Path dir, String owner) {
        if (!owner.matches("[A-Za-z0-9_.-]{1,60}")) {
            throw new IllegalArgumentException("bad worker id: " + owner);
        }
        Path target = dir.resolve(owner + SUFFIX);
        try {
            Files.createDirectories(dir);
            long deadline = System.nanoTime() + 3_000_000_000L;
            while (LockFiles.held(target) && System.nanoTime() < deadline) {
                Thread.sleep(50); // a sweeper may be removing our dead predecessor's resources
            }
            if (LockFiles.held(target)) {
                throw new IllegalStateException("worker id " + owner + " is in use by another running process"
                        + " (its claim " + target + " is locked)");
            }
            Path tmp = Files.createTempFile(dir, owner + "-", ".tmp");
            FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE);
            FileLock lock = ch.lock();
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            LockFiles.heldHere(target);
            return new HostClaims(target, ch, lock);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while claiming host resources for " + owner, e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot claim host resources for " + owner + " in " + dir, e);
        }
    }

    /**
     * Runs {@code cleanup} for every owner whose claim no live process holds (never this one's),
     * then deletes that claim. A claim another sweeper is cleaning up at the same moment is skipped.
     */
    public static List<String> sweepAbandoned(Consumer<String> cleanup) {
        return sweepAbandoned(DEFAULT_DIR, cleanup);
    }

    static List<String> sweepAbandoned(Path dir, Consumer<String> cleanup) {
        List<String> swept = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return swept;
        }
        List<Path> claims;
        try (Stream<Path> s = Files.list(dir)) {
            claims = s.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (Path claim : claims) {
            String name = claim.getFileName().toString();
            String owner = name.substring(0, name.length() - SUFFIX.length());
            if (LockFiles.isHeldHere(claim)) {
                continue; // a live worker in this very process
            }
            try {
                Object key = fileKey(claim);
                try (FileChannel ch = FileChannel.open(claim, StandardOpenOption.WRITE)) {
                    FileLock lock;
                    try {
                        lock = ch.tryLock();
                    } catch (OverlappingFileLockException ownJvm) {
                        continue; // a live worker in this very process
                    }
                    if (lock == null) {
                        continue; // its owner is alive
                    }
                    try {
                        if (!key.equals(fileKey(claim))) {
                            continue; // a new owner of that id renamed its claim over this one meanwhile
                        }
                        cleanup.accept(owner);
                        Files.deleteIfExists(claim);
                        swept.add(owner);
                    } finally {
                        lock.release();
                    }
                }
            } catch (NoSuchFileException gone) {
                // swept by someone else
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return swept;
    }

    private static Object fileKey(Path p) throws IOException {
        return Files.readAttributes(p, BasicFileAttributes.class).fileKey();
    }

    /** Releases the claim: this worker has removed its resources. */
    @Override
    public void close() {
        try {
            Files.deleteIfExists(file);
            lock.release();
            channel.close();
            LockFiles.releasedHere(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package dev.ignis.dist;

import dev.ignis.common.LockFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** One server per data directory: an exclusive lock on {@code <data>/server.lock}, released when the process ends. */
final class DataDirLock implements AutoCloseable {
    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;

    private DataDirLock(Path file, FileChannel channel, FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    /** Takes the lock or exits with a message naming the server that holds it. */
    static DataDirLock acquire(Path dataDir) {
        try {
            Platform.createPrivateDir(dataDir);
            Path file = dataDir.resolve("server.lock");
            FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock l = ch.tryLock();
            if (l == null) {
                String holder = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).trim();
                ch.close();
                System.err.println("ignis: another Ignis server (pid " + (holder.isEmpty() ? "?" : holder) + ") is using " + dataDir
                        + "; stop it, or pass --data-dir for a separate installation");
                System.exit(1);
            }
            ch.truncate(0);
            ch.write(java.nio.ByteBuffer.wrap(Long.toString(ProcessHandle.current().pid()).getBytes(StandardCharsets.UTF_8)), 0);
            LockFiles.heldHere(file);
            return new DataDirLock(file, ch, l);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** True while a server holds the data directory (a crashed server's lock is released by the kernel). */
    static boolean held(Path dataDir) {
        try {
            return LockFiles.held(dataDir.resolve("server.lock"));
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
            LockFiles.releasedHere(file);
        } catch (IOException ignored) {
            // the process is ending; the kernel releases the lock anyway
        }
    }
}

package dev.ignis.worker.logs;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The append-only, size-bounded log of one function on this worker:
 * {@code <dir>/current.log}, rotated to {@code current.log.1 .. .(kept-1)} when it passes
 * {@code maxBytes}. Each line is {@code <ISO-8601 instant>\t<log stream>\t<text>}.
 * Shared by every sandbox of the function; appends are serialized on this object.
 *
 * <p>Design note: the file is memory-mapped in windows of {@link #WINDOW} bytes, so an append is a
 * copy into the page cache, not a {@code write(2)} — a warm invoke's START/END/REPORT cost no system
 * call. The page cache belongs to the kernel: a line is in the file the moment it is appended and
 * survives the worker being killed -9, as a written line does (a buffer in the JVM would not). The
 * window runs ahead of the content, so the file holds NUL bytes after its last line while it is open
 * (and after a crash): readers ({@link LogFiles}) stop at the first NUL, a NUL inside a line is
 * written as U+FFFD, and the next open finds the end of the content again and continues there.
 *
 * <p>Design note (a log that cannot be written, issue #14 finding 11): touching a mapped page the file no
 * longer backs raises SIGBUS, which the JVM turns into an {@link InternalError} thrown <em>later</em>, at a
 * point of its choosing (a test saw it at the next {@code Arena.close}) — it cannot be caught reliably around
 * the copy, so it must not happen. Two ways it would: (1) a full disk. The file is sparse where
 * {@code map} extends it, and the first write to a page then finds no block. So a window is reserved before
 * it is mapped, by writing its zeros with {@code write(2)} (one call per 64 KB, once per megabyte of log):
 * ENOSPC is an {@link IOException} up front, and the part that was written is still used. (2) The file cut
 * under the mapping (logrotate's {@code copytruncate}): before each copy the file's size is compared with the
 * reserved window ({@code fstat}, ~0.5 µs: the only system call an append makes; END and REPORT are one
 * append); a shorter file is reopened and the content's end found again. A line that cannot be written is dropped and counted, never
 * thrown: the invoke goes on and its Tail still has the line; after a failure the file is retried at most
 * every {@link #RETRY_NANOS}. What is left: a cut between the size check and the copy (nanoseconds) can
 * still fault; that error is caught where it is likely to surface (here, and around {@link SandboxLog}'s
 * appends and pump, which must go on), and the file reopened.
 */
public final class FunctionLogFile implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FunctionLogFile.class);
    public static final String CURRENT = "current.log";
    /** How far a mapping runs ahead of the content: one remap per megabyte of log. */
    static final long WINDOW = 1 << 20;
    /** After a failed write, the file is not tried again for this long (lines meanwhile are dropped). */
    static final long RETRY_NANOS = 1_000_000_000L;
    /** Zeros for reserving a window (read-only duplicates are written; never changed). */
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(64 * 1024).asReadOnlyBuffer();

    private final Path dir;
    private final long maxBytes;
    private final int kept;
    private FileChannel channel;
    private Arena arena;
    private MemorySegment window;
    /** File offset of {@link #window}'s first byte. */
    private long windowStart;
    /** Bytes of content in the current file: the next line goes here. */
    private long size;
    /** While the file cannot be written: when to try again ({@link System#nanoTime}). */
    private long retryAt;
    private boolean failing;
    private long droppedLines;
    private long droppedBytes;

    public FunctionLogFile(Path dir, long maxBytes, int kept) {
        if (maxBytes < 1024 || kept < 1) {
            throw new IllegalArgumentException("log file needs maxBytes >= 1024 and kept >= 1");
        }
        this.dir = dir;
        this.maxBytes = maxBytes;
        this.kept = kept;
    }

    public Path directory() {
        return dir;
    }

    /**
     * Appends one line ({@code text} without its trailing newline); it is in the file when this returns.
     * The line is built before taking the file's lock: every sandbox of the function appends here, and
     * only the copy into the mapping needs to be serialized.
     */
    public void append(Instant at, String stream, String text) {
        StringBuilder sb = new StringBuilder(32 + stream.length() + text.length());
        write(line(sb, at, stream, text).toString().getBytes(StandardCharsets.UTF_8), 1);
    }

    /** Appends two lines at once (END and REPORT): one lock and one size check for both. */
    public void append(Instant at, String stream, String text, String text2) {
        StringBuilder sb = new StringBuilder(64 + 2 * stream.length() + text.length() + text2.length());
        write(line(line(sb, at, stream, text), at, stream, text2).toString().getBytes(StandardCharsets.UTF_8), 2);
    }

    private static StringBuilder line(StringBuilder sb, Instant at, String stream, String text) {
        if (text.indexOf('\0') >= 0) {
            text = text.replace('\0', '\uFFFD');
        }
        return LogTime.appendIso(sb, at).append('\t').append(stream).append('\t').append(text).append('\n');
    }

    private synchronized void write(byte[] line, int lines) {
        if (failing && System.nanoTime() - retryAt < 0) {
            drop(line, lines);
            return;
        }
        // A FileChannel closes itself when a thread with its interrupt set uses it (and this one is shared by the
        // function's sandboxes): an invoke whose caller gave up still writes its END. Cleared here, restored below.
        boolean interrupted = Thread.interrupted();
        try {
            if (channel == null) {
                open();
            } else if (window != null && channel.size() < windowStart + window.byteSize()) {
                reopen(); // cut under us (copytruncate): the mapping's pages past the new end would fault
            }
            if (size > 0 && size + line.length > maxBytes) {
                rotate();
            }
            put(line);
            if (failing) {
                failing = false;
                LOG.info("function log {} is written again ({} lines, {} bytes were dropped so far)", dir, droppedLines, droppedBytes);
            }
        } catch (IOException | InternalError e) {
            drop(line, lines);
            if (!failing) {
                LOG.warn("cannot write function log {}: {}; its lines are dropped (and counted) until it can", dir, e.toString());
            }
            failing = true;
            retryAt = System.nanoTime() + RETRY_NANOS;
            abandon();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void drop(byte[] bytes, int lines) {
        droppedLines += lines;
        droppedBytes += bytes.length;
    }

    /** Lines that could not be written (full disk, a file that cannot be opened) since this object was made. */
    public synchronized long droppedLines() {
        return droppedLines;
    }

    private void put(byte[] bytes) throws IOException {
        if (window == null || size + bytes.length > windowStart + window.byteSize()) {
            unmap();
            long end = reserve(size, Math.max(WINDOW, bytes.length));
            if (end - size < bytes.length) {
                throw new IOException("no space left for the log file's next " + bytes.length + " bytes");
            }
            windowStart = size;
            arena = Arena.ofShared();
            window = channel.map(FileChannel.MapMode.READ_WRITE, windowStart, end - windowStart, arena);
        }
        MemorySegment.copy(bytes, 0, window, ValueLayout.JAVA_BYTE, size - windowStart, bytes.length);
        size += bytes.length;
    }

    /**
     * Makes the file's bytes {@code [from, from + length)} real blocks (zeros where the file ends before) so the
     * mapping over them cannot fault for want of space; returns where the reserved bytes end, which is short of
     * {@code from + length} when the disk filled up on the way.
     */
    private long reserve(long from, long length) throws IOException {
        long target = from + length;
        long pos = channel.size();
        try {
            while (pos < target) {
                ByteBuffer zeros = ZEROS.duplicate();
                zeros.limit((int) Math.min(zeros.capacity(), target - pos));
                pos += channel.write(zeros, pos);
            }
        } catch (IOException e) {
            long got = channel.size();
            if (got <= from) {
                throw e;
            }
            return Math.min(got, target);
        }
        return target;
    }

    /** The file was cut or replaced under the mapping: map it again from its content's end. */
    private void reopen() throws IOException {
        abandon();
        open();
    }

    /** Drops the mapping and the channel without touching the file (it may be cut, or on a full disk). */
    private void abandon() {
        try {
            unmap();
        } catch (InternalError e) {
            // a fault of an earlier copy surfacing here (see the class comment): the file is reopened anyway
        }
        window = null;
        arena = null;
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // gone anyway
            }
            channel = null;
        }
    }

    private void open() throws IOException {
        Files.createDirectories(dir);
        channel = FileChannel.open(dir.resolve(CURRENT), StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        size = contentEnd(channel);
        if (size > 0 && byteAt(channel, size - 1) != '\n') {
            put(new byte[] {'\n'}); // a line cut short by a crash ends here; the next one starts on its own
        }
    }

    /** Where the content ends: after the last byte that is not NUL (the unused rest of the last window). */
    static long contentEnd(FileChannel ch) throws IOException {
        long end = ch.size();
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        while (end > 0) {
            long from = Math.max(0, end - buf.capacity());
            buf.clear().limit((int) (end - from));
            while (buf.hasRemaining() && ch.read(buf, from + buf.position()) >= 0) {
                // read the whole block
            }
            for (int i = buf.position() - 1; i >= 0; i--) {
                if (buf.get(i) != 0) {
                    return from + i + 1;
                }
            }
            end = from;
        }
        return 0;
    }

    private static byte byteAt(FileChannel ch, long position) throws IOException {
        ByteBuffer one = ByteBuffer.allocate(1);
        ch.read(one, position);
        return one.get(0);
    }

    private void unmap() {
        if (arena != null) {
            arena.close();
            arena = null;
            window = null;
        }
    }

    /** Unmaps, cuts the file at its content (no NULs left behind) and closes it. */
    private void closeFile() throws IOException {
        unmap();
        try {
            channel.truncate(size);
        } finally {
            channel.close();
            channel = null;
        }
    }

    private void rotate() throws IOException {
        closeFile();
        for (int i = kept - 1; i >= 1; i--) {
            Path from = i == 1 ? dir.resolve(CURRENT) : dir.resolve(CURRENT + "." + (i - 1));
            if (Files.exists(from)) {
                Files.move(from, dir.resolve(CURRENT + "." + i), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        if (kept == 1) {
            Files.deleteIfExists(dir.resolve(CURRENT));
        }
        open();
    }

    @Override
    public synchronized void close() {
        if (channel != null) {
            try {
                closeFile();
            } catch (IOException | InternalError ignored) {
                // closing anyway (an InternalError: a late fault of a cut file, see the class comment)
            }
        }
    }
}

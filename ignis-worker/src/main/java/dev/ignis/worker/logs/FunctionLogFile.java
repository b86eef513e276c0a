package dev.ignis.worker.logs;

import java.io.IOException;
import java.io.UncheckedIOException;
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
 */
public final class FunctionLogFile implements AutoCloseable {
    public static final String CURRENT = "current.log";
    /** How far a mapping runs ahead of the content: one remap per megabyte of log. */
    static final long WINDOW = 1 << 20;

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
        if (text.indexOf('\0') >= 0) {
            text = text.replace('\0', '\uFFFD');
        }
        StringBuilder sb = new StringBuilder(32 + stream.length() + text.length());
        LogTime.appendIso(sb, at).append('\t').append(stream).append('\t').append(text).append('\n');
        write(sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    private synchronized void write(byte[] line) {
        try {
            if (channel == null) {
                open();
            }
            if (size > 0 && size + line.length > maxBytes) {
                rotate();
            }
            put(line);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write function log in " + dir, e);
        }
    }

    private void put(byte[] bytes) throws IOException {
        if (window == null || size + bytes.length > windowStart + window.byteSize()) {
            unmap();
            windowStart = size;
            arena = Arena.ofShared();
            window = channel.map(FileChannel.MapMode.READ_WRITE, windowStart, Math.max(WINDOW, bytes.length), arena);
        }
        MemorySegment.copy(bytes, 0, window, ValueLayout.JAVA_BYTE, size - windowStart, bytes.length);
        size += bytes.length;
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
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }
}

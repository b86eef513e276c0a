package dev.ignis.worker.logs;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
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
 * <p>Lines are buffered; a writer flushes at the end of what belongs together (an invoke's
 * REPORT, a batch of the runtime's output) so that an invoke costs one write(2), not one per line.
 */
public final class FunctionLogFile implements AutoCloseable {
    public static final String CURRENT = "current.log";

    private final Path dir;
    private final long maxBytes;
    private final int kept;
    private OutputStream out;
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

    /** Appends one line (no trailing newline in {@code text}) and flushes. */
    public void append(Instant at, String stream, String text) {
        append(at, stream, text, true);
    }

    /** Appends one line; with {@code flush} false it may stay buffered until the next flush. */
    public synchronized void append(Instant at, String stream, String text, boolean flush) {
        byte[] line = (at + "\t" + stream + "\t" + text + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            if (out == null) {
                open();
            }
            if (size > 0 && size + line.length > maxBytes) {
                rotate();
            }
            out.write(line);
            if (flush) {
                out.flush();
            }
            size += line.length;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write function log in " + dir, e);
        }
    }

    /** Writes buffered lines to the file. */
    public synchronized void flush() {
        if (out != null) {
            try {
                out.flush();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write function log in " + dir, e);
            }
        }
    }

    private void open() throws IOException {
        Files.createDirectories(dir);
        Path f = dir.resolve(CURRENT);
        out = new java.io.BufferedOutputStream(Files.newOutputStream(f, StandardOpenOption.CREATE, StandardOpenOption.APPEND), 16 * 1024);
        size = Files.size(f);
    }

    private void rotate() throws IOException {
        out.close();
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
        if (out != null) {
            try {
                out.close();
            } catch (IOException ignored) {
                // closing anyway
            }
            out = null;
        }
    }
}

package dev.ignis.worker.sandbox;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A cgroup counter read once per invoke (peak memory for the REPORT line) through one descriptor
 * kept open: a positional read at offset 0 makes the kernel generate the file's text afresh, so a
 * read costs one pread(2) and a parse instead of open, fstat, read and close plus a page-sized
 * buffer ({@code Files.readString} sizes its buffer from the 4 KB that cgroup files claim).
 */
final class CounterFile {
    private final Path path;
    private final ByteBuffer buf = ByteBuffer.allocate(32);
    private FileChannel channel;

    CounterFile(Path path) {
        this.path = path;
    }

    /** The file's number, or 0 when it cannot be read (missing on older kernels, or the group is gone). */
    synchronized long read() {
        try {
            if (channel == null) {
                channel = FileChannel.open(path, StandardOpenOption.READ);
            }
            buf.clear();
            int n = channel.read(buf, 0);
            long v = 0;
            for (int i = 0; i < n; i++) {
                byte b = buf.get(i);
                if (b < '0' || b > '9') {
                    break;
                }
                v = v * 10 + (b - '0');
            }
            return v;
        } catch (IOException e) {
            close();
            return 0;
        }
    }

    synchronized void close() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing anyway
            }
            channel = null;
        }
    }
}

package dev.ignis.chunk.fuse;

import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Run as a separate process (as a restored VM would be): maps a file MAP_PRIVATE, touches one byte
 * of each page offset given on the command line in that order, and prints
 * {@code <total nanos> <xor of bytes>}. A separate process keeps page faults on the FUSE file out of
 * the JVM that serves the mount (a faulting thread cannot reach a safepoint).
 */
public final class MmapReplay {
    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MappedByteBuffer map = ch.map(FileChannel.MapMode.PRIVATE, 0, ch.size());
            long start = System.nanoTime();
            int x = 0;
            for (int i = 1; i < args.length; i++) {
                x ^= map.get(Integer.parseInt(args[i]));
            }
            long nanos = System.nanoTime() - start;
            map.put(0, (byte) 1); // a private write: copy-on-write, never reaches the file
            System.out.println(nanos + " " + x);
        }
    }
}

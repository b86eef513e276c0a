package dev.ignis.chunk.fuse;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run as a separate process, as a restored VM would be: mmap(2)s a file MAP_PRIVATE (through FFM,
 * because Java's FileChannel insists on a writable channel for private mappings and the sparse
 * file is read-only), prints {@code READY}, waits for a line on stdin, then touches one byte at
 * each offset listed in the trace file in that order and prints {@code <nanos> <xor>}.
 * A separate process keeps page faults on the FUSE file out of the JVM that serves the mount (a
 * thread blocked in a page fault cannot reach a safepoint, which would stall FUSE upcalls behind a GC).
 */
public final class MmapReplay {
    private static final int O_RDONLY = 0;
    private static final int PROT_READ = 1;
    private static final int PROT_WRITE = 2;
    private static final int MAP_PRIVATE = 2;

    public static void main(String[] args) throws Throwable {
        Path file = Path.of(args[0]);
        long[] offsets = Files.readAllLines(Path.of(args[1])).stream().mapToLong(Long::parseLong).toArray();
        long size = Files.size(file);
        Linker linker = Linker.nativeLinker();
        var libc = linker.defaultLookup();
        MethodHandle open = linker.downcallHandle(libc.find("open").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        MethodHandle mmap = linker.downcallHandle(libc.find("mmap").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
        try (Arena arena = Arena.ofConfined()) {
            int fd = (int) open.invokeExact(arena.allocateFrom(file.toString()), O_RDONLY);
            if (fd < 0) {
                throw new IllegalStateException("open failed for " + file);
            }
            MemorySegment addr = (MemorySegment) mmap.invokeExact(MemorySegment.NULL, size, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE, fd, 0L);
            if (addr.address() == -1L) {
                throw new IllegalStateException("mmap failed for " + file);
            }
            MemorySegment map = addr.reinterpret(size);
            System.out.println("READY");
            System.out.flush();
            new BufferedReader(new InputStreamReader(System.in)).readLine();
            long start = System.nanoTime();
            int x = 0;
            for (long off : offsets) {
                x ^= map.get(ValueLayout.JAVA_BYTE, off);
            }
            long nanos = System.nanoTime() - start;
            // a private write: copy-on-write in this process only, never reaches the file or other sandboxes
            map.set(ValueLayout.JAVA_BYTE, offsets[0], (byte) (map.get(ValueLayout.JAVA_BYTE, offsets[0]) + 1));
            System.out.println(nanos + " " + x);
        }
    }
}

package dev.ignis.worker.microvm;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a Linux initramfs archive (cpio "newc", uncompressed) reproducibly: entries sorted by path, every
 * timestamp, uid and gid 0, inode numbers in order. The same inputs give the same bytes.
 */
final class Cpio {
    private final Map<String, Entry> entries = new TreeMap<>();

    private record Entry(int mode, byte[] data) {}

    /** A directory (and its parents). */
    Cpio dir(String path) {
        String p = strip(path);
        int slash = p.lastIndexOf('/');
        if (slash > 0) {
            dir(p.substring(0, slash));
        }
        entries.putIfAbsent(p, new Entry(0040755, new byte[0]));
        return this;
    }

    /** A regular file, with its parent directories; {@code executable} gives mode 0755, else 0644. */
    Cpio file(String path, byte[] data, boolean executable) {
        String p = strip(path);
        int slash = p.lastIndexOf('/');
        if (slash > 0) {
            dir(p.substring(0, slash));
        }
        entries.put(p, new Entry(executable ? 0100755 : 0100644, data));
        return this;
    }

    byte[] toBytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int ino = 1;
        for (var e : entries.entrySet()) {
            write(out, ino++, e.getKey(), e.getValue().mode(), e.getValue().data());
        }
        write(out, 0, "TRAILER!!!", 0, new byte[0]);
        return out.toByteArray();
    }

    private static String strip(String path) {
        String p = path.startsWith("/") ? path.substring(1) : path;
        if (p.isEmpty() || p.contains("..")) {
            throw new IllegalArgumentException("bad initramfs path: " + path);
        }
        return p;
    }

    private static void write(ByteArrayOutputStream out, int ino, String name, int mode, byte[] data) {
        byte[] n = (name + "\0").getBytes(StandardCharsets.UTF_8);
        StringBuilder h = new StringBuilder("070701");
        // ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
        for (long v : new long[] {ino, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, n.length, 0}) {
            h.append(String.format("%08X", v));
        }
        out.writeBytes(h.toString().getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(n);
        pad(out, 110 + n.length);
        out.writeBytes(data);
        pad(out, data.length);
    }

    private static void pad(ByteArrayOutputStream out, int length) {
        for (int i = 0; i < (4 - length % 4) % 4; i++) {
            out.write(0);
        }
    }
}

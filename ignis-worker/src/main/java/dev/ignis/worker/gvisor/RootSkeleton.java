package dev.ignis.worker.gvisor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The read-only root of a gVisor sandbox: nothing but the mount points its bundle binds over (directories,
 * and empty files where a single file is bound), plus {@code /proc}, {@code /dev}, {@code /sys}, {@code /tmp}
 * and an empty {@code /opt}. gVisor cannot create a mount point in a read-only root, so they are made here,
 * once per distinct set of mount points (a runtime's), owned by root, {@code 0755}/{@code 0444}, and shared
 * read-only by every sandbox of that set. Nothing of the host is in it: a path that is not bound does not exist.
 */
public final class RootSkeleton {
    private RootSkeleton() {}

    /** Always present besides the mount points. */
    static final List<String> BASE = List.of("/proc", "/dev", "/sys", "/tmp", "/opt", "/var/task", "/var/runtime");

    /**
     * The skeleton under {@code parent} for these mount points ({@code destination -> true} for a directory,
     * {@code false} for a file); made once (named by a hash of the set), then reused.
     */
    public static Path ensure(Path parent, TreeMap<String, Boolean> mountPoints) {
        TreeMap<String, Boolean> all = new TreeMap<>(mountPoints);
        BASE.forEach(b -> all.putIfAbsent(b, true));
        for (String d : all.keySet()) {
            if (!d.startsWith("/") || Path.of(d).normalize().toString().length() != d.length() || d.equals("/")) {
                throw new IllegalArgumentException("bad mount point: " + d);
            }
        }
        Path dir = parent.resolve("root-" + hash(all));
        if (Files.isDirectory(dir)) {
            return dir;
        }
        Path tmp = parent.resolve(".root-" + UUID.randomUUID());
        try {
            Files.createDirectories(parent);
            Files.createDirectory(tmp);
            for (var e : all.entrySet()) {
                Path p = tmp.resolve(e.getKey().substring(1));
                if (e.getValue()) {
                    Files.createDirectories(p);
                } else {
                    Files.createDirectories(p.getParent());
                    if (!Files.exists(p)) {
                        Files.createFile(p);
                    }
                }
            }
            try (Stream<Path> s = Files.walk(tmp)) {
                for (Path p : s.toList()) {
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "r--r--r--"));
                }
            }
            try {
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException | java.nio.file.DirectoryNotEmptyException raced) {
                delete(tmp); // another worker made the same one meanwhile
            }
            return dir;
        } catch (IOException e) {
            delete(tmp);
            throw new UncheckedIOException("cannot make the gVisor root skeleton under " + parent, e);
        }
    }

    private static String hash(TreeMap<String, Boolean> all) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            all.forEach((k, v) -> md.update((k + (v ? "/\n" : "\n")).getBytes(StandardCharsets.UTF_8)));
            return HexFormat.of().formatHex(md.digest(), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void delete(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(x -> x.toFile().delete());
        } catch (IOException ignored) {
            // best effort: a leftover temporary skeleton is harmless
        }
    }
}

package dev.ignis.runtimes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Shared libraries as one bind per directory instead of one per file. A runtime's interpreter needs
 * a few dozen host libraries (python3.11: 26), each bound read-only at its own path; bwrap pays for
 * every bind at every sandbox start (26 file binds: ~8 ms of a ~21 ms bwrap start on this VM). The
 * catalog copies exactly those files into a directory of the runtime's own and binds that directory
 * at the libraries' directory: the sandbox sees the same files at the same paths, and nothing more.
 * Copies are refreshed when the host file's size or modification time changes (a package upgrade).
 */
final class LibraryCopies {
    /** The runtime's paths once its libraries are grouped: what stays bound per path, and the directory binds. */
    record Collapsed(List<Path> paths, Map<Path, Path> directoryBinds) {}

    private static final int MIN_FILES = 2;

    private LibraryCopies() {}

    /**
     * Groups the regular files of {@code paths} by parent directory; a directory with at least two of
     * them, and no other listed path inside it, is replaced by a copy under {@code into}.
     */
    static Collapsed collapse(Path into, Collection<Path> paths) throws IOException {
        Map<Path, List<Path>> byDir = new LinkedHashMap<>();
        for (Path p : paths) {
            if (Files.isRegularFile(p) && p.getParent() != null && p.getFileName().toString().contains(".so")) {
                byDir.computeIfAbsent(p.getParent(), d -> new ArrayList<>()).add(p);
            }
        }
        List<Path> kept = new ArrayList<>(paths);
        Map<Path, Path> binds = new LinkedHashMap<>();
        Set<String> wanted = new TreeSet<>();
        for (var e : byDir.entrySet()) {
            Path dir = e.getKey();
            List<Path> files = e.getValue();
            boolean othersInside = paths.stream().anyMatch(p -> p.startsWith(dir) && !files.contains(p));
            if (files.size() < MIN_FILES || othersInside) {
                continue;
            }
            String name = dir.toString().substring(1).replace('/', '_');
            Path copyDir = into.resolve(name);
            Files.createDirectories(copyDir);
            wanted.add(name);
            Set<String> names = new TreeSet<>();
            for (Path f : files) {
                names.add(f.getFileName().toString());
                refresh(f, copyDir.resolve(f.getFileName()));
            }
            try (Stream<Path> s = Files.list(copyDir)) { // libraries the runtime no longer needs
                for (Path old : s.filter(p -> !names.contains(p.getFileName().toString())).toList()) {
                    Files.deleteIfExists(old);
                }
            }
            kept.removeAll(files);
            binds.put(dir, copyDir);
        }
        if (Files.isDirectory(into)) {
            try (Stream<Path> s = Files.list(into)) {
                for (Path old : s.filter(p -> !wanted.contains(p.getFileName().toString())).toList()) {
                    try (Stream<Path> inner = Files.list(old)) {
                        for (Path f : inner.toList()) {
                            Files.deleteIfExists(f);
                        }
                    }
                    Files.deleteIfExists(old);
                }
            }
        }
        return new Collapsed(List.copyOf(kept), Map.copyOf(binds));
    }

    /** Copies {@code from} (its content, following symlinks) to {@code to} unless an identical copy is there. */
    private static void refresh(Path from, Path to) throws IOException {
        Path real = from.toRealPath();
        if (Files.isRegularFile(to, LinkOption.NOFOLLOW_LINKS)
                && Files.size(to) == Files.size(real)
                && Files.getLastModifiedTime(to).equals(Files.getLastModifiedTime(real))) {
            return;
        }
        Path tmp = to.resolveSibling(to.getFileName() + ".tmp");
        Files.copy(real, tmp, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
        Files.move(tmp, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}

package dev.ignis.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Builds what a function sees at {@code /opt}: its layers' unpacked trees merged in order, a later
 * layer's entry replacing an earlier one at the same path (Lambda extracts layers into /opt one
 * after another). bubblewrap 0.8 (Debian 12) has no overlay mounts, so the merge is made once per
 * distinct list of layers, on the host, and mounted read-only like a package.
 *
 * <p>Design: the layers are trees {@link PackageUnpacker} made (root's, read-only, their symlinks
 * the tenant's). The merge is computed on paper first — a walk that never follows a link, where a
 * later directory replaces an earlier file or link, and a later file or link replaces an earlier
 * directory with everything below it — so no entry of the result lies below a link or a file.
 * Then it is made in a fresh staging directory: directories first, files as hard links to the
 * layers' own read-only files (no copy; a copy when the link is refused), symlinks last, so nothing
 * is ever written through a link. Directories end 0555; the tree is renamed into place in one step.
 */
final class LayerMerge {
    private LayerMerge() {}

    private sealed interface Entry {}

    private record Dir() implements Entry {}

    private record File(Path source) implements Entry {}

    private record Link(String target) implements Entry {}

    /** Merges {@code layers} (unpacked trees, in order) into {@code target}, which must not exist. */
    static void merge(List<Path> layers, Path target) {
        Map<List<String>, Entry> tree = new HashMap<>();
        for (Path layer : layers) {
            add(layer, tree);
        }
        Path staging = target.resolveSibling(".staging");
        Path stage = staging.resolve(target.getFileName() + "." + UUID.randomUUID());
        try {
            Files.createDirectories(staging);
            Files.setPosixFilePermissions(staging, PosixFilePermissions.fromString("rwx------"));
            Files.createDirectory(stage);
            List<List<String>> paths = new ArrayList<>(tree.keySet());
            paths.sort(Comparator.<List<String>>comparingInt(List::size).thenComparing(Object::toString));
            List<Path> dirs = new ArrayList<>();
            for (List<String> p : paths) {
                Path at = resolve(stage, p);
                switch (tree.get(p)) {
                    case Dir d -> {
                        Files.createDirectory(at);
                        dirs.add(at);
                    }
                    case File f -> link(f.source(), at);
                    case Link l -> { } // last
                }
            }
            for (List<String> p : paths) {
                if (tree.get(p) instanceof Link l) {
                    Files.createSymbolicLink(resolve(stage, p), Path.of(l.target()));
                }
            }
            dirs.sort(Comparator.comparingInt(Path::getNameCount).reversed());
            for (Path d : dirs) {
                Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("r-xr-xr-x"));
            }
            Files.setPosixFilePermissions(stage, PosixFilePermissions.fromString("r-xr-xr-x"));
            Files.move(stage, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            CodeStore.deleteTree(stage);
            if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                throw new UncheckedIOException(e); // else another thread merged the same layers first
            }
        } catch (RuntimeException e) {
            CodeStore.deleteTree(stage);
            throw e;
        }
    }

    private static void add(Path layer, Map<List<String>, Entry> tree) {
        try {
            Files.walkFileTree(layer, new SimpleFileVisitor<>() { // follows no link
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    if (!dir.equals(layer)) {
                        put(tree, relative(layer, dir), new Dir());
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    if (attrs.isSymbolicLink()) {
                        put(tree, relative(layer, file), new Link(Files.readSymbolicLink(file).toString()));
                    } else if (attrs.isRegularFile()) {
                        put(tree, relative(layer, file), new File(file));
                    } // the unpacker makes nothing else
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A later layer's entry at {@code p}: a directory over a directory merges, anything else replaces (with what was below). */
    private static void put(Map<List<String>, Entry> tree, List<String> p, Entry e) {
        Entry old = tree.get(p);
        if (old instanceof Dir && e instanceof Dir) {
            return;
        }
        if (old instanceof Dir) {
            tree.keySet().removeIf(k -> k.size() > p.size() && k.subList(0, p.size()).equals(p));
        }
        tree.put(p, e);
    }

    private static List<String> relative(Path root, Path p) {
        List<String> out = new ArrayList<>();
        root.relativize(p).forEach(c -> out.add(c.toString()));
        return List.copyOf(out);
    }

    private static Path resolve(Path root, List<String> p) {
        Path at = root;
        for (String c : p) {
            at = at.resolve(c);
        }
        return at;
    }

    private static void link(Path source, Path at) throws IOException {
        try {
            Files.createLink(at, source);
        } catch (FileSystemException | UnsupportedOperationException e) {
            Files.copy(source, at, LinkOption.NOFOLLOW_LINKS, StandardCopyOption.COPY_ATTRIBUTES);
        }
    }
}

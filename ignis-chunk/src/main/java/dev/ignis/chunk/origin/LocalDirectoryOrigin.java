package dev.ignis.chunk.origin;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** The embedded origin: one file per key under a directory, written atomically. */
public final class LocalDirectoryOrigin implements Origin {
    private static final Pattern KEY = Pattern.compile("[a-z]+/[0-9a-f]{64}(\\.[a-z]+)?");
    private final Path root;

    public LocalDirectoryOrigin(Path root) {
        this.root = root.toAbsolutePath();
        try {
            Files.createDirectories(this.root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create origin directory " + root, e);
        }
    }

    /** The file backing a key (tests tamper with it). */
    public Path pathOf(String key) {
        if (!KEY.matcher(key).matches()) {
            throw new IllegalArgumentException("invalid origin key: " + key);
        }
        return root.resolve(key);
    }

    @Override
    public void put(String key, byte[] value) {
        Path target = pathOf(key);
        try {
            dev.ignis.chunk.io.AtomicFiles.write(target, value);
        } catch (IOException e) {
            throw new UncheckedIOException("origin write failed for " + key, e);
        }
    }

    @Override
    public Optional<byte[]> get(String key) {
        try {
            return Optional.of(Files.readAllBytes(pathOf(key)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("origin read failed for " + key, e);
        }
    }

    @Override
    public boolean exists(String key) {
        return Files.exists(pathOf(key));
    }

    @Override
    public void delete(String key) {
        try {
            Files.deleteIfExists(pathOf(key));
        } catch (IOException e) {
            throw new UncheckedIOException("origin delete failed for " + key, e);
        }
    }

    @Override
    public List<Entry> list(String prefix) {
        String dirName = prefix.contains("/") ? prefix.substring(0, prefix.indexOf('/')) : prefix;
        Path dir = root.resolve(dirName);
        List<Entry> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String key = dirName + "/" + p.getFileName();
                if (key.startsWith(prefix) && !p.getFileName().toString().startsWith(".")) {
                    try {
                        out.add(new Entry(key, Files.getLastModifiedTime(p).toInstant()));
                    } catch (NoSuchFileException raced) {
                        // deleted while listing
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("origin list failed for " + prefix, e);
        }
        return out;
    }
}

package dev.ignis.chunk.tier;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import dev.ignis.chunk.ChunkId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Worker-local disk tier: one file per chunk under {@code dir/ab/abcd...}, bounded by bytes.
 *
 * <p>Design note: the index is a Caffeine cache weighted by file size, so eviction is W-TinyLFU —
 * a one-off scan of a large image cannot flush the frequently used OS/runtime chunks (the reason the
 * issue asks for LRU-k or TinyLFU rather than LRU). Evicting an entry deletes its file. Files are
 * written to a temporary name and renamed, so a crash never leaves a torn chunk under a real name
 * (and a torn one would fail the name check anyway).
 */
public final class DiskTier implements ChunkSource {
    private final Path dir;
    private final Cache<ChunkId, Integer> index;

    public DiskTier(Path dir, long maxBytes) {
        this.dir = dir;
        this.index = Caffeine.newBuilder().maximumWeight(maxBytes)
                .weigher((ChunkId k, Integer size) -> size)
                .executor(Runnable::run)
                .removalListener((ChunkId k, Integer v, RemovalCause cause) -> {
                    if (cause != RemovalCause.REPLACED && k != null) {
                        deleteQuietly(pathOf(k));
                    }
                })
                .build();
        try {
            Files.createDirectories(dir);
            try (Stream<Path> files = Files.walk(dir, 2)) {
                files.filter(Files::isRegularFile).forEach(this::reindex);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open disk tier at " + dir, e);
        }
    }

    private void reindex(Path p) {
        String name = p.getFileName().toString();
        if (name.length() == 64 && name.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            try {
                index.put(new ChunkId(name), (int) Files.size(p));
            } catch (IOException ignored) {
                // vanished while scanning
            }
        } else {
            deleteQuietly(p); // leftover temp file from a crash
        }
    }

    @Override
    public String name() {
        return "disk";
    }

    @Override
    public Optional<byte[]> get(ChunkId id) {
        Integer size = index.getIfPresent(id);
        if (size == null) {
            return Optional.empty();
        }
        // the index knows the size: one open, one positional read into an exact array, no fstat or growth
        try (var ch = java.nio.channels.FileChannel.open(pathOf(id), java.nio.file.StandardOpenOption.READ)) {
            byte[] out = new byte[size];
            var buf = java.nio.ByteBuffer.wrap(out);
            while (buf.hasRemaining()) {
                if (ch.read(buf, buf.position()) < 0) {
                    index.invalidate(id);
                    return Optional.empty();
                }
            }
            return Optional.of(out);
        } catch (NoSuchFileException e) {
            index.invalidate(id);
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    @Override
    public void put(ChunkId id, byte[] ciphertext) {
        Path target = pathOf(id);
        try {
            dev.ignis.chunk.io.AtomicFiles.write(target, ciphertext);
            index.put(id, ciphertext.length);
        } catch (IOException e) {
            // a cache that cannot write is a cache that misses; the read itself still succeeds
        }
    }

    @Override
    public void delete(ChunkId id) {
        index.invalidate(id);
        deleteQuietly(pathOf(id));
    }

    /** The file that holds a chunk (tests flip bits in it). */
    public Path pathOf(ChunkId id) {
        return dir.resolve(id.hex().substring(0, 2)).resolve(id.hex());
    }

    public long weightedSize() {
        index.cleanUp();
        return index.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: an orphan file is re-indexed or removed on the next start
        }
    }
}

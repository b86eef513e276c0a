package dev.ignis.chunk.tier;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import dev.ignis.chunk.ChunkId;
import dev.ignis.chunk.io.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
 *
 * <p>Reads: the recently read chunks' files stay open (a small Caffeine cache of read channels;
 * evicting one closes it), and a read is one positional {@code pread} into a pooled direct buffer,
 * then one copy into an exact-size array. Opening and closing the file cost a sixth of a 512 KiB
 * read, and reading into a heap buffer from a fresh virtual thread (a prefetch) allocated a native
 * bounce buffer every time (see {@link DirectBufferPool}). A chunk file is only ever replaced
 * through {@link #put} or removed through {@link #delete} or eviction, and each of those drops the
 * open channel first, so a cached channel never reads a stale inode. The bytes are not trusted:
 * {@link TieredChunkSource} checks them against the chunk's name before anyone uses them.
 */
public final class DiskTier implements ChunkSource {
    /** Open read channels kept; well under the usual 1024 descriptors per process. */
    static final int OPEN_FILES = 128;

    private final Path dir;
    private final Cache<ChunkId, FileChannel> open = Caffeine.newBuilder().maximumSize(OPEN_FILES)
            .executor(Runnable::run)
            .removalListener((ChunkId k, FileChannel ch, RemovalCause cause) -> closeQuietly(ch))
            .build();
    private final DirectBufferPool buffers = new DirectBufferPool(Runtime.getRuntime().availableProcessors() * 4);
    private final Cache<ChunkId, Integer> index;

    public DiskTier(Path dir, long maxBytes) {
        this.dir = dir;
        this.index = Caffeine.newBuilder().maximumWeight(maxBytes)
                .weigher((ChunkId k, Integer size) -> size)
                .executor(Runnable::run)
                .removalListener((ChunkId k, Integer v, RemovalCause cause) -> {
                    if (cause != RemovalCause.REPLACED && k != null) {
                        open.invalidate(k);
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
        ByteBuffer buf = buffers.acquire(size);
        try {
            for (int attempt = 0; ; attempt++) {
                FileChannel ch = channel(id);
                try {
                    if (!readFully(ch, buf.clear().limit(size))) {
                        delete(id); // shorter than indexed: a damaged file, not a chunk
                        return Optional.empty();
                    }
                    byte[] out = new byte[size];
                    buf.flip().get(out);
                    return Optional.of(out);
                } catch (ClosedChannelException e) {
                    // evicted, replaced or closed by another thread's interrupt while we read: reopen once
                    open.asMap().remove(id, ch);
                    if (attempt > 0 || Thread.currentThread().isInterrupted()) {
                        return Optional.empty();
                    }
                }
            }
        } catch (NoSuchFileException e) {
            index.invalidate(id);
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } finally {
            buffers.release(buf);
        }
    }

    private FileChannel channel(ChunkId id) throws IOException {
        try {
            return open.get(id, k -> {
                try {
                    return FileChannel.open(pathOf(k), StandardOpenOption.READ);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** Positional reads until {@code buf} is full; false if the file ends first. */
    private static boolean readFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            if (ch.read(buf, buf.position()) < 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void put(ChunkId id, byte[] ciphertext) {
        Path target = pathOf(id);
        try {
            AtomicFiles.write(target, ciphertext);
            open.invalidate(id); // an open channel would still read the replaced inode
            index.put(id, ciphertext.length);
        } catch (IOException e) {
            // a cache that cannot write is a cache that misses; the read itself still succeeds
        }
    }

    @Override
    public void delete(ChunkId id) {
        index.invalidate(id);
        open.invalidate(id);
        deleteQuietly(pathOf(id));
    }

    @Override
    public void close() {
        open.invalidateAll();
        open.cleanUp();
    }

    /** Read channels currently open (tests). */
    long openFiles() {
        open.cleanUp();
        return open.estimatedSize();
    }

    /** Direct buffers waiting in the pool (tests). */
    int pooledBuffers() {
        return buffers.pooled();
    }

    /** The file that holds a chunk (tests flip bits in it). */
    public Path pathOf(ChunkId id) {
        return dir.resolve(id.hex().substring(0, 2)).resolve(id.hex());
    }

    public long weightedSize() {
        index.cleanUp();
        return index.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            if (ch != null) {
                ch.close();
            }
        } catch (IOException ignored) {
            // a read channel has nothing to flush
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: an orphan file is re-indexed or removed on the next start
        }
    }
}

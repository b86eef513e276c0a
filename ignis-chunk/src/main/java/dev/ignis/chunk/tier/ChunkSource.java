package dev.ignis.chunk.tier;

import dev.ignis.chunk.ChunkId;
import java.util.Optional;

/**
 * One place chunk ciphertext can come from: memory, local disk, the distributed cache, the origin —
 * or all of them stacked ({@link TieredChunkSource}). Sources hold ciphertext only; callers verify
 * the name and decrypt. A cache tier may lose entries at any time; only the origin is durable.
 */
public interface ChunkSource extends AutoCloseable {
    /** Short tier name used in metrics ({@code memory}, {@code disk}, {@code memcached}, {@code origin}). */
    String name();

    /** The chunk's ciphertext, or empty on a miss. A failing cache tier reports a miss, not an error. */
    Optional<byte[]> get(ChunkId id);

    /** Stores the chunk (best effort for caches). */
    void put(ChunkId id, byte[] ciphertext);

    /**
     * True when {@link #put} is cheap enough to run on the read path (an in-memory cache). A read
     * that hits a lower tier fills such tiers before it returns and fills the others (files,
     * network) in the background, so a cache fill never delays the chunk it is caching.
     */
    default boolean cheapToFill() {
        return false;
    }

    /** Removes the chunk if present. */
    void delete(ChunkId id);

    @Override
    default void close() {
    }
}

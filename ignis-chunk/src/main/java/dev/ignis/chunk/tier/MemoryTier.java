package dev.ignis.chunk.tier;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.ignis.chunk.ChunkId;
import java.util.Optional;

/** In-memory tier: a Caffeine cache (W-TinyLFU, scan resistant) bounded by ciphertext bytes. */
public final class MemoryTier implements ChunkSource {
    private final Cache<ChunkId, byte[]> cache;

    public MemoryTier(long maxBytes) {
        this.cache = Caffeine.newBuilder().maximumWeight(maxBytes)
                .weigher((ChunkId k, byte[] v) -> v.length)
                .executor(Runnable::run)
                .build();
    }

    @Override
    public String name() {
        return "memory";
    }

    @Override
    public Optional<byte[]> get(ChunkId id) {
        return Optional.ofNullable(cache.getIfPresent(id));
    }

    @Override
    public void put(ChunkId id, byte[] ciphertext) {
        cache.put(id, ciphertext);
    }

    @Override
    public boolean cheapToFill() {
        return true;
    }

    @Override
    public void delete(ChunkId id) {
        cache.invalidate(id);
    }

    /** Bytes currently held (approximate until pending maintenance runs). */
    public long weightedSize() {
        cache.cleanUp();
        return cache.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    }
}

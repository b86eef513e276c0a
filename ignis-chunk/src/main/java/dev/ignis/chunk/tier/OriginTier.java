package dev.ignis.chunk.tier;

import dev.ignis.chunk.ChunkId;
import dev.ignis.chunk.origin.Origin;
import java.util.Optional;

/** The bottom tier: chunks stored durably in the origin under {@code chunks/<hex>}. */
public final class OriginTier implements ChunkSource {
    private final Origin origin;

    public OriginTier(Origin origin) {
        this.origin = origin;
    }

    public static String key(ChunkId id) {
        return "chunks/" + id.hex();
    }

    @Override
    public String name() {
        return "origin";
    }

    @Override
    public Optional<byte[]> get(ChunkId id) {
        return origin.get(key(id));
    }

    @Override
    public void put(ChunkId id, byte[] ciphertext) {
        origin.put(key(id), ciphertext);
    }

    @Override
    public void delete(ChunkId id) {
        origin.delete(key(id));
    }
}

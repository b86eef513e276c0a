package dev.ignis.chunk;

import java.util.Objects;

/**
 * One entry of a manifest: the chunk at a position of the object.
 *
 * @param id          the chunk's name, or {@code null} for an all-zero chunk that is not stored
 * @param plainLength plaintext bytes this chunk covers (the last chunk may be short)
 * @param keyMaterial per-chunk key material, wrapped (convergent layers: the plaintext hash sealed
 *                    under the deployment's shared key-encryption key); empty for function layers
 */
public record ChunkRef(ChunkId id, int plainLength, byte[] keyMaterial) {
    public ChunkRef {
        if (plainLength <= 0) {
            throw new IllegalArgumentException("chunk length must be positive: " + plainLength);
        }
        keyMaterial = keyMaterial == null ? new byte[0] : keyMaterial.clone();
    }

    /** An all-zero chunk: served as zeros, never stored. */
    public static ChunkRef zero(int plainLength) {
        return new ChunkRef(null, plainLength, new byte[0]);
    }

    public boolean isZero() {
        return id == null;
    }

    @Override
    public byte[] keyMaterial() {
        return keyMaterial.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChunkRef r && Objects.equals(id, r.id) && plainLength == r.plainLength
                && java.util.Arrays.equals(keyMaterial, r.keyMaterial);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, plainLength, java.util.Arrays.hashCode(keyMaterial));
    }
}

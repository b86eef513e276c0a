package dev.ignis.chunk;

import java.util.List;

/**
 * The ordered list of chunks an object is made of, with what a reader needs to decrypt them.
 * Stored in the origin as {@code manifests/<id>}, authenticated with the deployment's manifest MAC
 * (see {@link ManifestCodec}); its id is the SHA-256 of that authenticated encoding.
 *
 * @param layer      how the chunks are keyed
 * @param owner      the owning account/function ({@link Owner#SHARED} for os/runtime layers)
 * @param size       plaintext bytes of the whole object
 * @param chunkSize  bytes per chunk (all but the last chunk are exactly this long)
 * @param wrappedKey function layers: the per-function data key, wrapped by the account key; else empty
 * @param chunks     chunk references in object order
 */
public record Manifest(Layer layer, Owner owner, long size, int chunkSize, byte[] wrappedKey, List<ChunkRef> chunks) {
    public Manifest {
        chunks = List.copyOf(chunks);
        wrappedKey = wrappedKey == null ? new byte[0] : wrappedKey.clone();
        if (chunkSize <= 0) {
            throw new IllegalArgumentException("chunk size must be positive");
        }
        long expected = size == 0 ? 0 : (size + chunkSize - 1) / chunkSize;
        if (chunks.size() != expected) {
            throw new IllegalArgumentException("manifest lists " + chunks.size() + " chunks for " + size
                    + " bytes at " + chunkSize + " per chunk (expected " + expected + ")");
        }
    }

    @Override
    public byte[] wrappedKey() {
        return wrappedKey.clone();
    }

    /** Chunk index that holds byte {@code position}. */
    public int chunkIndex(long position) {
        return (int) (position / chunkSize);
    }
}

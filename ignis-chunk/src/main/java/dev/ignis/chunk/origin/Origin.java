package dev.ignis.chunk.origin;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The durable object store behind the chunk store (the S3 API in production, a local directory when
 * embedded). Keys look like {@code chunks/<hex>}, {@code manifests/<hex>} and
 * {@code manifests/<hex>.pal}. It only ever sees ciphertext and authenticated manifests.
 */
public interface Origin extends AutoCloseable {
    void put(String key, byte[] value);

    Optional<byte[]> get(String key);

    boolean exists(String key);

    void delete(String key);

    /** Keys under {@code prefix}, with their last-modified time. */
    List<Entry> list(String prefix);

    /** A listed key. */
    record Entry(String key, Instant lastModified) {
    }

    @Override
    default void close() {
    }
}

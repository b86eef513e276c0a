package dev.ignis.chunk;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Settings of one {@link ChunkStore} instance (one per worker).
 *
 * @param chunkSize           bytes per chunk (default 512 KiB; a power of two between 4 KiB and 4 MiB)
 * @param memoryBytes         in-memory tier bound
 * @param diskDir             local disk tier directory
 * @param diskBytes           local disk tier bound
 * @param memcachedServers    distributed-cache servers (empty = no distributed tier)
 * @param memcachedTimeout    per-operation timeout for memcached
 * @param plaintextCacheBytes per-reader plaintext cache (holds prefetched chunks until demanded)
 * @param gcGrace             chunks younger than this are never collected (ingests in other processes)
 * @param prefetchParallelism chunk fetches a prefetch keeps in flight (issued in page-access-log order)
 */
public record ChunkStoreConfig(int chunkSize, long memoryBytes, Path diskDir, long diskBytes,
                               List<InetSocketAddress> memcachedServers, Duration memcachedTimeout,
                               long plaintextCacheBytes, Duration gcGrace, int prefetchParallelism) {
    public static final int DEFAULT_CHUNK_SIZE = 512 * 1024;

    public ChunkStoreConfig {
        if (chunkSize < 4096 || chunkSize > 4 << 20 || Integer.bitCount(chunkSize) != 1) {
            throw new IllegalArgumentException("chunk size must be a power of two between 4 KiB and 4 MiB: " + chunkSize);
        }
        memcachedServers = List.copyOf(memcachedServers);
        if (memoryBytes < 0 || diskBytes < 0 || plaintextCacheBytes < 0) {
            throw new IllegalArgumentException("cache bounds must be non-negative");
        }
        if (prefetchParallelism < 1) {
            throw new IllegalArgumentException("prefetch parallelism must be at least 1");
        }
    }

    /** Defaults: 512 KiB chunks, 256 MiB memory, 4 GiB disk under {@code diskDir}, no memcached. */
    public static ChunkStoreConfig defaults(Path diskDir) {
        return new ChunkStoreConfig(DEFAULT_CHUNK_SIZE, 256L << 20, diskDir, 4L << 30, List.of(),
                Duration.ofMillis(500), 256L << 20, Duration.ofMinutes(10), 24);
    }

    public ChunkStoreConfig withChunkSize(int size) {
        return new ChunkStoreConfig(size, memoryBytes, diskDir, diskBytes, memcachedServers, memcachedTimeout,
                plaintextCacheBytes, gcGrace, prefetchParallelism);
    }

    public ChunkStoreConfig withMemcached(List<InetSocketAddress> servers) {
        return new ChunkStoreConfig(chunkSize, memoryBytes, diskDir, diskBytes, servers, memcachedTimeout,
                plaintextCacheBytes, gcGrace, prefetchParallelism);
    }

    public ChunkStoreConfig withBounds(long memory, long disk) {
        return new ChunkStoreConfig(chunkSize, memory, diskDir, disk, memcachedServers, memcachedTimeout,
                plaintextCacheBytes, gcGrace, prefetchParallelism);
    }

    public ChunkStoreConfig withGcGrace(Duration grace) {
        return new ChunkStoreConfig(chunkSize, memoryBytes, diskDir, diskBytes, memcachedServers, memcachedTimeout,
                plaintextCacheBytes, grace, prefetchParallelism);
    }

    public ChunkStoreConfig withPrefetchParallelism(int parallelism) {
        return new ChunkStoreConfig(chunkSize, memoryBytes, diskDir, diskBytes, memcachedServers, memcachedTimeout,
                plaintextCacheBytes, gcGrace, parallelism);
    }
}

package dev.ignis.chunk.tier;

import dev.ignis.chunk.ChunkId;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Distributed-cache tier (the talk's AZ-level cache) on memcached servers with client-side
 * consistent hashing. An unreachable server is a miss, never an error: the origin still answers.
 */
public final class MemcachedTier implements ChunkSource {
    private static final Logger LOG = LoggerFactory.getLogger(MemcachedTier.class);
    private final MemcachedClient client;

    public MemcachedTier(List<InetSocketAddress> servers, int timeoutMillis) {
        this.client = new MemcachedClient(servers, timeoutMillis);
    }

    static String key(ChunkId id) {
        return "ignis-chunk:" + id.hex();
    }

    /** The server that owns a chunk under consistent hashing. */
    public InetSocketAddress serverFor(ChunkId id) {
        return client.serverFor(key(id));
    }

    @Override
    public String name() {
        return "memcached";
    }

    @Override
    public Optional<byte[]> get(ChunkId id) {
        try {
            return client.get(key(id));
        } catch (IOException e) {
            LOG.debug("memcached get {} failed: {}", id, e.toString());
            return Optional.empty();
        }
    }

    @Override
    public void put(ChunkId id, byte[] ciphertext) {
        try {
            if (!client.set(key(id), ciphertext)) {
                LOG.debug("memcached refused chunk {} ({} bytes)", id, ciphertext.length);
            }
        } catch (IOException e) {
            LOG.debug("memcached set {} failed: {}", id, e.toString());
        }
    }

    @Override
    public void delete(ChunkId id) {
        try {
            client.delete(key(id));
        } catch (IOException e) {
            LOG.debug("memcached delete {} failed: {}", id, e.toString());
        }
    }

    @Override
    public void close() {
        client.close();
    }
}

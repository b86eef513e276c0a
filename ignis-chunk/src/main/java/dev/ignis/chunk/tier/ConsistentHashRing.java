package dev.ignis.chunk.tier;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Client-side consistent hashing (Ketama style): each server owns {@code pointsPerServer} points on
 * a 64-bit ring; a key goes to the first point at or after its hash. Adding or removing one of N
 * servers moves only about 1/N of the keys, so a cache-fleet change does not cold-start every worker.
 */
final class ConsistentHashRing {
    private final TreeMap<Long, InetSocketAddress> ring = new TreeMap<>();

    ConsistentHashRing(List<InetSocketAddress> servers, int pointsPerServer) {
        if (servers.isEmpty()) {
            throw new IllegalArgumentException("at least one memcached server is required");
        }
        for (InetSocketAddress s : servers) {
            for (int i = 0; i < pointsPerServer; i++) {
                ring.put(hash(s.getHostString() + ":" + s.getPort() + "#" + i), s);
            }
        }
    }

    InetSocketAddress serverFor(String key) {
        Map.Entry<Long, InetSocketAddress> e = ring.ceilingEntry(hash(key));
        return (e != null ? e : ring.firstEntry()).getValue();
    }

    private static long hash(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return ByteBuffer.wrap(d).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

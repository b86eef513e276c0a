package dev.ignis.chunk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.chunk.crypto.DeploymentKeys;
import dev.ignis.chunk.origin.LocalDirectoryOrigin;
import dev.ignis.chunk.tier.DiskTier;
import dev.ignis.chunk.tier.MemcachedTier;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TierTest {
    @TempDir
    Path tmp;

    private final DeploymentKeys keys = DeploymentKeys.random();

    private static double count(MeterRegistry reg, String name, String tier) {
        return reg.get("ignis.chunk.tier." + name).tag("tier", tier).counter().count();
    }

    @Test
    void missFillsTiersAboveAndWorkersShareTheMemcachedTier() throws Exception {
        Path f = TestFiles.random(tmp, "obj", 6 * 512 * 1024, 11);
        byte[] data = Files.readAllBytes(f);
        try (MemcachedProcess m1 = new MemcachedProcess(); MemcachedProcess m2 = new MemcachedProcess()) {
            List<InetSocketAddress> servers = List.of(m1.address, m2.address);
            CountingOrigin origin = new CountingOrigin(new LocalDirectoryOrigin(tmp.resolve("origin")));
            ManifestId id;
            SimpleMeterRegistry reg1 = new SimpleMeterRegistry();
            try (ChunkStore w1 = new ChunkStore(ChunkStoreConfig.defaults(tmp.resolve("w1")).withMemcached(servers), origin,
                    keys, reg1)) {
                id = w1.ingest(f, Layer.RUNTIME, Owner.SHARED);
                try (ChunkedObjectReader r = w1.open(id, false)) {
                    assertThat(TestFiles.readAll(r)).isEqualTo(data);
                }
                assertThat(origin.chunkGets.get()).isEqualTo(6);
                assertThat(count(reg1, "misses", "memcached")).isEqualTo(6);
                assertThat(count(reg1, "hits", "origin")).isEqualTo(6);
                // a second reader on the same worker is served from memory: no new tier traffic below it
                try (ChunkedObjectReader r = w1.open(id, false)) {
                    assertThat(TestFiles.readAll(r)).isEqualTo(data);
                }
                assertThat(count(reg1, "hits", "memory")).isEqualTo(6);
                assertThat(origin.chunkGets.get()).isEqualTo(6);
                // chunks were spread over both servers by consistent hashing
                MemcachedTier mc = (MemcachedTier) w1.tiers().tiers().get(2);
                Set<InetSocketAddress> owners = new HashSet<>();
                w1.manifest(id).chunks().forEach(c -> owners.add(mc.serverFor(c.id())));
                assertThat(owners).hasSize(2);
            }
            // worker 2 has cold memory and disk: it is served by memcached, not the origin
            SimpleMeterRegistry reg2 = new SimpleMeterRegistry();
            try (ChunkStore w2 = new ChunkStore(ChunkStoreConfig.defaults(tmp.resolve("w2")).withMemcached(servers), origin,
                    keys, reg2); ChunkedObjectReader r = w2.open(id, false)) {
                assertThat(TestFiles.readAll(r)).isEqualTo(data);
                assertThat(count(reg2, "hits", "memcached")).isEqualTo(6);
                assertThat(count(reg2, "misses", "disk")).isEqualTo(6);
                assertThat(origin.chunkGets.get()).isEqualTo(6);
                DiskTier disk = (DiskTier) w2.tiers().tiers().get(1);
                w2.tiers().awaitFills(); // the disk copy is written in the background, after the read returned
                assertThat(disk.weightedSize()).isGreaterThan(6L * 512 * 1024); // filled on the way up
            }
            m1.close();
            // one memcached server gone: its chunks fall through to the origin, the rest still hit
            SimpleMeterRegistry reg3 = new SimpleMeterRegistry();
            try (ChunkStore w3 = new ChunkStore(ChunkStoreConfig.defaults(tmp.resolve("w3")).withMemcached(servers), origin,
                    keys, reg3); ChunkedObjectReader r = w3.open(id, false)) {
                assertThat(TestFiles.readAll(r)).isEqualTo(data);
                assertThat(count(reg3, "hits", "memcached") + count(reg3, "hits", "origin")).isEqualTo(6);
                assertThat(count(reg3, "hits", "origin")).isGreaterThan(0);
                assertThat(count(reg3, "hits", "memcached")).isGreaterThan(0);
            }
        }
    }

    @Test
    void diskTierIsBoundedAndResistsAOneOffScan() throws Exception {
        DiskTier disk = new DiskTier(tmp.resolve("d"), 10L * 1000);
        java.util.Random rnd = new java.util.Random(1);
        List<ChunkId> hot = new java.util.ArrayList<>();
        for (int i = 0; i < 5; i++) {
            byte[] b = new byte[1000];
            rnd.nextBytes(b);
            ChunkId id = ChunkId.ofCiphertext(b);
            disk.put(id, b);
            hot.add(id);
        }
        for (int round = 0; round < 5; round++) {
            hot.forEach(disk::get); // frequently used
        }
        for (int i = 0; i < 50; i++) { // a scan of cold chunks
            byte[] b = new byte[1000];
            rnd.nextBytes(b);
            disk.put(ChunkId.ofCiphertext(b), b);
        }
        assertThat(disk.weightedSize()).isLessThanOrEqualTo(10_000);
        long hotLeft = hot.stream().filter(h -> disk.get(h).isPresent()).count();
        assertThat(hotLeft).isGreaterThanOrEqualTo(4);
        try (var files = Files.walk(tmp.resolve("d"))) {
            assertThat(files.filter(Files::isRegularFile).count()).isLessThanOrEqualTo(10);
        }
    }

    @Test
    void concurrentMissesOfOneChunkTriggerOneOriginFetch() throws Exception {
        Path f = TestFiles.random(tmp, "obj", 2 * 512 * 1024, 12);
        CountingOrigin origin = new CountingOrigin(new LocalDirectoryOrigin(tmp.resolve("origin")));
        try (ChunkStore s = new ChunkStore(ChunkStoreConfig.defaults(tmp.resolve("c")), origin, keys, new SimpleMeterRegistry())) {
            ManifestId id = s.ingest(f, Layer.RUNTIME, Owner.SHARED);
            ChunkId c0 = s.manifest(id).chunks().getFirst().id();
            origin.delayMillis = 200; // keep the first fetch in flight while the others arrive
            int readers = 16;
            java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(readers);
            List<Thread> threads = new java.util.ArrayList<>();
            java.util.concurrent.ConcurrentLinkedQueue<Object> results = new java.util.concurrent.ConcurrentLinkedQueue<>();
            for (int i = 0; i < readers; i++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        start.await();
                        results.add(s.tiers().get(c0).orElseThrow());
                    } catch (Exception e) {
                        results.add(e);
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            assertThat(results).hasSize(readers).allMatch(o -> o instanceof byte[] b && c0.matches(b));
            assertThat(origin.chunkGets.get()).isEqualTo(1);
        }
    }
}

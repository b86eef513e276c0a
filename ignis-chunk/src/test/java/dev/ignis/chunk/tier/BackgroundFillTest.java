package dev.ignis.chunk.tier;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.chunk.ChunkId;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Filling the tiers above a hit: memory before the read returns, slow tiers in the background. */
class BackgroundFillTest {
    /** A slow cache tier (think: a file system) whose puts wait until the test opens the gate. */
    static final class GatedTier implements ChunkSource {
        final Map<ChunkId, byte[]> stored = new ConcurrentHashMap<>();
        final CountDownLatch gate = new CountDownLatch(1);

        @Override
        public String name() {
            return "gated";
        }

        @Override
        public Optional<byte[]> get(ChunkId id) {
            return Optional.ofNullable(stored.get(id));
        }

        @Override
        public void put(ChunkId id, byte[] ciphertext) {
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            stored.put(id, ciphertext);
        }

        @Override
        public void delete(ChunkId id) {
            stored.remove(id);
        }
    }

    private static byte[] chunk(long seed) {
        byte[] b = new byte[1024];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void aReadReturnsBeforeTheSlowTierIsWrittenAndTheMemoryTierIsFilledAtOnce() throws Exception {
        MemoryTier memory = new MemoryTier(1L << 20);
        GatedTier slow = new GatedTier();
        MemoryTier origin = new MemoryTier(1L << 20);
        byte[] b = chunk(1);
        ChunkId id = ChunkId.ofCiphertext(b);
        origin.put(id, b);
        try (TieredChunkSource tiers = new TieredChunkSource(List.of(memory, slow, origin), new SimpleMeterRegistry())) {
            Optional<byte[]> got = CompletableFuture.supplyAsync(() -> tiers.get(id)).get(10, TimeUnit.SECONDS);
            assertThat(got).hasValue(b);
            assertThat(memory.get(id)).hasValue(b); // cheap: filled before the read returned
            assertThat(slow.stored).isEmpty(); // its put is still waiting at the gate
            slow.gate.countDown();
            tiers.awaitFills();
            assertThat(slow.stored).containsEntry(id, b);
        }
    }

    @Test
    void whenTheFillQueueIsFullFillsAreDroppedAndCountedButReadsSucceed() throws Exception {
        GatedTier slow = new GatedTier();
        MemoryTier origin = new MemoryTier(1L << 30);
        List<ChunkId> ids = new ArrayList<>();
        int n = TieredChunkSource.FILL_QUEUE + 5; // one fill runs (blocked), FILL_QUEUE wait, the rest are dropped
        for (int i = 0; i < n; i++) {
            byte[] b = chunk(100 + i);
            ChunkId id = ChunkId.ofCiphertext(b);
            origin.put(id, b);
            ids.add(id);
        }
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (TieredChunkSource tiers = new TieredChunkSource(List.of(slow, origin), registry)) {
            for (ChunkId id : ids) {
                assertThat(tiers.get(id)).hasValueSatisfying(b -> assertThat(id.matches(b)).isTrue());
            }
            double dropped = registry.get("ignis.chunk.tier.fills.dropped").counter().count();
            assertThat(dropped).isBetween(1.0, 5.0);
            slow.gate.countDown();
            tiers.awaitFills();
            assertThat(slow.stored).hasSize(n - (int) dropped);
        }
    }

    @Test
    void closeFinishesQueuedFills() {
        GatedTier slow = new GatedTier();
        MemoryTier origin = new MemoryTier(1L << 20);
        byte[] b = chunk(2);
        ChunkId id = ChunkId.ofCiphertext(b);
        origin.put(id, b);
        TieredChunkSource tiers = new TieredChunkSource(List.of(slow, origin), new SimpleMeterRegistry());
        assertThat(tiers.get(id)).hasValue(b);
        slow.gate.countDown();
        tiers.close();
        assertThat(slow.stored).containsEntry(id, b);
    }

    @Test
    void onlyVerifiedBytesAreCopiedUpward() throws Exception {
        GatedTier slow = new GatedTier();
        slow.gate.countDown();
        MemoryTier corruptMiddle = new MemoryTier(1L << 20);
        MemoryTier origin = new MemoryTier(1L << 20);
        byte[] b = chunk(3);
        ChunkId id = ChunkId.ofCiphertext(b);
        byte[] bad = b.clone();
        bad[0] ^= 1;
        corruptMiddle.put(id, bad);
        origin.put(id, b);
        try (TieredChunkSource tiers = new TieredChunkSource(List.of(slow, corruptMiddle, origin), new SimpleMeterRegistry())) {
            assertThat(tiers.get(id)).hasValue(b);
            tiers.awaitFills();
            assertThat(slow.stored.get(id)).isEqualTo(b);
            assertThat(corruptMiddle.get(id)).hasValue(b); // dropped, then refilled from the origin's good copy
        }
    }
}

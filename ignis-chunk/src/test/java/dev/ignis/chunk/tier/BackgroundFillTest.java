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

    /** A bottom tier whose fetch of one chunk blocks until released (a slow origin GET in flight). */
    static final class BlockingBottom implements ChunkSource {
        final MemoryTier data = new MemoryTier(1L << 20);
        final CountDownLatch release = new CountDownLatch(1);
        volatile ChunkId blocked;

        @Override
        public String name() {
            return "bottom";
        }

        @Override
        public Optional<byte[]> get(ChunkId id) {
            if (id.equals(blocked)) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return data.get(id);
        }

        @Override
        public void put(ChunkId id, byte[] ciphertext) {
            data.put(id, ciphertext);
        }

        @Override
        public void delete(ChunkId id) {
            data.delete(id);
        }
    }

    @Test
    void aFillWaitsWhileAnotherFetchIsInFlightButNotPastItsDeadline() throws Exception {
        GatedTier upper = new GatedTier();
        upper.gate.countDown();
        BlockingBottom bottom = new BlockingBottom();
        byte[] a = chunk(10);
        byte[] b = chunk(11);
        ChunkId idA = ChunkId.ofCiphertext(a);
        ChunkId idB = ChunkId.ofCiphertext(b);
        bottom.put(idA, a);
        bottom.put(idB, b);
        bottom.blocked = idB;
        try (TieredChunkSource tiers = new TieredChunkSource(List.of(upper, bottom), new SimpleMeterRegistry());
             var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            CompletableFuture<Optional<byte[]>> slowFetch = CompletableFuture.supplyAsync(() -> tiers.get(idB), threads);
            while (bottom.blocked != null && tiers.inFlight() == 0) {
                Thread.onSpinWait(); // until B's fetch is in flight
            }
            assertThat(tiers.get(idA)).hasValue(a);
            Thread.sleep(TimeUnit.NANOSECONDS.toMillis(TieredChunkSource.FILL_DEFER_NANOS) / 5);
            assertThat(upper.stored).doesNotContainKey(idA); // held back: B is still being fetched
            // B is still in flight (and stays so): A's fill goes ahead at its deadline instead of waiting for B
            CompletableFuture.runAsync(() -> {
                try {
                    tiers.awaitFills();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, threads).get(10, TimeUnit.SECONDS);
            assertThat(upper.stored).containsEntry(idA, a);
            bottom.release.countDown();
            assertThat(slowFetch.get(10, TimeUnit.SECONDS)).hasValue(b);
            tiers.awaitFills();
            assertThat(upper.stored).containsEntry(idB, b);
        }
    }
}

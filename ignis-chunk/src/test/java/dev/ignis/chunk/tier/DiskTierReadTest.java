package dev.ignis.chunk.tier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.chunk.ChunkId;
import dev.ignis.chunk.ChunkIntegrityException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The disk tier's read path: kept-open channels and pooled buffers must never mix up or go stale. */
class DiskTierReadTest {
    @TempDir
    Path tmp;

    private static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void readsReturnEachChunkExactlyWhateverSizeTheBufferBeforeHad() {
        DiskTier disk = new DiskTier(tmp.resolve("d"), 1L << 30);
        int[] sizes = {1000, 512 * 1024 + 16, 7, 300 * 1024, 512 * 1024 + 33, 64 * 1024};
        List<ChunkId> ids = new ArrayList<>();
        List<byte[]> contents = new ArrayList<>();
        for (int i = 0; i < sizes.length; i++) {
            byte[] b = random(sizes[i], i);
            ChunkId id = ChunkId.ofCiphertext(b);
            disk.put(id, b);
            ids.add(id);
            contents.add(b);
        }
        for (int round = 0; round < 3; round++) { // small, large, small again: a reused buffer must not leak bytes
            for (int i = 0; i < ids.size(); i++) {
                byte[] expected = contents.get(i);
                assertThat(disk.get(ids.get(i))).hasValueSatisfying(b -> assertThat(b).isEqualTo(expected));
            }
        }
        assertThat(disk.pooledBuffers()).isBetween(1, Runtime.getRuntime().availableProcessors() * 4);
    }

    @Test
    void concurrentReadersOnVirtualThreadsEachGetTheirOwnChunk() throws Exception {
        DiskTier disk = new DiskTier(tmp.resolve("d"), 1L << 30);
        List<ChunkId> ids = new ArrayList<>();
        List<byte[]> contents = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            byte[] b = random(128 * 1024 + i, 100 + i);
            ChunkId id = ChunkId.ofCiphertext(b);
            disk.put(id, b);
            ids.add(id);
            contents.add(b);
        }
        ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 48; t++) {
            int first = t;
            threads.add(Thread.ofVirtual().start(() -> {
                for (int k = 0; k < 50; k++) {
                    int i = (first + k) % ids.size();
                    Optional<byte[]> got = disk.get(ids.get(i));
                    if (got.isEmpty() || !java.util.Arrays.equals(got.get(), contents.get(i))) {
                        wrong.add("chunk " + i);
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(wrong).isEmpty();
    }

    @Test
    void aReplacedFileIsReadThroughItsNewInodeNotTheCachedChannel() {
        DiskTier disk = new DiskTier(tmp.resolve("d"), 1L << 30);
        byte[] good = random(4096, 1);
        ChunkId id = ChunkId.ofCiphertext(good);
        byte[] bad = good.clone();
        bad[100] ^= 1;
        disk.put(id, bad); // e.g. a copy that later failed its name check
        assertThat(disk.get(id)).hasValueSatisfying(b -> assertThat(b).isEqualTo(bad)); // channel now open
        disk.put(id, good); // rename replaces the inode
        assertThat(disk.get(id)).hasValueSatisfying(b -> assertThat(b).isEqualTo(good));
    }

    @Test
    void deleteClosesTheChannelAndOpenChannelsStayBounded() {
        DiskTier disk = new DiskTier(tmp.resolve("d"), 1L << 30);
        List<ChunkId> ids = new ArrayList<>();
        for (int i = 0; i < DiskTier.OPEN_FILES + 40; i++) {
            byte[] b = random(256, 1000 + i);
            ChunkId id = ChunkId.ofCiphertext(b);
            disk.put(id, b);
            ids.add(id);
            assertThat(disk.get(id)).isPresent();
        }
        assertThat(disk.openFiles()).isLessThanOrEqualTo(DiskTier.OPEN_FILES);
        ChunkId last = ids.getLast();
        disk.delete(last);
        assertThat(disk.get(last)).isEmpty();
        assertThat(Files.exists(disk.pathOf(last))).isFalse();
        disk.close();
        assertThat(disk.openFiles()).isZero();
    }

    @Test
    void aTruncatedFileIsAMissAndIsRemoved() throws Exception {
        DiskTier disk = new DiskTier(tmp.resolve("d"), 1L << 30);
        byte[] b = random(10_000, 2);
        ChunkId id = ChunkId.ofCiphertext(b);
        disk.put(id, b);
        assertThat(disk.get(id)).isPresent();
        Files.write(disk.pathOf(id), java.util.Arrays.copyOf(b, 5000)); // same inode, now short
        assertThat(disk.get(id)).isEmpty();
        assertThat(Files.exists(disk.pathOf(id))).isFalse();
    }

    @Test
    void aChannelClosedByAnotherThreadsInterruptIsReopenedForTheNextReader() throws Exception {
        DiskTier disk = new DiskTier(tmp.resolve("d"), 1L << 30);
        byte[] b = random(64 * 1024, 3);
        ChunkId id = ChunkId.ofCiphertext(b);
        disk.put(id, b);
        assertThat(disk.get(id)).isPresent(); // the channel is cached now
        AtomicReference<Optional<byte[]>> interrupted = new AtomicReference<>();
        Thread t = Thread.ofPlatform().unstarted(() -> {
            Thread.currentThread().interrupt(); // the read closes the shared channel (ClosedByInterruptException)
            interrupted.set(disk.get(id));
        });
        t.start();
        t.join();
        assertThat(interrupted.get()).isEmpty(); // an interrupted reader just misses
        assertThat(disk.get(id)).hasValueSatisfying(r -> assertThat(r).isEqualTo(b));
    }

    @Test
    void aBitFlippedInAnOpenChunkFileIsNeverServed() throws Exception {
        byte[] good = random(512 * 1024 + 16, 4);
        ChunkId id = ChunkId.ofCiphertext(good);
        DiskTier disk = new DiskTier(tmp.resolve("d"), 1L << 30);
        MemoryTier below = new MemoryTier(1L << 30); // stands in for the origin: holds the good copy
        below.put(id, good);
        disk.put(id, good);
        assertThat(disk.get(id)).isPresent(); // channel open, buffer pooled
        byte[] flipped = good.clone();
        flipped[1234] ^= 0x10;
        Files.write(disk.pathOf(id), flipped); // altered in place, under the open channel
        try (TieredChunkSource tiers = new TieredChunkSource(List.of(disk, below), new SimpleMeterRegistry())) {
            assertThat(tiers.get(id)).hasValueSatisfying(r -> assertThat(r).isEqualTo(good)); // fell through
            tiers.awaitFills();
            assertThat(disk.get(id)).hasValueSatisfying(r -> assertThat(r).isEqualTo(good)); // healed
            Files.write(disk.pathOf(id), flipped);
            below.delete(id);
            assertThatThrownBy(() -> tiers.get(id)).isInstanceOf(ChunkIntegrityException.class);
            assertThat(disk.get(id)).isEmpty(); // the corrupt copy was dropped
        }
    }
}

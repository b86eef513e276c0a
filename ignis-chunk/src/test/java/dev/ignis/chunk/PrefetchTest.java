package dev.ignis.chunk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.chunk.crypto.DeploymentKeys;
import dev.ignis.chunk.origin.LocalDirectoryOrigin;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrefetchTest {
    @TempDir
    Path tmp;

    @Test
    void firstConsumerRecordsTheLogAndTheNextPrefetchesExactlyThoseChunksInOrder() throws Exception {
        Path f = TestFiles.random(tmp, "snapshot", 16 * 64 * 1024, 31);
        DeploymentKeys keys = DeploymentKeys.random();
        CountingOrigin origin = new CountingOrigin(new LocalDirectoryOrigin(tmp.resolve("origin")));
        ManifestId id;
        List<Integer> touch = List.of(9, 2, 14, 2, 5, 9, 0, 11);
        List<Integer> firstTouch = List.of(9, 2, 14, 5, 0, 11);
        try (ChunkStore w1 = new ChunkStore(ChunkStoreConfig.defaults(tmp.resolve("w1")).withChunkSize(64 * 1024), origin, keys,
                new SimpleMeterRegistry())) {
            id = w1.ingest(f, Layer.RUNTIME, Owner.SHARED);
            try (ChunkedObjectReader r = w1.open(id)) {
                for (int c : touch) {
                    r.read(c * 64L * 1024 + 100, new byte[4096], 0, 4096);
                }
                assertThat(r.accessLog().chunkOrder()).isEqualTo(firstTouch);
            }
            assertThat(w1.accessLog(id)).map(PageAccessLog::chunkOrder).contains(firstTouch);
            assertThat(w1.stat(id).hasAccessLog()).isTrue();
        }
        Manifest m;
        origin.chunkGetOrder.clear();
        try (ChunkStore w2 = new ChunkStore(ChunkStoreConfig.defaults(tmp.resolve("w2")).withChunkSize(64 * 1024)
                .withPrefetchParallelism(1), origin, keys,
                new SimpleMeterRegistry()); ChunkedObjectReader r = w2.open(id)) {
            m = w2.manifest(id);
            r.awaitPrefetch();
            List<String> expected = firstTouch.stream().map(i -> m.chunks().get(i).id().hex()).toList();
            assertThat(origin.chunkGetOrder).isEqualTo(expected);
            // demand reads of prefetched chunks now cost no origin traffic
            int before = origin.chunkGets.get();
            for (int c : firstTouch) {
                r.read(c * 64L * 1024, new byte[10], 0, 10);
            }
            assertThat(origin.chunkGets.get()).isEqualTo(before);
        }
    }
}

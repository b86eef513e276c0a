package dev.ignis.chunk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.chunk.crypto.DeploymentKeys;
import dev.ignis.chunk.gc.IngestLeases;
import dev.ignis.chunk.origin.LocalDirectoryOrigin;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GcTest {
    @TempDir
    Path tmp;

    private ChunkStore store(Duration grace) {
        return new ChunkStore(ChunkStoreConfig.defaults(tmp.resolve("cache")).withChunkSize(64 * 1024).withGcGrace(grace),
                new LocalDirectoryOrigin(tmp.resolve("origin")), DeploymentKeys.random(), new SimpleMeterRegistry());
    }

    private static Set<ChunkId> chunksOf(ChunkStore s, ManifestId m) {
        Set<ChunkId> out = new HashSet<>();
        s.manifest(m).chunks().stream().filter(c -> !c.isZero()).forEach(c -> out.add(c.id()));
        return out;
    }

    private static Set<ChunkId> stored(ChunkStore s) {
        Set<ChunkId> out = new HashSet<>();
        s.origin().list("chunks/").forEach(e -> out.add(new ChunkId(e.key().substring(7))));
        return out;
    }

    @Test
    void keepsEverythingReachableAndRemovesTheRest() throws Exception {
        byte[] shared = new byte[5 * 64 * 1024];
        new java.util.Random(1).nextBytes(shared);
        byte[] tailA = new byte[3 * 64 * 1024];
        new java.util.Random(2).nextBytes(tailA);
        byte[] tailB = new byte[2 * 64 * 1024];
        new java.util.Random(3).nextBytes(tailB);
        Path a = Files.write(tmp.resolve("a"), concat(shared, tailA));
        Path b = Files.write(tmp.resolve("b"), concat(shared, tailB));
        try (ChunkStore s = store(Duration.ZERO)) {
            ManifestId ma = s.ingest(a, Layer.RUNTIME, Owner.SHARED);
            ManifestId mb = s.ingest(b, Layer.RUNTIME, Owner.SHARED);
            ManifestId mf = s.ingest(a, Layer.FUNCTION, Owner.ofArn("arn:aws:lambda:us-east-1:111111111111:function:f"));
            try (ChunkedObjectReader r = s.open(ma)) {
                r.read(0, new byte[10], 0, 10); // leaves a page access log beside manifest a
            }
            assertThat(stored(s)).hasSize(5 + 3 + 2 + 8);
            GcReport nothing = s.gc();
            assertThat(nothing.deletedChunks()).isZero();
            assertThat(nothing.roots()).isEqualTo(3);

            s.origin().delete("manifests/" + ma.hex());
            s.origin().delete("manifests/" + mf.hex());
            GcReport gc = s.gc();
            assertThat(gc.roots()).isEqualTo(1);
            assertThat(gc.deletedChunks()).isEqualTo(3 + 8);
            assertThat(gc.deletedLogs()).isEqualTo(1);
            assertThat(stored(s)).isEqualTo(chunksOf(s, mb));
            try (ChunkedObjectReader r = s.open(mb, false)) {
                assertThat(TestFiles.readAll(r)).isEqualTo(Files.readAllBytes(b));
            }
        }
    }

    @Test
    void graceAndLeasesProtectChunksOfInFlightIngests() throws Exception {
        try (ChunkStore s = store(Duration.ofHours(1))) {
            Path a = TestFiles.random(tmp, "a", 4 * 64 * 1024, 9);
            ManifestId ma = s.ingest(a, Layer.OS, Owner.SHARED);
            s.origin().delete("manifests/" + ma.hex());
            GcReport gc = s.gc();
            assertThat(gc.deletedChunks()).isZero();
            assertThat(gc.protectedChunks()).isEqualTo(4); // younger than the grace period
        }
        IngestLeases leases = new IngestLeases();
        ChunkId x = ChunkId.ofCiphertext(new byte[] {1});
        IngestLeases.Lease lease = leases.open();
        lease.protect(x);
        long t1 = leases.beginGc();
        assertThat(leases.deleteUnlessProtected(t1, x, () -> { })).isFalse(); // open lease
        lease.close();
        assertThat(leases.deleteUnlessProtected(t1, x, () -> { })).isFalse(); // closed after this GC began
        leases.endGc(t1);
        long t2 = leases.beginGc();
        assertThat(leases.deleteUnlessProtected(t2, x, () -> { })).isTrue(); // its manifest was visible to GC 2
        leases.endGc(t2);
        assertThat(leases.registered()).isZero();
    }

    @Test
    void concurrentIngestAndGcNeverLoseAReachableChunk() throws Exception {
        try (ChunkStore s = store(Duration.ZERO)) {
            // every ingest re-uses the same shared prefix, so dedupe skips uploads of chunks GC may target
            byte[] prefix = new byte[4 * 64 * 1024];
            new java.util.Random(5).nextBytes(prefix);
            AtomicBoolean stop = new AtomicBoolean();
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            Thread collector = Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    try {
                        s.gc();
                    } catch (Throwable t) {
                        errors.add(t);
                    }
                }
            });
            List<ManifestId> made = new java.util.ArrayList<>();
            for (int i = 0; i < 25; i++) {
                byte[] tail = new byte[64 * 1024];
                new java.util.Random(100 + i).nextBytes(tail);
                Path f = Files.write(tmp.resolve("f" + i), concat(prefix, tail));
                ManifestId m = s.ingest(f, Layer.RUNTIME, Owner.SHARED);
                made.add(m);
                if (i % 2 == 0) {
                    s.origin().delete("manifests/" + m.hex()); // garbage for the collector
                }
            }
            stop.set(true);
            collector.join();
            assertThat(errors).isEmpty();
            s.gc();
            for (int i = 1; i < made.size(); i += 2) {
                for (ChunkId c : chunksOf(s, made.get(i))) {
                    assertThat(s.origin().exists("chunks/" + c.hex())).as("chunk of live manifest %d", i).isTrue();
                }
            }
            // only the live manifests' chunks remain: the shared prefix plus one tail each
            assertThat(stored(s)).hasSize(4 + 12);
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}

package dev.ignis.chunk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.chunk.crypto.DeploymentKeys;
import dev.ignis.chunk.origin.LocalDirectoryOrigin;
import dev.ignis.chunk.tier.DiskTier;
import dev.ignis.chunk.tier.OriginTier;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

class TamperTest {
    @TempDir
    Path tmp;

    private final DeploymentKeys keys = DeploymentKeys.random();

    private ChunkStore freshWorker(String cache) {
        return new ChunkStore(ChunkStoreConfig.defaults(tmp.resolve(cache)), new LocalDirectoryOrigin(tmp.resolve("origin")),
                keys, new SimpleMeterRegistry());
    }

    private static Owner owner(Layer l) {
        return l == Layer.FUNCTION ? Owner.ofArn("arn:aws:lambda:us-east-1:111111111111:function:f") : Owner.SHARED;
    }

    private static void flipBit(Path p, int offset) throws Exception {
        byte[] b = Files.readAllBytes(p);
        b[offset] ^= 0x10;
        Files.write(p, b);
    }

    @ParameterizedTest
    @EnumSource(value = Layer.class, names = {"RUNTIME", "FUNCTION"})
    void flippedBitInOriginChunkIsRefused(Layer layer) throws Exception {
        Path f = TestFiles.random(tmp, "obj", 3 * 512 * 1024, 5);
        ManifestId id;
        ChunkId victim;
        try (ChunkStore s = freshWorker("c0")) {
            id = s.ingest(f, layer, owner(layer));
            victim = s.manifest(id).chunks().get(1).id();
        }
        LocalDirectoryOrigin origin = new LocalDirectoryOrigin(tmp.resolve("origin"));
        flipBit(origin.pathOf(OriginTier.key(victim)), 1000);
        try (ChunkStore s = freshWorker("c1"); ChunkedObjectReader r = s.open(id)) {
            byte[] buf = new byte[100];
            assertThat(r.read(0, buf, 0, 100)).isEqualTo(100); // chunk 0 is intact
            assertThatThrownBy(() -> r.read(512 * 1024 + 5, buf, 0, 100)).isInstanceOf(ChunkIntegrityException.class)
                    .hasMessageContaining("failed authentication").hasMessageContaining(victim.hex());
        }
    }

    @ParameterizedTest
    @EnumSource(value = Layer.class, names = {"RUNTIME", "FUNCTION"})
    void swappedChunkIsRefused(Layer layer) throws Exception {
        Path f = TestFiles.random(tmp, "obj", 3 * 512 * 1024, 6);
        ManifestId id;
        Manifest m;
        try (ChunkStore s = freshWorker("c0")) {
            id = s.ingest(f, layer, owner(layer));
            m = s.manifest(id);
        }
        LocalDirectoryOrigin origin = new LocalDirectoryOrigin(tmp.resolve("origin"));
        // put chunk 2's (valid, authentic) ciphertext where chunk 1 should be
        Files.copy(origin.pathOf(OriginTier.key(m.chunks().get(2).id())), origin.pathOf(OriginTier.key(m.chunks().get(1).id())),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        try (ChunkStore s = freshWorker("c1"); ChunkedObjectReader r = s.open(id)) {
            assertThatThrownBy(() -> r.read(512 * 1024, new byte[10], 0, 10)).isInstanceOf(ChunkIntegrityException.class)
                    .hasMessageContaining("swapped");
        }
    }

    @ParameterizedTest
    @EnumSource(value = Layer.class, names = {"RUNTIME", "FUNCTION"})
    void reorderedOrForgedManifestIsRefused(Layer layer) throws Exception {
        Path f = TestFiles.random(tmp, "obj", 2 * 512 * 1024, 7);
        ManifestId id;
        try (ChunkStore s = freshWorker("c0")) {
            id = s.ingest(f, layer, owner(layer));
        }
        LocalDirectoryOrigin origin = new LocalDirectoryOrigin(tmp.resolve("origin"));
        Path mf = origin.pathOf("manifests/" + id.hex());
        flipBit(mf, 60);
        try (ChunkStore s = freshWorker("c1")) {
            assertThatThrownBy(() -> s.open(id)).isInstanceOf(ChunkIntegrityException.class);
        }
    }

    @org.junit.jupiter.api.Test
    void corruptCacheCopyIsDroppedAndReadFromTheOrigin() throws Exception {
        Path f = TestFiles.random(tmp, "obj", 2 * 512 * 1024, 8);
        byte[] data = Files.readAllBytes(f);
        ManifestId id;
        ChunkId c0;
        try (ChunkStore s = freshWorker("c0")) {
            id = s.ingest(f, Layer.OS, Owner.SHARED);
            c0 = s.manifest(id).chunks().getFirst().id();
            try (ChunkedObjectReader r = s.open(id)) {
                TestFiles.readAll(r); // fills the disk tier
            }
        }
        DiskTier disk = new DiskTier(tmp.resolve("c0"), 1L << 30);
        flipBit(disk.pathOf(c0), 10);
        try (ChunkStore s = freshWorker("c0"); ChunkedObjectReader r = s.open(id, false)) {
            assertThat(TestFiles.readAll(r)).isEqualTo(data);
            s.tiers().awaitFills();
            assertThat(s.tiers().tiers().get(1).get(c0).map(c0::matches)).contains(true); // healed
        }
    }
}

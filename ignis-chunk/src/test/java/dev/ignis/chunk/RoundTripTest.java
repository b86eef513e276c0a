package dev.ignis.chunk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.chunk.crypto.DeploymentKeys;
import dev.ignis.chunk.origin.LocalDirectoryOrigin;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RoundTripTest {
    @TempDir
    Path tmp;

    private ChunkStore store(Path cache, DeploymentKeys keys, int chunkSize) {
        return new ChunkStore(ChunkStoreConfig.defaults(cache).withChunkSize(chunkSize),
                new LocalDirectoryOrigin(tmp.resolve("origin")), keys, new SimpleMeterRegistry());
    }

    @Test
    void randomFileWithZeroRegionRoundTripsAndZeroChunksAreNotStored() throws Exception {
        int cs = 64 * 1024;
        byte[] data = new byte[10 * cs + 12345];
        new Random(7).nextBytes(data);
        java.util.Arrays.fill(data, 2 * cs, 5 * cs, (byte) 0); // chunks 2..4 all zero
        Path f = Files.write(tmp.resolve("obj"), data);
        DeploymentKeys keys = DeploymentKeys.random();
        try (ChunkStore s = store(tmp.resolve("c1"), keys, cs)) {
            IngestReport r = s.ingestWithReport(f, Layer.RUNTIME, Owner.SHARED);
            assertThat(r.chunks()).isEqualTo(11);
            assertThat(r.zeroChunks()).isEqualTo(3);
            assertThat(r.newChunks()).isEqualTo(8);
            assertThat(s.origin().list("chunks/")).hasSize(8);
            ManifestStat st = s.stat(r.manifestId());
            assertThat(st.size()).isEqualTo(data.length);
            assertThat(st.zeroChunks()).isEqualTo(3);
            try (ChunkedObjectReader reader = s.open(r.manifestId())) {
                assertThat(TestFiles.readAll(reader)).isEqualTo(data);
                // unaligned reads across chunk boundaries
                Random rnd = new Random(3);
                for (int i = 0; i < 200; i++) {
                    int pos = rnd.nextInt(data.length);
                    int len = Math.min(rnd.nextInt(3 * cs), data.length - pos);
                    byte[] got = new byte[len];
                    assertThat(reader.read(pos, got, 0, len)).isEqualTo(len);
                    assertThat(got).isEqualTo(java.util.Arrays.copyOfRange(data, pos, pos + len));
                }
                assertThat(reader.read(data.length, new byte[1], 0, 1)).isEqualTo(-1);
            }
        }
        // a second worker with cold caches and the same deployment reads the same bytes
        try (ChunkStore s2 = store(tmp.resolve("c2"), keys, cs);
             ChunkedObjectReader reader = s2.open(s2.manifests().getFirst())) {
            assertThat(TestFiles.readAll(reader)).isEqualTo(data);
        }
    }

    @Test
    void realJdkFileRoundTripsAsFunctionAndRuntimeLayer() throws Exception {
        Path real = Path.of(System.getProperty("java.home"), "lib", "libjava.so");
        byte[] data = Files.readAllBytes(real);
        try (ChunkStore s = store(tmp.resolve("c"), DeploymentKeys.random(), ChunkStoreConfig.DEFAULT_CHUNK_SIZE)) {
            for (Layer layer : Layer.values()) {
                Owner owner = layer == Layer.FUNCTION ? Owner.ofArn("arn:aws:lambda:us-east-1:111122223333:function:f")
                        : Owner.SHARED;
                ManifestId id = s.ingest(real, layer, owner);
                try (ChunkedObjectReader r = s.open(id)) {
                    assertThat(TestFiles.readAll(r)).isEqualTo(data);
                }
            }
        }
    }

    @Test
    void emptyFileAndBadInputs() throws Exception {
        Path empty = Files.createFile(tmp.resolve("empty"));
        try (ChunkStore s = store(tmp.resolve("c"), DeploymentKeys.random(), 4096)) {
            ManifestId id = s.ingest(empty, Layer.OS, Owner.SHARED);
            try (ChunkedObjectReader r = s.open(id)) {
                assertThat(r.size()).isZero();
                assertThat(r.read(0, new byte[4], 0, 4)).isEqualTo(-1);
            }
            assertThatThrownBy(() -> s.ingest(tmp.resolve("missing"), Layer.OS, Owner.SHARED))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a regular file");
            assertThatThrownBy(() -> s.ingest(empty, Layer.FUNCTION, Owner.SHARED))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("owning account");
            int before = s.manifests().size();
            assertThat(s.manifests()).hasSize(before);
        }
        assertThatThrownBy(() -> Owner.ofArn("arn:aws:s3:::bucket")).hasMessageContaining("not a function ARN");
        assertThatThrownBy(() -> Layer.parse("kernel")).hasMessageContaining("use os, runtime or function");
        assertThatThrownBy(() -> ChunkStoreConfig.defaults(tmp).withChunkSize(1000)).hasMessageContaining("power of two");
    }

    @Test
    void embeddedStoreKeepsItsDeploymentKeyAcrossRestarts() throws Exception {
        Path f = TestFiles.random(tmp, "obj", 1_000_000, 77);
        ManifestId id;
        try (ChunkStore s = ChunkStore.embedded(tmp.resolve("root"))) {
            id = s.ingest(f, Layer.FUNCTION, Owner.ofArn("arn:aws:lambda:us-east-1:111111111111:function:f"));
        }
        assertThat(java.nio.file.Files.getPosixFilePermissions(tmp.resolve("root/keys/deployment.key")))
                .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                        java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
        try (ChunkStore s = ChunkStore.embedded(tmp.resolve("root")); ChunkedObjectReader r = s.open(id)) {
            assertThat(TestFiles.readAll(r)).isEqualTo(Files.readAllBytes(f));
        }
    }

    @Test
    void equalChunksInARowAreStoredOnceAndReadBack() throws Exception {
        int cs = 4096;
        byte[] page = new byte[cs];
        java.util.Arrays.fill(page, (byte) 0xff); // e.g. a run of identical non-zero pages
        byte[] data = new byte[4 * cs];
        new Random(8).nextBytes(data);
        System.arraycopy(page, 0, data, cs, cs);
        System.arraycopy(page, 0, data, 2 * cs, cs);
        Path f = Files.write(tmp.resolve("dup"), data);
        try (ChunkStore s = store(tmp.resolve("c"), DeploymentKeys.random(), cs)) {
            IngestReport r = s.ingestWithReport(f, Layer.OS, Owner.SHARED);
            assertThat(r.newChunks()).isEqualTo(3);
            assertThat(r.dedupedChunks()).isEqualTo(1);
            IngestReport again = s.ingestWithReport(f, Layer.OS, Owner.SHARED);
            assertThat(again.newChunks()).isZero();
            try (ChunkedObjectReader reader = s.open(r.manifestId())) {
                assertThat(TestFiles.readAll(reader)).isEqualTo(data);
            }
        }
    }
}

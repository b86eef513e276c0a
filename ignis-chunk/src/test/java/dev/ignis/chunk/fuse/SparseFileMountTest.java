package dev.ignis.chunk.fuse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.chunk.ChunkStore;
import dev.ignis.chunk.ChunkStoreConfig;
import dev.ignis.chunk.ChunkedObjectReader;
import dev.ignis.chunk.Layer;
import dev.ignis.chunk.ManifestId;
import dev.ignis.chunk.Owner;
import dev.ignis.chunk.crypto.DeploymentKeys;
import dev.ignis.chunk.origin.LocalDirectoryOrigin;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SparseFileMountTest {
    @TempDir
    Path tmp;

    @Test
    void perConsumerFilesServeThePlaintextOnDemand() throws Exception {
        byte[] data = new byte[3 * 512 * 1024 + 4000];
        new Random(4).nextBytes(data);
        Path f = Files.write(tmp.resolve("img"), data);
        Path mnt = Files.createDirectories(tmp.resolve("mnt"));
        try (ChunkStore s = new ChunkStore(ChunkStoreConfig.defaults(tmp.resolve("c")), new LocalDirectoryOrigin(tmp.resolve("o")),
                DeploymentKeys.random(), new SimpleMeterRegistry())) {
            ManifestId id = s.ingest(f, Layer.RUNTIME, Owner.SHARED);
            try (SparseFileMount m = SparseFileMount.mount(mnt, 0)) {
                ChunkedObjectReader ra = s.open(id, false);
                Path a = m.expose("sandbox-a", ra);
                Path b = m.expose("sandbox-b", s.open(id, false));
                assertThat(Files.size(a)).isEqualTo(data.length);
                byte[] fromB = Files.readAllBytes(b);
                assertThat(fromB).isEqualTo(data);
                try (var ch = java.nio.channels.FileChannel.open(a)) {
                    java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(100);
                    ch.read(buf, 512 * 1024 + 10);
                    assertThat(buf.array()).isEqualTo(java.util.Arrays.copyOfRange(data, 512 * 1024 + 10, 512 * 1024 + 110));
                }
                assertThat(ra.accessLog().chunkOrder()).containsExactly(1); // only the touched chunk was fetched
                try (var list = Files.list(mnt)) {
                    assertThat(list.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("sandbox-a", "sandbox-b");
                }
            }
        }
    }
}

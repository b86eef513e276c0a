package dev.ignis.chunk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.chunk.crypto.DeploymentKeys;
import dev.ignis.chunk.origin.LocalDirectoryOrigin;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DedupAndIsolationTest {
    @TempDir
    Path tmp;

    private ChunkStore store(DeploymentKeys keys) {
        return new ChunkStore(ChunkStoreConfig.defaults(tmp.resolve("cache")), new LocalDirectoryOrigin(tmp.resolve("origin")),
                keys, new SimpleMeterRegistry());
    }

    private static Set<ChunkId> ids(ChunkStore s, ManifestId m) {
        Set<ChunkId> out = new HashSet<>();
        s.manifest(m).chunks().stream().filter(c -> !c.isZero()).forEach(c -> out.add(c.id()));
        return out;
    }

    @Test
    void runtimeLayersSharingJdkContentDedupe() throws Exception {
        // two deterministic tars of overlapping JDK subsets; the shared part comes first in both
        Path jdk = Path.of(System.getProperty("java.home"));
        Path a = TestFiles.deterministicTar(tmp.resolve("a.tar"), jdk, List.of("lib/server/libjvm.so", "lib/libjava.so"));
        Path b = TestFiles.deterministicTar(tmp.resolve("b.tar"), jdk, List.of("lib/server/libjvm.so", "lib/libnet.so"));
        try (ChunkStore s = store(DeploymentKeys.random())) {
            IngestReport ra = s.ingestWithReport(a, Layer.RUNTIME, Owner.SHARED);
            IngestReport rb = s.ingestWithReport(b, Layer.RUNTIME, Owner.SHARED);
            long serverBytes;
            try (var files = Files.walk(jdk.resolve("lib/server/libjvm.so"))) {
                serverBytes = files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
            }
            long sharedChunks = serverBytes / ChunkStoreConfig.DEFAULT_CHUNK_SIZE - 1;
            assertThat(rb.dedupedChunks()).as("chunks of b already stored by a").isGreaterThanOrEqualTo((int) sharedChunks);
            Set<ChunkId> common = ids(s, ra.manifestId());
            common.retainAll(ids(s, rb.manifestId()));
            assertThat(common).hasSizeGreaterThanOrEqualTo((int) sharedChunks);
            try (ChunkedObjectReader r = s.open(rb.manifestId())) {
                assertThat(TestFiles.readAll(r)).isEqualTo(Files.readAllBytes(b));
            }
        }
    }

    @Test
    void identicalFunctionLayersOfTwoAccountsShareNothing() throws Exception {
        Path code = TestFiles.random(tmp, "code.zip", 3 * 512 * 1024 + 100, 42);
        try (ChunkStore s = store(DeploymentKeys.random())) {
            ManifestId m1 = s.ingest(code, Layer.FUNCTION, Owner.ofArn("arn:aws:lambda:us-east-1:111111111111:function:f"));
            ManifestId m2 = s.ingest(code, Layer.FUNCTION, Owner.ofArn("arn:aws:lambda:us-east-1:222222222222:function:f"));
            Set<ChunkId> shared = ids(s, m1);
            shared.retainAll(ids(s, m2));
            assertThat(shared).isEmpty();
            assertThat(s.origin().list("chunks/")).hasSize(8);
            // the same content as a runtime layer, ingested twice, is stored once
            IngestReport r1 = s.ingestWithReport(code, Layer.RUNTIME, Owner.SHARED);
            IngestReport r2 = s.ingestWithReport(code, Layer.RUNTIME, Owner.SHARED);
            assertThat(r1.newChunks()).isEqualTo(4);
            assertThat(r2.newChunks()).isZero();
            assertThat(r2.dedupedChunks()).isEqualTo(4);
            for (ManifestId m : List.of(m1, m2, r2.manifestId())) {
                try (ChunkedObjectReader r = s.open(m)) {
                    assertThat(TestFiles.readAll(r)).isEqualTo(Files.readAllBytes(code));
                }
            }
        }
    }

    @Test
    void anotherDeploymentCannotReadOrForge() throws Exception {
        Path code = TestFiles.random(tmp, "code.zip", 700_000, 1);
        ManifestId id;
        try (ChunkStore s = store(DeploymentKeys.random())) {
            id = s.ingest(code, Layer.FUNCTION, Owner.ofArn("arn:aws:lambda:us-east-1:111111111111:function:f"));
        }
        try (ChunkStore other = store(DeploymentKeys.random())) {
            assertThatThrownBy(() -> other.open(id)).isInstanceOf(ChunkIntegrityException.class)
                    .hasMessageContaining("failed authentication");
        }
    }
}

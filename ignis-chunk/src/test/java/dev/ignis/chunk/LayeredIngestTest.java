package dev.ignis.chunk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.chunk.crypto.DeploymentKeys;
import dev.ignis.chunk.origin.LocalDirectoryOrigin;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The talk's snapshot layers: a function snapshot's chunks that equal a chunk of its runtime (or OS) layer
 * are that layer's chunk, stored once for every function of the runtime; the rest are the function's own,
 * under its own data key, shared with nobody.
 */
class LayeredIngestTest {
    static final int CHUNK = ChunkStoreConfig.DEFAULT_CHUNK_SIZE;

    @TempDir Path tmp;

    private ChunkStore store() {
        return new ChunkStore(ChunkStoreConfig.defaults(tmp.resolve("cache")), new LocalDirectoryOrigin(tmp.resolve("origin")),
                DeploymentKeys.random(), new SimpleMeterRegistry());
    }

    /** A "runtime snapshot": 40 chunks of random bytes (a booted runtime's memory). */
    private byte[] runtimeImage() {
        final byte[] image = new byte[40 * CHUNK];
        new Random(7).nextBytes(image);
        return image;
    }

    /** A "function snapshot" of that runtime: its pages, with 4 of them changed by the function's init, plus 2 new ones. */
    private Path functionImage(byte[] runtime, int function) throws Exception {
        final byte[] image = java.util.Arrays.copyOf(runtime, runtime.length + 2 * CHUNK);
        final Random r = new Random(1000 + function);
        for (int page : new int[] {3, 11, 19, 27}) {
            final byte[] changed = new byte[4096];
            r.nextBytes(changed);
            System.arraycopy(changed, 0, image, page * CHUNK + 100, changed.length);
        }
        final byte[] tail = new byte[2 * CHUNK];
        r.nextBytes(tail);
        System.arraycopy(tail, 0, image, runtime.length, tail.length);
        return Files.write(tmp.resolve("function-" + function + ".img"), image);
    }

    @Test
    void tenFunctionsOfOneRuntimeStoreOnlyWhatDiffersFromIt() throws Exception {
        final byte[] runtime = runtimeImage();
        final Path runtimeFile = Files.write(tmp.resolve("runtime.img"), runtime);
        try (ChunkStore s = store()) {
            final ManifestId base = s.ingest(runtimeFile, Layer.RUNTIME, Owner.SHARED);
            final Set<ChunkId> baseIds = ids(s, base);
            long functionChunks = 0;
            long uploaded = 0;
            final List<ManifestId> functions = new ArrayList<>();
            for (int f = 0; f < 10; f++) {
                final Path image = functionImage(runtime, f);
                final Owner owner = Owner.ofArn("arn:aws:lambda:us-east-1:" + (111111111111L + f % 2) + ":function:f" + f);
                final IngestReport r = s.ingestWithReport(image, Layer.FUNCTION, owner, List.of(base));
                assertThat(r.baseChunks()).as("function %d: unchanged runtime chunks taken from the base", f).isEqualTo(36);
                assertThat(r.newChunks()).as("function %d: its own chunks", f).isEqualTo(6);
                functionChunks += r.chunks();
                uploaded += r.newChunks();
                functions.add(r.manifestId());
                try (ChunkedObjectReader reader = s.open(r.manifestId())) {
                    assertThat(TestFiles.readAll(reader)).as("function %d reads back", f).isEqualTo(Files.readAllBytes(image));
                }
                final Set<ChunkId> own = ids(s, r.manifestId());
                own.removeAll(baseIds);
                assertThat(own).as("function %d's own chunks are not the runtime's", f).hasSize(6);
            }
            System.out.printf("layered ingest: 10 functions, %d chunks referenced, %d stored of their own (dedup ×%.1f against the runtime layer)%n",
                    functionChunks, uploaded, functionChunks / (double) uploaded);
            // Two functions share only runtime chunks, never each other's own (even in one account).
            final Set<ChunkId> a = ids(s, functions.get(0));
            final Set<ChunkId> b = ids(s, functions.get(2));
            a.retainAll(b);
            assertThat(baseIds).containsAll(a);
        }
    }

    @Test
    void aFunctionLayerIsNeverABase() throws Exception {
        final Path image = TestFiles.random(tmp, "f.img", 3 * CHUNK, 5);
        try (ChunkStore s = store()) {
            final ManifestId tenant = s.ingest(image, Layer.FUNCTION, Owner.ofArn("arn:aws:lambda:us-east-1:111111111111:function:victim"));
            assertThatThrownBy(() -> s.ingestWithReport(image, Layer.FUNCTION,
                    Owner.ofArn("arn:aws:lambda:us-east-1:222222222222:function:attacker"), List.of(tenant)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("only os and runtime layers");
        }
    }

    @Test
    void aTamperedSharedChunkFailsTheFunctionsRead() throws Exception {
        final byte[] runtime = runtimeImage();
        final Path runtimeFile = Files.write(tmp.resolve("runtime.img"), runtime);
        try (ChunkStore s = store()) {
            final ManifestId base = s.ingest(runtimeFile, Layer.RUNTIME, Owner.SHARED);
            final IngestReport r = s.ingestWithReport(functionImage(runtime, 0), Layer.FUNCTION,
                    Owner.ofArn("arn:aws:lambda:us-east-1:111111111111:function:f"), List.of(base));
            final ChunkId shared = s.manifest(r.manifestId()).chunks().get(0).id();
            final Path stored;
            try (var files = Files.walk(tmp.resolve("origin"))) {
                stored = files.filter(p -> p.getFileName().toString().equals(shared.hex())).findFirst().orElseThrow();
            }
            final byte[] bytes = Files.readAllBytes(stored);
            bytes[bytes.length / 2] ^= 1;
            Files.write(stored, bytes);
            try (ChunkedObjectReader reader = s.open(r.manifestId(), false)) {
                assertThatThrownBy(() -> TestFiles.readAll(reader)).hasMessageContaining(shared.hex());
            }
        }
    }

    private static Set<ChunkId> ids(ChunkStore s, ManifestId m) {
        final Set<ChunkId> out = new HashSet<>();
        s.manifest(m).chunks().stream().filter(c -> !c.isZero()).forEach(c -> out.add(c.id()));
        return out;
    }
}

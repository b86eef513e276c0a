package dev.ignis.worker;

import static dev.ignis.worker.TestSandboxes.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.chunk.ChunkStore;
import dev.ignis.chunk.Layer;
import dev.ignis.chunk.ManifestId;
import dev.ignis.chunk.Owner;
import dev.ignis.snapshot.SnapshotImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Real microVM snapshots on the chunk store (`ignis-snapshot`'s {@link SnapshotImages}: 512 KiB chunks, convergent
 * base layers, per-function keys): the snapshot of a python function with an empty handler stands in for the runtime
 * layer (python started, the runtime client loaded, no function work), and two functions' snapshots are stored on it;
 * each comes back byte for byte. Prints the chunk counts (the dedup across two functions of one runtime). Three cold
 * boots under TCG: minutes, so tagged {@code benchmark} as well as {@code microvm}:
 * {@code -Pmicrovm -Dignis.excludedGroups=none -Dtest=MicroVmSnapshotChunksTest}.
 */
@Tag("microvm")
@Tag("benchmark")
class MicroVmSnapshotChunksTest {
    static final String EMPTY = """
            def handler(event):
                return event
            """;
    static final String A = """
            import decimal, json
            TABLE = {i: str(decimal.Decimal(i) / 7) for i in range(20000)}
            def handler(event):
                return len(TABLE)
            """;
    static final String B = """
            import email.parser, urllib.parse, xml.dom.minidom
            WORDS = [urllib.parse.quote("w%d ü" % i) for i in range(30000)]
            def handler(event):
                return len(WORDS)
            """;

    @Test
    void twoFunctionSnapshotsOnARuntimeBase() throws Exception {
        try (MicroVmSandboxes t = new MicroVmSandboxes(true);
             ChunkStore store = ChunkStore.embedded(t.base.resolve("chunks"))) {
            Path runtime = snapshot(t, EMPTY);
            Path a = snapshot(t, A);
            Path b = snapshot(t, B);
            SnapshotImages images = new SnapshotImages(store);
            SnapshotImages.Stored base = images.store(runtime, Layer.RUNTIME, Owner.SHARED, List.of());
            List<ManifestId> bases = base.files().stream().map(SnapshotImages.ImageFile::manifest).toList();
            Owner ownerA = Owner.ofArn("arn:aws:lambda:us-east-1:123456789012:function:a");
            Owner ownerB = Owner.ofArn("arn:aws:lambda:us-east-1:123456789012:function:b");
            SnapshotImages.Stored sa = images.store(a, Layer.FUNCTION, ownerA, bases);
            SnapshotImages.Stored sb = images.store(b, Layer.FUNCTION, ownerB, bases);
            for (var e : List.of(java.util.Map.entry("runtime base", base), java.util.Map.entry("function a", sa),
                    java.util.Map.entry("function b", sb))) {
                SnapshotImages.Stored s = e.getValue();
                System.out.printf("%s: %d MB in %d chunks: %d zero, %d from the runtime base, %d deduplicated, %d new "
                                + "(%d MB uploaded)%n", e.getKey(), s.bytes() >> 20, s.chunks(), s.zeroChunks(), s.baseChunks(),
                        s.dedupedChunks(), s.newChunks(), s.uploadedBytes() >> 20);
                assertThat(s.zeroChunks() + s.baseChunks() + s.dedupedChunks() + s.newChunks()).isEqualTo(s.chunks());
            }
            Path restored = t.base.resolve("restored-b");
            images.materialize(sb.id(), ownerB, restored);
            for (String f : List.of("state", "mem")) {
                assertThat(MicroVmSnapshotTest.sha256(restored.resolve(f))).as(f).isEqualTo(MicroVmSnapshotTest.sha256(b.resolve(f)));
            }
        }
    }

    /** Boots {@code function}, invokes it once, and returns a copy of the snapshot its first cold start took. */
    private static Path snapshot(MicroVmSandboxes t, String function) throws Exception {
        SandboxSpec spec = t.pythonSpec(function, 128, 30);
        SandboxHandle h = t.worker.createSandbox(spec);
        try {
            InvokeOutcome o = t.invoke(h, "1");
            assertThat(o.status()).as(text(o)).isEqualTo(InvokeOutcome.Status.SUCCESS);
        } finally {
            t.worker.retire(h.sandboxId());
        }
        List<Path> files = t.driver.snapshotFiles(t.worker.snapshotKey(spec)).orElseThrow();
        Path copy = Files.createDirectories(t.base.resolve("image-" + java.util.UUID.randomUUID()));
        for (Path f : files) {
            Files.copy(f, copy.resolve(f.getFileName()));
        }
        return copy;
    }
}

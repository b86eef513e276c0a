package dev.ignis.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.chunk.ChunkStore;
import dev.ignis.chunk.Layer;
import dev.ignis.chunk.ManifestId;
import dev.ignis.chunk.Owner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotImagesTest {
    static final int CHUNK = 512 * 1024;
    static final Owner ALICE_F = Owner.ofArn("arn:aws:lambda:us-east-1:111111111111:function:f");
    static final Owner BOB_G = Owner.ofArn("arn:aws:lambda:us-east-1:222222222222:function:g");

    @TempDir Path tmp;

    private static byte[] random(int size, long seed) {
        final byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void aFunctionSnapshotOnItsRuntimeSnapshotComesBackByteForByte() throws Exception {
        final byte[] runtimeMemory = random(20 * CHUNK, 1);
        final Path runtimeImage = Files.createDirectory(tmp.resolve("runtime"));
        Files.write(runtimeImage.resolve("checkpoint.img"), runtimeMemory);

        final byte[] functionMemory = runtimeMemory.clone();
        System.arraycopy(random(10_000, 2), 0, functionMemory, 5 * CHUNK, 10_000);
        final Path functionImage = Files.createDirectory(tmp.resolve("function"));
        Files.write(functionImage.resolve("checkpoint.img"), functionMemory);
        Files.write(functionImage.resolve("state.json"), "{\"pid\":1}".getBytes());

        try (ChunkStore store = ChunkStore.embedded(tmp.resolve("store"))) {
            final SnapshotImages images = new SnapshotImages(store);
            final SnapshotImages.Stored runtime = images.store(runtimeImage, Layer.RUNTIME, Owner.SHARED, List.of());
            final ManifestId runtimeMemoryManifest = runtime.files().get(0).manifest();
            final SnapshotImages.Stored function = images.store(functionImage, Layer.FUNCTION, ALICE_F, List.of(runtimeMemoryManifest));
            assertThat(function.files()).extracting(SnapshotImages.ImageFile::name).containsExactly("checkpoint.img", "state.json");
            assertThat(function.baseChunks()).as("unchanged runtime chunks").isEqualTo(19);
            assertThat(function.newChunks()).as("the changed chunk and the small file").isEqualTo(2);

            final Path restored = tmp.resolve("restored");
            final long written = images.materialize(function.id(), ALICE_F, restored);
            assertThat(written).isEqualTo(functionMemory.length + 9);
            assertThat(Files.readAllBytes(restored.resolve("checkpoint.img"))).isEqualTo(functionMemory);
            assertThat(Files.readString(restored.resolve("state.json"))).isEqualTo("{\"pid\":1}");
            assertThat(Files.getPosixFilePermissions(restored.resolve("checkpoint.img")))
                    .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
        }
    }

    @Test
    void anotherFunctionCannotRestoreItBySnapshotId() throws Exception {
        final Path image = Files.createDirectory(tmp.resolve("image"));
        Files.write(image.resolve("checkpoint.img"), random(CHUNK + 7, 3));
        try (ChunkStore store = ChunkStore.embedded(tmp.resolve("store"))) {
            final SnapshotImages images = new SnapshotImages(store);
            final SnapshotId id = images.store(image, Layer.FUNCTION, ALICE_F, List.of()).id();
            assertThatThrownBy(() -> images.materialize(id, BOB_G, tmp.resolve("stolen")))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not belong to 222222222222/g");
            assertThat(tmp.resolve("stolen")).doesNotExist();
        }
    }

    @Test
    void aFlippedByteInAStoredChunkRefusesTheRestoreAndLeavesNoHalfImage() throws Exception {
        final Path image = Files.createDirectory(tmp.resolve("image"));
        Files.write(image.resolve("a.img"), random(3 * CHUNK, 4));
        Files.write(image.resolve("b.img"), random(2 * CHUNK, 5));
        try (ChunkStore store = ChunkStore.embedded(tmp.resolve("store"))) {
            final SnapshotImages images = new SnapshotImages(store);
            final SnapshotImages.Stored stored = images.store(image, Layer.FUNCTION, ALICE_F, List.of());
            final String victim = store.manifest(stored.files().get(1).manifest()).chunks().get(1).id().hex();
            final Path chunkFile;
            try (Stream<Path> files = Files.walk(tmp.resolve("store/origin"))) {
                chunkFile = files.filter(p -> p.getFileName().toString().equals(victim)).findFirst().orElseThrow();
            }
            final byte[] bytes = Files.readAllBytes(chunkFile);
            bytes[100] ^= 0x40;
            Files.write(chunkFile, bytes);

            assertThatThrownBy(() -> images.materialize(stored.id(), ALICE_F, tmp.resolve("restored")))
                    .hasMessageContaining(victim);
            assertThat(tmp.resolve("restored")).doesNotExist();
        }
    }

    @Test
    void anImageOfAnythingButPlainFilesIsRefused() throws Exception {
        final Path image = Files.createDirectory(tmp.resolve("image"));
        Files.write(image.resolve("checkpoint.img"), random(100, 6));
        Files.createSymbolicLink(image.resolve("passwd"), Path.of("/etc/passwd"));
        try (ChunkStore store = ChunkStore.embedded(tmp.resolve("store"))) {
            final SnapshotImages images = new SnapshotImages(store);
            assertThatThrownBy(() -> images.store(image, Layer.FUNCTION, ALICE_F, List.of()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("plain regular files only, not passwd");
            assertThatThrownBy(() -> images.store(Files.createDirectory(tmp.resolve("empty")), Layer.FUNCTION, ALICE_F, List.of()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is empty");
        }
    }
}

package dev.ignis.worker.microvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image a snapshottable VM boots from is the image of its own directory's bytes: two packages of the same shape
 * (names, sizes and mtimes are the uploader's to choose) never share one, and an update gets a new one.
 */
class DiskImagesTest {
    @TempDir
    Path tmp;

    @Test
    void packagesOfTheSameShapeButOtherBytesGetTheirOwnImages() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/sbin/mkfs.ext4")) || Files.isExecutable(Path.of("/usr/sbin/mkfs.ext4")),
                "mkfs.ext4 (e2fsprogs) builds the images");
        DiskImages images = new DiskImages(tmp.resolve("images"));
        Path alice = code("alice", "SECRET-of-alice!");
        Path mallory = code("mallory", "what-mallory-has"); // same name, size and mtime as alice's file
        var a = images.drive(new QemuCommand.Share("code", "/var/task", alice));
        var m = images.drive(new QemuCommand.Share("code", "/var/task", mallory));
        assertThat(m.image()).as("mallory's package must not boot alice's image").isNotEqualTo(a.image());
        assertThat(new String(Files.readAllBytes(m.image()), java.nio.charset.StandardCharsets.ISO_8859_1))
                .contains("what-mallory-has").doesNotContain("SECRET-of-alice!");

        // the same directory updated in place, its file's size and mtime kept: a new image, with the new bytes
        Files.writeString(alice.resolve("app.py"), "UPDATED-by-alice");
        Files.setLastModifiedTime(alice.resolve("app.py"), FileTime.fromMillis(0));
        var updated = images.drive(new QemuCommand.Share("code", "/var/task", alice));
        assertThat(updated.image()).isNotEqualTo(a.image());
        assertThat(new String(Files.readAllBytes(updated.image()), java.nio.charset.StandardCharsets.ISO_8859_1)).contains("UPDATED-by-alice");

        // unchanged content: the image is built once
        assertThat(images.drive(new QemuCommand.Share("code", "/var/task", alice)).image()).isEqualTo(updated.image());
    }

    private Path code(String who, String content) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(who).resolve("task"));
        Path f = dir.resolve("app.py");
        Files.writeString(f, content);
        Files.setLastModifiedTime(f, FileTime.fromMillis(0));
        Files.setLastModifiedTime(dir, FileTime.fromMillis(0));
        return dir;
    }
}

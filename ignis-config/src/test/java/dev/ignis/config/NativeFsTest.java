package dev.ignis.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The unpacker's defence in depth: under the switched filesystem ids, root's powers are gone for the call, and back after it. */
class NativeFsTest {
    private static final int EACCES = 13;

    @TempDir Path dir;

    @Test
    void underTheUnpackingUidRootCannotWriteARootOnlyDirectory() throws Exception {
        assumeTrue(NativeFs.isRoot(), "needs root: the switch only matters there");
        Path rootOnly = Files.createDirectory(dir.resolve("root-only"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        var results = new AtomicReference<int[]>();
        Thread t = Thread.ofPlatform().start(() -> {
            try (Arena arena = Arena.ofConfined()) {
                var fs = new NativeFs(arena);
                int fd = fs.openDirectory(rootOnly.toString());
                int denied = fs.asUser(PackageUnpacker.DEFAULT_UID, PackageUnpacker.DEFAULT_UID, () -> fs.mkdirat(fd, "as-nobody", 0755));
                int allowed = fs.mkdirat(fd, "as-root", 0755);
                int fsuidAfter = fs.setfsuid(-1);
                fs.close(fd);
                results.set(new int[] {denied, allowed, fsuidAfter});
            }
        });
        t.join();

        assertThat(results.get()[0]).isEqualTo(-EACCES);
        assertThat(rootOnly.resolve("as-nobody")).doesNotExist();
        assertThat(results.get()[1]).isZero();
        assertThat(rootOnly.resolve("as-root")).isDirectory();
        assertThat(results.get()[2]).as("the thread's filesystem uid is restored").isZero();
    }

    @Test
    void openBeneathRefusesToFollowALink() throws IOException {
        Files.createDirectory(dir.resolve("real"));
        Files.createSymbolicLink(dir.resolve("link"), Path.of("real"));
        try (Arena arena = Arena.ofConfined()) {
            var fs = new NativeFs(arena);
            int root = fs.openDirectory(dir.toString());
            int real = fs.openBeneath(root, "real", NativeFs.O_RDONLY | NativeFs.O_DIRECTORY, 0);
            int link = fs.openBeneath(root, "link", NativeFs.O_RDONLY | NativeFs.O_DIRECTORY, 0);
            int up = fs.openBeneath(root, "..", NativeFs.O_RDONLY | NativeFs.O_DIRECTORY, 0);
            assertThat(real).isPositive();
            assertThat(link).isNegative();
            assertThat(up).as("'..' leaves the directory: refused").isNegative();
            fs.close(real);
            fs.close(root);
        }
    }
}

package dev.ignis.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.common.LambdaException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile deployment packages against the code store, unpacked for real on this host (as root when
 * the tests run as root). The temporary directory plays the host: the data directory lives inside
 * it, and after every attack nothing may exist in it but the store's own files and the unpacked
 * package's directory. Each attack also names the outcome: refused with InvalidParameterValueException.
 */
class PackageUnpackAttackTest {
    private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");
    /** Names the chain's links, so that cleaning up after a chain that escaped removes only what it made. */
    private static final String TOKEN = "ignis-chain-" + UUID.randomUUID().toString().substring(0, 8) + "-";

    @TempDir Path host;
    private Path data;
    private CodeStore store;
    private final List<Path> hostCanaries = new ArrayList<>();

    @BeforeEach
    void open() throws IOException {
        data = host.resolve("data");
        store = new CodeStore(data);
        Files.writeString(host.resolve("victim.txt"), "untouched");
    }

    /** What a chain written on today's code left on the real host: its links (named with this run's token) and canaries. */
    @AfterEach
    void cleanHost() throws IOException {
        hostCanaries.forEach(CodeStore::deleteTree);
        for (Path d = host; d != null; d = d.getParent()) {
            try (var list = Files.list(d)) {
                for (Path p : list.filter(p -> p.getFileName().toString().startsWith(TOKEN) && Files.isSymbolicLink(p)).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    @Test
    void zipSymlinkChainCannotWriteOutsideTheFunctionDirectory() {
        // l1 -> ".", l1/l2 -> "..", l1/l2/l3 -> "..": each link resolves inside the package on paper; on disk the
        // chain climbs one directory per link, so l1/.../l5 is the temporary "host" directory.
        byte[] zip = chain(5).file(path(5) + "/owned.txt", "root was here")
                .file(path(5) + "/victim.txt", "overwritten").file("app.py", "x = 1\n").bytes();

        assertRefused(zip);
        assertThat(host.resolve("owned.txt")).doesNotExist();
        assertThat(host.resolve("victim.txt")).hasContent("untouched");
    }

    @Test
    void zipSymlinkChainReachingTheHostRootCannotWriteThere() {
        Path canary = Path.of("/tmp", "ignis-canary-" + UUID.randomUUID());
        hostCanaries.add(canary);
        int depth = host.getNameCount() + 8;
        byte[] zip = chain(depth).file(path(depth) + canary + "/owned.txt", "root was here").bytes();

        String outcome = attempt(zip);
        assertThat(canary).doesNotExist();
        assertThat(outcome).isEqualTo("InvalidParameterValueException");
        assertOnlyStoreFiles();
    }

    @Test
    void aFileThroughALinkOfThePackageIsRefused() {
        assertRefused(new HostileZip().dir("real").symlink("lib", "real").file("lib/module.py", "x = 1\n").bytes());
        assertRefused(new HostileZip().symlink("a", ".").symlink("a/b", "..").file("a/b/../../etc/owned", "x").bytes());
    }

    @Test
    void aLinkWhoseTargetPassesThroughAnotherLinkIsRefused() {
        assertRefused(new HostileZip().dir("d2").symlink("d1", "d2").symlink("up", "d1/..").bytes());
        assertRefused(new HostileZip().symlink("a", "b").symlink("b", "a").bytes());
    }

    @Test
    void aFileThenALinkReplacingItIsRefused() {
        assertRefused(new HostileZip().file("app.py", "x = 1\n").symlink("app.py", ".").bytes());
        assertRefused(new HostileZip().symlink("app.py", ".").file("app.py", "x = 1\n").bytes());
    }

    @Test
    void aDirectoryEntryShadowingALinkIsRefused() {
        assertRefused(new HostileZip().symlink("lib", ".").dir("lib").file("lib/x.py", "x").bytes());
        assertRefused(new HostileZip().dir("lib").symlink("lib", ".").bytes());
    }

    @Test
    void duplicateEntriesAreRefused() {
        assertRefused(new HostileZip().file("app.py", "a").file("app.py", "b").bytes());
        assertRefused(new HostileZip().file("app.py", "a").file("./app.py", "b").bytes());
        assertRefused(new HostileZip().file("lib/x.py", "a").file("lib//x.py", "b").bytes());
    }

    @Test
    void escapingAndAbsoluteNamesAreRefused() {
        assertRefused(new HostileZip().file("../owned.txt", "x").bytes());
        assertRefused(new HostileZip().file("a/../../owned.txt", "x").bytes());
        assertRefused(new HostileZip().file(host.resolve("owned.txt").toString(), "x").bytes());
        assertRefused(new HostileZip().symlink("l", host.toString()).bytes());
        assertRefused(new HostileZip().symlink("l", "../..").bytes());
        assertThat(host.resolve("owned.txt")).doesNotExist();
    }

    @Test
    void namesWithNulOrBeyondTheKernelsLimitsAreRefused() {
        assertRefused(new HostileZip().rawName("app.py\0../../owned.txt".getBytes(StandardCharsets.UTF_8), "x").bytes());
        assertRefused(new HostileZip().file("a".repeat(300), "x").bytes());
        assertRefused(new HostileZip().file(("d".repeat(200) + "/").repeat(25) + "f", "x").bytes());
        assertRefused(new HostileZip().symlink("l", "a/".repeat(3000)).bytes());
    }

    @Test
    void zipBombsAndLyingSizesAreRefused() {
        assertRefused(new HostileZip().zeros("zeros.bin", 260 * 1024 * 1024).bytes());
        assertRefused(new HostileZip().lyingSize("small.txt", "tiny", 1L << 31).bytes());
    }

    /**
     * The on-disk defences alone, with the paper checks skipped: the unpacker makes links last and
     * never follows one, so a chain, a file through a link and a link over a file fail on disk.
     */
    @Test
    void withoutThePaperChecksTheDiskStillRefusesChainsAndLinksInTheWay() {
        Path canary = Path.of("/tmp", "ignis-canary-" + UUID.randomUUID());
        hostCanaries.add(canary);
        int depth = host.getNameCount() + 8;
        List<byte[]> attacks = List.of(
                chain(5).file(path(5) + "/owned.txt", "root was here").bytes(),
                chain(depth).file(path(depth) + canary + "/owned.txt", "root was here").bytes(),
                chain(5).bytes(),
                new HostileZip().symlink("lib", ".").file("lib/x.py", "x").bytes(),
                new HostileZip().file("app.py", "x").symlink("./app.py", ".").bytes(),
                new HostileZip().file("app.py", "a").file("./app.py", "b").bytes(),
                new HostileZip().file("lib", "a").file("lib/x.py", "b").bytes());
        var unpacker = new PackageUnpacker(PackageUnpacker.DEFAULT_UID);
        for (byte[] zip : attacks) {
            var unchecked = new ZipValidator.Listing(ZipValidator.centralDirectoryModes(zip), 0);
            Path target = data.resolve("code/unpacked").resolve(CodeStore.sha256(zip));
            String error = null;
            try {
                unpacker.unpack(zip, unchecked, target);
            } catch (LambdaException e) {
                error = e.type();
            }
            assertThat(canary).doesNotExist();
            assertOnlyStoreFiles();
            assertThat(error).isEqualTo("InvalidParameterValueException");
            assertThat(target).doesNotExist();
        }
    }

    @Test
    void anOrdinaryPackageUnpacksWorldReadableAndRootOwned() throws IOException {
        byte[] zip = new HostileZip().file("app.py", "x = 1\n").dir("lib").file("lib/libfoo.so.1", "elf")
                .symlink("lib/libfoo.so", "libfoo.so.1").symlink("shared", "lib").executable("./bootstrap", "#!/bin/sh\n")
                .file("deep/er/file.txt", "y").bytes();
        CodeStore.CodeRef ref = store.put(zip);
        Path dir = store.unpacked(ref.sha256Hex());

        assertThat(dir.resolve("app.py")).hasContent("x = 1\n");
        assertThat(Files.readSymbolicLink(dir.resolve("lib/libfoo.so"))).isEqualTo(Path.of("libfoo.so.1"));
        assertThat(dir.resolve("lib/libfoo.so")).hasContent("elf");
        assertThat(Files.readSymbolicLink(dir.resolve("shared"))).isEqualTo(Path.of("lib"));
        assertThat(dir.resolve("deep/er/file.txt")).hasContent("y");
        assertThat(Files.getPosixFilePermissions(dir.resolve("bootstrap"))).hasSize(6);
        assertThat(Files.getPosixFilePermissions(dir.resolve("app.py"))).hasSize(3);
        assertThat(Files.getPosixFilePermissions(dir.resolve("deep/er"))).hasSize(6);
        assertThat(Files.getOwner(dir.resolve("app.py"), LinkOption.NOFOLLOW_LINKS))
                .isEqualTo(Files.getOwner(data, LinkOption.NOFOLLOW_LINKS));
        assertThat(Files.getOwner(dir.resolve("shared"), LinkOption.NOFOLLOW_LINKS))
                .isEqualTo(Files.getOwner(data, LinkOption.NOFOLLOW_LINKS));
        assertOnlyStoreFiles();
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** l1 -> ".", then l1/.../lk -> ".." for k = 2..n. */
    private static HostileZip chain(int n) {
        var zip = new HostileZip().symlink(TOKEN + "1", ".");
        for (int k = 2; k <= n; k++) {
            zip.symlink(path(k), "..");
        }
        return zip;
    }

    private static String path(int k) {
        var sb = new StringBuilder(TOKEN + "1");
        for (int i = 2; i <= k; i++) {
            sb.append('/').append(TOKEN).append(i);
        }
        return sb.toString();
    }

    /** Stores and unpacks the package; it must be refused as AWS refuses a bad package, with nothing left outside. */
    private void assertRefused(byte[] zip) {
        String error = attempt(zip);
        assertOnlyStoreFiles();
        assertThat(error).isEqualTo("InvalidParameterValueException");
        assertThat(store.contains(CodeStore.sha256(zip))).as("a refused package is not stored").isFalse();
    }

    /** Stores the package and unpacks it as the first invoke would: null when that worked, else the error. */
    private String attempt(byte[] zip) {
        try {
            var ref = store.put(zip);
            store.unpacked(ref.sha256Hex());
            return null;
        } catch (LambdaException e) {
            return e.type();
        } catch (RuntimeException e) {
            return e.toString();
        }
    }

    /** The "host" holds only its victim file, the store's directories, stored zips and unpacked packages. */
    private void assertOnlyStoreFiles() {
        Path code = data.resolve("code");
        try (var walk = Files.walk(host)) {
            List<Path> stray = walk.filter(p -> !p.equals(host) && !p.equals(host.resolve("victim.txt")) && !p.equals(data)
                    && !p.equals(code) && !p.equals(code.resolve("sha256")) && !p.equals(code.resolve("unpacked"))
                    && !p.equals(code.resolve("unpacked/.staging"))
                    && !(p.getParent().equals(code.resolve("sha256")) && p.getFileName().toString().matches("[0-9a-f]{64}\\.zip"))
                    && !(p.startsWith(code.resolve("unpacked")) && p.getNameCount() > code.getNameCount() + 1
                            && HEX.matcher(p.getName(code.getNameCount() + 1).toString()).matches()))
                    .toList();
            assertThat(stray).as("files written outside the package directory").isEmpty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertThat(host.resolve("victim.txt")).hasContent("untouched");
    }
}

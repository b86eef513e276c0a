package dev.ignis.worker.microvm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Read-only ext4 images of host directories, the disks of snapshottable VMs: QEMU refuses to migrate a VM whose
 * guest mounted a 9p export ("Migration is disabled when VirtFS export path ... is mounted"), so a VM that will be
 * snapshotted gets each of its shares as a {@code virtio-blk} disk instead. An image is built once per directory
 * content ({@code mkfs.ext4 -d}: no journal, no mount on the host; it copies links as links) and named by the hash of
 * the host directory's path and of its tree: each entry's relative path, kind, and content (a file's bytes, a link's
 * target). Images are world-readable files in a directory of this worker's that only the QEMUs it is bound into
 * (bubblewrap) see.
 *
 * <p>Design note (hostile packages): names, sizes and mtimes are all the uploader's to choose (a zip carries its own
 * mtimes), so a key made of them let one tenant's package name another tenant's image of the same shape and boot with
 * that tenant's code, and let an updated package keep its old image. The key therefore holds the source directory (each
 * function's code has its own) and every byte; hashing costs one read of the tree, once per snapshottable boot.
 */
final class DiskImages {
    /** Bound on one image: a runtime that shares a whole /usr (gigabytes) is booted over 9p, never snapshotted. */
    static final long MAX_IMAGE_BYTES = 1L << 30;
    private final Path dir;
    /** Host directories found over {@link #MAX_IMAGE_BYTES} (not walked again). */
    private final java.util.Set<Path> tooLarge = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** A directory too large to become a disk image. */
    static final class TooLarge extends IOException {
        TooLarge(Path dir) {
            super(dir + " holds over " + (MAX_IMAGE_BYTES >> 20) + " MB: too large for a snapshottable VM's disk image");
        }
    }

    DiskImages(Path dir) throws IOException {
        this.dir = dir;
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
    }

    /** The share {@code s} as a disk: an image of its host directory, built now if this content has none yet. */
    synchronized QemuCommand.Drive drive(QemuCommand.Share s) throws IOException {
        Path src = s.hostPath();
        if (tooLarge.contains(src)) {
            throw new TooLarge(src);
        }
        MessageDigest d;
        try {
            d = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        long bytes = 0;
        long entries = 0;
        // first the bound, stopping early (a whole /usr is gigabytes: no need to walk it all, nor sort it)
        try (Stream<Path> walk = Files.walk(src)) {
            var it = walk.iterator();
            while (it.hasNext()) {
                bytes += (Files.readAttributes(it.next(), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).size() + 4095)
                        / 4096 * 4096;
                if (bytes > MAX_IMAGE_BYTES) {
                    tooLarge.add(src);
                    throw new TooLarge(src);
                }
            }
        }
        bytes = 0;
        d.update((src.toAbsolutePath().normalize() + "\0").getBytes(StandardCharsets.UTF_8));
        byte[] buf = new byte[64 * 1024];
        try (Stream<Path> walk = Files.walk(src)) {
            for (Path p : walk.sorted().toList()) {
                BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                d.update((src.relativize(p) + "\0" + kind(a) + "\0" + a.size() + "\0").getBytes(StandardCharsets.UTF_8));
                if (a.isSymbolicLink()) {
                    d.update((Files.readSymbolicLink(p) + "\0").getBytes(StandardCharsets.UTF_8));
                } else if (a.isRegularFile()) {
                    try (var in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
                        for (int r; (r = in.read(buf)) > 0; ) {
                            d.update(buf, 0, r);
                        }
                    }
                }
                bytes += (a.size() + 4095) / 4096 * 4096;
                entries++;
                if (bytes > MAX_IMAGE_BYTES) {
                    tooLarge.add(src);
                    throw new TooLarge(src);
                }
            }
        }
        Path image = dir.resolve(HexFormat.of().formatHex(d.digest(), 0, 16) + ".ext4");
        if (Files.isRegularFile(image)) {
            return new QemuCommand.Drive(s.tag(), s.guestPath(), image);
        }
        long sizeKb = (bytes + entries * 512) * 5 / 4 / 1024 + 8192;
        Path tmp = Files.createTempFile(dir, "build-", ".ext4");
        try {
            run("mkfs.ext4", "-q", "-F", "-t", "ext4", "-O", "^has_journal,^metadata_csum,^resize_inode", "-m", "0",
                    "-N", Long.toString(entries + 1024), "-b", "4096", "-d", src.toString(), tmp.toString(), sizeKb + "k");
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("r--r--r--"));
            Files.move(tmp, image, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return new QemuCommand.Drive(s.tag(), s.guestPath(), image);
    }

    private static char kind(BasicFileAttributes a) {
        return a.isSymbolicLink() ? 'l' : a.isDirectory() ? 'd' : a.isRegularFile() ? 'f' : 'o';
    }

    static void run(String... cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + " failed: " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + cmd[0], e);
        }
    }
}

package dev.ignis.worker.microvm;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What every microVM boots: Debian's generic kernel ({@code linux-image-amd64}, fetched with {@code apt-get download}
 * and unpacked with {@code dpkg-deb -x} into a cache directory, never committed) and an initramfs Ignis builds
 * reproducibly from the guest agent (compiled here, {@code cc -O2 -static}) and the kernel modules the guest needs
 * (virtio-mmio, virtio-serial, 9p). Files are named by the hash of what made them, so a new agent or kernel makes new
 * files and an old worker's keep working.
 *
 * @param kernel    the kernel image ({@code vmlinuz})
 * @param initramfs the initramfs (cpio newc)
 * @param version   the kernel's release, e.g. {@code 6.1.0-50-amd64}
 */
public record GuestImage(Path kernel, Path initramfs, String version) {
    private static final String AGENT_SOURCE = "ignis-guest-agent.c";
    /**
     * In load order (dependencies first): virtio transport, the serial ports, 9p, then virtio-blk and ext4 (the
     * read-only disk images of snapshottable VMs: QEMU cannot migrate a VM with a mounted 9p export).
     */
    static final List<String> MODULES = List.of(
            "drivers/virtio/virtio.ko", "drivers/virtio/virtio_ring.ko", "drivers/virtio/virtio_mmio.ko",
            "drivers/char/virtio_console.ko", "fs/netfs/netfs.ko", "fs/fscache/fscache.ko", "net/9p/9pnet.ko",
            "net/9p/9pnet_virtio.ko", "fs/9p/9p.ko", "drivers/block/virtio_blk.ko", "lib/crc16.ko", "fs/mbcache.ko",
            "fs/jbd2/jbd2.ko", "crypto/crc32c_generic.ko", "fs/ext4/ext4.ko");

    /** The image in {@code cacheDir} if it is complete there (no side effects), or null. */
    public static GuestImage find(Path cacheDir) {
        Path kernelRoot = cacheDir.resolve("kernel");
        if (!Files.isDirectory(kernelRoot)) {
            return null;
        }
        try (Stream<Path> versions = Files.list(kernelRoot.resolve("lib/modules"))) {
            String version = versions.map(p -> p.getFileName().toString()).sorted().reduce((a, b) -> b).orElse(null);
            if (version == null) {
                return null;
            }
            Path kernel = kernelRoot.resolve("boot/vmlinuz-" + version);
            Path initramfs = cacheDir.resolve("initramfs-" + version + "-" + agentHash() + ".cpio");
            return Files.isRegularFile(kernel) && Files.isRegularFile(initramfs) ? new GuestImage(kernel, initramfs, version) : null;
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * The image in {@code cacheDir}, fetched and built if missing (the install step; needs apt-get, dpkg-deb and a C
     * compiler with a static libc, minutes at most). Safe to call again: it does only what is missing.
     */
    public static synchronized GuestImage prepare(Path cacheDir) {
        try {
            Files.createDirectories(cacheDir);
            Path kernelRoot = cacheDir.resolve("kernel");
            if (!Files.isDirectory(kernelRoot.resolve("lib/modules"))) {
                fetchKernel(cacheDir, kernelRoot);
            }
            String version;
            try (Stream<Path> versions = Files.list(kernelRoot.resolve("lib/modules"))) {
                version = versions.map(p -> p.getFileName().toString()).sorted().reduce((a, b) -> b).orElseThrow();
            }
            Path initramfs = cacheDir.resolve("initramfs-" + version + "-" + agentHash() + ".cpio");
            if (!Files.isRegularFile(initramfs)) {
                Path agent = compileAgent(cacheDir);
                Cpio cpio = new Cpio().dir("dev").dir("proc").dir("sys").dir("tmp").dir("var/task").dir("var/runtime");
                cpio.file("init", Files.readAllBytes(agent), true);
                StringBuilder order = new StringBuilder();
                for (String m : MODULES) {
                    Path ko = kernelRoot.resolve("lib/modules/" + version + "/kernel/" + m);
                    String inGuest = "/ignis/modules.d/" + ko.getFileName();
                    cpio.file(inGuest, Files.readAllBytes(ko), false);
                    order.append(inGuest).append('\n');
                }
                cpio.file("ignis/modules", order.toString().getBytes(StandardCharsets.UTF_8), false);
                Path tmp = Files.createTempFile(cacheDir, "initramfs-", ".tmp");
                Files.write(tmp, cpio.toBytes());
                Files.move(tmp, initramfs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                Files.delete(agent);
            }
            GuestImage image = find(cacheDir);
            if (image == null) {
                throw new IllegalStateException("the guest image in " + cacheDir + " is incomplete after preparing it");
            }
            // every VM's QEMU reads them as its own unprivileged uid
            Files.setPosixFilePermissions(image.initramfs(), java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            Files.setPosixFilePermissions(image.kernel(), java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            return image;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the microVM guest image in " + cacheDir, e);
        }
    }

    /** apt-get download linux-image-amd64's current kernel package, dpkg-deb -x it, keep boot/ and lib/modules/. */
    private static void fetchKernel(Path cacheDir, Path kernelRoot) throws IOException {
        Path work = Files.createTempDirectory(cacheDir, "fetch-");
        try {
            String depends = run(work, "apt-cache", "depends", "linux-image-amd64");
            String pkg = depends.lines().map(String::trim).filter(l -> l.startsWith("Depends: linux-image-"))
                    .map(l -> l.substring("Depends: ".length())).findFirst().orElseThrow(() -> new IllegalStateException(
                            "apt-cache depends linux-image-amd64 names no kernel package (is apt's Debian index there?): " + depends));
            run(work, "apt-get", "download", pkg);
            Path deb;
            try (Stream<Path> files = Files.list(work)) {
                deb = files.filter(p -> p.toString().endsWith(".deb")).findFirst().orElseThrow(() ->
                        new IllegalStateException("apt-get download " + pkg + " left no .deb"));
            }
            Path unpacked = work.resolve("root");
            run(work, "dpkg-deb", "-x", deb.toString(), unpacked.toString());
            Files.move(unpacked, kernelRoot, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            deleteTree(work);
        }
    }

    private static Path compileAgent(Path dir) throws IOException {
        byte[] source;
        try (InputStream in = GuestImage.class.getResourceAsStream(AGENT_SOURCE)) {
            if (in == null) {
                throw new IllegalStateException(AGENT_SOURCE + " is missing from the classpath");
            }
            source = in.readAllBytes();
        }
        Path src = dir.resolve("ignis-guest-agent.c");
        Path out = dir.resolve("ignis-guest-agent");
        Files.write(src, source);
        try {
            run(dir, "cc", "-O2", "-Wall", "-static", "-o", out.toString(), src.toString());
        } finally {
            Files.deleteIfExists(src);
        }
        return out;
    }

    static String agentHash() {
        try (InputStream in = GuestImage.class.getResourceAsStream(AGENT_SOURCE)) {
            if (in == null) {
                throw new IllegalStateException(AGENT_SOURCE + " is missing from the classpath");
            }
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(in.readAllBytes());
            for (String m : MODULES) {
                d.update(m.getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(d.digest(), 0, 6);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String run(Path cwd, String... cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + String.join(" ", cmd), e);
        }
        return out;
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}

package dev.ignis.config;

import dev.ignis.common.LambdaException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Set;
import java.util.UUID;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Deployment packages, content-addressed by SHA-256: identical zips are stored once. A package is
 * validated before it is stored, and stored (atomically renamed into place) before any journal
 * record names it, so a crash leaves at worst an unreferenced file, never a function without code.
 */
public final class CodeStore {
    public static final long MAX_ZIPPED = 50L * 1024 * 1024;

    private final Path zips;
    private final Path unpacked;

    public CodeStore(Path dataDir) {
        this.zips = dataDir.resolve("code/sha256");
        this.unpacked = dataDir.resolve("code/unpacked");
        try {
            Files.createDirectories(zips);
            Files.createDirectories(unpacked);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A stored package. */
    public record CodeRef(String sha256Hex, long size) {
        public String sha256Base64() {
            return Base64.getEncoder().encodeToString(HexFormat.of().parseHex(sha256Hex));
        }
    }

    /** Validates and stores a package; returns its address. Throws an AWS-shaped error and stores nothing on bad input. */
    public CodeRef put(byte[] zip) {
        if (zip.length > MAX_ZIPPED) {
            throw new LambdaException(413, "RequestEntityTooLargeException",
                    "Zipped size must be smaller than " + MAX_ZIPPED + " bytes");
        }
        ZipValidator.validate(zip);
        String hex = sha256(zip);
        Path target = zipPath(hex);
        if (!Files.exists(target)) {
            try {
                Path tmp = zips.resolve(hex + "." + UUID.randomUUID() + ".tmp");
                Files.write(tmp, zip);
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return new CodeRef(hex, zip.length);
    }

    public Path zipPath(String sha256Hex) {
        return zips.resolve(sha256Hex + ".zip");
    }

    public boolean contains(String sha256Hex) {
        return Files.exists(zipPath(sha256Hex));
    }

    /**
     * The package unpacked on disk (what a sandbox mounts read-only at /var/task); unpacked once,
     * on first use, into a temporary directory that is renamed into place.
     */
    public Path unpacked(String sha256Hex) {
        Path dir = unpacked.resolve(sha256Hex);
        if (Files.isDirectory(dir)) {
            return dir;
        }
        Path tmp = unpacked.resolve(sha256Hex + "." + UUID.randomUUID() + ".tmp");
        try {
            byte[] zip = Files.readAllBytes(zipPath(sha256Hex));
            var listing = ZipValidator.validate(zip);
            Files.createDirectories(tmp);
            try (var in = new ZipInputStream(new java.io.ByteArrayInputStream(zip))) {
                ZipEntry e;
                while ((e = in.getNextEntry()) != null) {
                    Path out = tmp.resolve(e.getName()).normalize();
                    int mode = listing.modes().getOrDefault(e.getName(), 0);
                    if (e.isDirectory()) {
                        Files.createDirectories(out);
                        continue;
                    }
                    Files.createDirectories(out.getParent());
                    if ((mode & 0170000) == 0120000) {
                        Files.createSymbolicLink(out, Path.of(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)));
                        continue;
                    }
                    Files.copy(in, out);
                    Files.setPosixFilePermissions(out, (mode & 0111) != 0 || mode == 0 && looksExecutable(e.getName())
                            ? Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.GROUP_READ,
                                    PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_EXECUTE)
                            : Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.GROUP_READ, PosixFilePermission.OTHERS_READ));
                }
            }
            makeTraversable(tmp);
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException raced) {
            deleteTree(tmp);
        } catch (IOException e) {
            deleteTree(tmp);
            if (Files.isDirectory(dir)) {
                // Another unpacker (another thread, or another frontend on the shared store) won the race;
                // an atomic rename onto its directory fails with a plain "Directory not empty".
                return dir;
            }
            throw new UncheckedIOException(e);
        }
        return dir;
    }

    private static boolean looksExecutable(String name) {
        return name.equals("bootstrap") || name.endsWith("/bootstrap");
    }

    private static void makeTraversable(Path root) throws IOException {
        try (var walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString("r-xr-xr-x"));
                }
            }
        }
    }

    static void deleteTree(Path p) {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (var walk = Files.walk(p)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> {
                try {
                    f.toFile().setWritable(true);
                    Files.deleteIfExists(f);
                } catch (IOException ignored) {
                    // best effort: a leftover temporary directory is harmless
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

package dev.ignis.config;

import dev.ignis.common.LambdaException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Deployment packages, content-addressed by SHA-256: identical zips are stored once. A package is
 * unpacked ({@link PackageUnpacker}: refused if it cannot be unpacked safely) and then stored
 * (atomically renamed into place) before any journal record names it, so a crash leaves at worst an
 * unreferenced file, never a function without code; a refused package leaves nothing.
 */
public final class CodeStore {
    public static final long MAX_ZIPPED = 50L * 1024 * 1024;

    /**
     * @param accountStorageLimit bytes of packages one account may keep (Lambda's "function and layer
     *                            storage", 75 GB by default); see {@link ConfigStore#codeStorageUsed}
     * @param unpackUid           the unprivileged uid (and gid) that writes packages as they are unpacked
     */
    public record Settings(long accountStorageLimit, int unpackUid) {
        public static final long DEFAULT_ACCOUNT_STORAGE_LIMIT = 75L * 1024 * 1024 * 1024;

        public Settings {
            if (accountStorageLimit < 0) {
                throw new IllegalArgumentException("the code storage limit must not be negative: " + accountStorageLimit);
            }
        }

        public static Settings defaults() {
            return new Settings(DEFAULT_ACCOUNT_STORAGE_LIMIT, PackageUnpacker.DEFAULT_UID);
        }
    }

    private final Path zips;
    private final Path unpacked;
    private final Path opt;
    private final Settings settings;
    private final PackageUnpacker unpacker;

    public CodeStore(Path dataDir) {
        this(dataDir, Settings.defaults());
    }

    public CodeStore(Path dataDir, Settings settings) {
        this.zips = dataDir.resolve("code/sha256");
        this.unpacked = dataDir.resolve("code/unpacked");
        this.opt = dataDir.resolve("code/opt");
        this.settings = settings;
        this.unpacker = new PackageUnpacker(settings.unpackUid());
        try {
            Files.createDirectories(zips);
            Files.createDirectories(unpacked); // code/opt is made with its first merge
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Settings settings() {
        return settings;
    }

    /** A stored package. */
    public record CodeRef(String sha256Hex, long size) {
        public String sha256Base64() {
            return Base64.getEncoder().encodeToString(HexFormat.of().parseHex(sha256Hex));
        }
    }

    /** Validates, unpacks and stores a package; returns its address. Throws an AWS-shaped error and stores nothing on bad input. */
    public CodeRef put(byte[] zip) {
        return put(zip, ref -> { });
    }

    /**
     * As {@link #put(byte[])}, with {@code admit} called with the package's address and size before
     * anything is unpacked or stored: it throws to refuse the package (e.g. over a storage quota).
     */
    public CodeRef put(byte[] zip, Consumer<CodeRef> admit) {
        if (zip.length > MAX_ZIPPED) {
            throw new LambdaException(413, "RequestEntityTooLargeException",
                    "Zipped size must be smaller than " + MAX_ZIPPED + " bytes");
        }
        var ref = new CodeRef(sha256(zip), zip.length);
        admit.accept(ref);
        Path dir = unpacked.resolve(ref.sha256Hex());
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            unpacker.unpack(zip, dir);
        }
        Path target = zipPath(ref.sha256Hex());
        if (!Files.exists(target)) {
            try {
                Path tmp = zips.resolve(ref.sha256Hex() + "." + UUID.randomUUID() + ".tmp");
                Files.write(tmp, zip);
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return ref;
    }

    public Path zipPath(String sha256Hex) {
        return zips.resolve(sha256Hex + ".zip");
    }

    public boolean contains(String sha256Hex) {
        return Files.exists(zipPath(sha256Hex));
    }

    /**
     * The package unpacked on disk (what a sandbox mounts read-only at /var/task): unpacked when it was
     * stored, or here on first use for a package stored by an older Ignis.
     */
    public Path unpacked(String sha256Hex) {
        Path dir = unpacked.resolve(sha256Hex);
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            try {
                unpacker.unpack(Files.readAllBytes(zipPath(sha256Hex)), dir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return dir;
    }

    /** Bytes of the package's regular files once unpacked (what counts towards the 250 MB unzipped limit). */
    public long unzippedSize(String sha256Hex) {
        Path dir = unpacked(sha256Hex);
        long[] total = {0};
        try {
            Files.walkFileTree(dir, new java.nio.file.SimpleFileVisitor<>() { // follows no link
                @Override
                public java.nio.file.FileVisitResult visitFile(Path file, java.nio.file.attribute.BasicFileAttributes attrs) {
                    if (attrs.isRegularFile()) {
                        total[0] += attrs.size();
                    }
                    return java.nio.file.FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return total[0];
    }

    /**
     * What a sandbox mounts read-only at {@code /opt} for a function with these layers (archives in
     * order): their unpacked trees merged ({@link LayerMerge}), made once per distinct list; null for none.
     */
    public Path layers(java.util.List<String> sha256Hexes) {
        if (sha256Hexes.isEmpty()) {
            return null;
        }
        Path dir = opt.resolve(sha256(String.join(",", sha256Hexes).getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            LayerMerge.merge(sha256Hexes.stream().map(this::unpacked).toList(), dir);
        }
        return dir;
    }

    static void deleteTree(Path p) {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (var walk = Files.walk(p)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> {
                try {
                    if (Files.isDirectory(f, LinkOption.NOFOLLOW_LINKS)) {
                        f.toFile().setWritable(true); // a read-only directory of an unpacked package
                    }
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

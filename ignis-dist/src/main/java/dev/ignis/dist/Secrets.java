package dev.ignis.dist;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;

/** Small per-data-directory secrets, created on first use, readable only by the owner (0600). */
final class Secrets {
    private Secrets() {}

    /** Signs GetFunction's Code.Location download links. */
    static byte[] codeLinkKey(Path dataDir) {
        return HexFormat.of().parseHex(readOrCreate(dataDir.resolve("code-link.key")));
    }

    /** Authorizes the local `ignis account/keys` commands against a running server. */
    static String adminToken(Path dataDir) {
        return readOrCreate(dataDir.resolve("admin.token"));
    }

    private static String readOrCreate(Path file) {
        try {
            if (Files.exists(file)) {
                return Files.readString(file).trim();
            }
            byte[] b = new byte[32];
            new SecureRandom().nextBytes(b);
            String hex = HexFormat.of().formatHex(b);
            writePrivate(file, hex);
            return hex;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes a file only its owner can read (0600), atomically: readers see the old content or the new. */
    static void writePrivate(Path file, String content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, content);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}

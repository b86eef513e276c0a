package dev.ignis.config;

import dev.ignis.common.LambdaException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Checks a deployment package before anything is stored: it must be a readable zip, every entry
 * must stay inside the package root (no absolute paths, no "..", no symlink pointing out), and the
 * unpacked size must stay under 250 MB — counted while inflating, never trusted from headers.
 *
 * <p>The central directory is read by hand because the JDK's zip API does not expose the Unix
 * mode bits that mark an entry as a symlink.
 */
final class ZipValidator {
    static final long MAX_UNZIPPED = 250L * 1024 * 1024;
    private static final int S_IFMT = 0170000;
    private static final int S_IFLNK = 0120000;

    /** Entry name → Unix mode (0 when the archive has none) for every entry, after validation. */
    record Listing(Map<String, Integer> modes, long unzippedSize) {}

    private ZipValidator() {}

    static Listing validate(byte[] zip) {
        Map<String, Integer> modes = centralDirectoryModes(zip);
        long total = 0;
        int entries = 0;
        try (var in = new ZipInputStream(new java.io.ByteArrayInputStream(zip))) {
            ZipEntry e;
            byte[] buf = new byte[64 * 1024];
            while ((e = in.getNextEntry()) != null) {
                entries++;
                String name = e.getName();
                checkName(name);
                boolean symlink = (modes.getOrDefault(name, 0) & S_IFMT) == S_IFLNK;
                var target = new java.io.ByteArrayOutputStream();
                int n;
                while ((n = in.read(buf)) > 0) {
                    total += n;
                    if (total > MAX_UNZIPPED) {
                        throw invalid("Unzipped size must be smaller than " + MAX_UNZIPPED + " bytes");
                    }
                    if (symlink) {
                        target.write(buf, 0, n);
                    }
                }
                if (symlink) {
                    checkSymlink(name, target.toString(StandardCharsets.UTF_8));
                }
            }
        } catch (LambdaException e) {
            throw e;
        } catch (IOException | IllegalArgumentException e) {
            throw invalid("Could not unzip uploaded file. Please check your file, then try to upload again. (" + e.getMessage() + ")");
        }
        if (entries == 0 || entries != modes.size()) {
            throw invalid("Could not unzip uploaded file. Please check your file, then try to upload again.");
        }
        return new Listing(modes, total);
    }

    static void checkName(String name) {
        if (name.isEmpty() || name.startsWith("/") || name.startsWith("\\") || name.contains("\\") || name.indexOf('\0') >= 0
                || (name.length() > 1 && name.charAt(1) == ':')) {
            throw invalid("Zip entry has an absolute or invalid path: " + name);
        }
        Path p = Path.of("/var/task").resolve(name).normalize();
        if (!p.startsWith("/var/task")) {
            throw invalid("Zip entry escapes the package root: " + name);
        }
    }

    static void checkSymlink(String name, String target) {
        if (target.startsWith("/")) {
            throw invalid("Zip entry " + name + " is a symlink to an absolute path: " + target);
        }
        Path resolved = Path.of("/var/task").resolve(name).getParent().resolve(target).normalize();
        if (!resolved.startsWith("/var/task")) {
            throw invalid("Zip entry " + name + " is a symlink out of the package root: " + target);
        }
    }

    /** Parses the central directory: name → Unix mode. Rejects archives without a readable one. */
    private static Map<String, Integer> centralDirectoryModes(byte[] zip) {
        ByteBuffer b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
        int eocd = -1;
        for (int i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65535); i--) {
            if (b.getInt(i) == 0x06054b50) {
                eocd = i;
                break;
            }
        }
        if (eocd < 0) {
            throw invalid("Could not unzip uploaded file. Please check your file, then try to upload again. (no end of central directory)");
        }
        int count = Short.toUnsignedInt(b.getShort(eocd + 10));
        long cdOffset = Integer.toUnsignedLong(b.getInt(eocd + 16));
        if (count == 0xFFFF || cdOffset == 0xFFFFFFFFL) {
            throw invalid("ZIP64 archives are not supported; packages are at most 50 MB");
        }
        Map<String, Integer> modes = new HashMap<>();
        int p = (int) cdOffset;
        try {
            for (int i = 0; i < count; i++) {
                if (b.getInt(p) != 0x02014b50) {
                    throw invalid("Could not unzip uploaded file. Please check your file, then try to upload again. (bad central directory)");
                }
                int madeBy = Short.toUnsignedInt(b.getShort(p + 4)) >> 8;
                int nameLen = Short.toUnsignedInt(b.getShort(p + 28));
                int extraLen = Short.toUnsignedInt(b.getShort(p + 30));
                int commentLen = Short.toUnsignedInt(b.getShort(p + 32));
                int external = b.getInt(p + 38);
                String name = new String(zip, p + 46, nameLen, StandardCharsets.UTF_8);
                checkName(name);
                modes.put(name, madeBy == 3 ? (external >>> 16) : 0);
                p += 46 + nameLen + extraLen + commentLen;
            }
        } catch (IndexOutOfBoundsException e) {
            throw invalid("Could not unzip uploaded file. Please check your file, then try to upload again. (truncated central directory)");
        }
        return modes;
    }

    static LambdaException invalid(String message) {
        return new LambdaException(400, "InvalidParameterValueException", message);
    }

}

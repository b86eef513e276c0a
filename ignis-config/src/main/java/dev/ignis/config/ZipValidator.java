package dev.ignis.config;

import dev.ignis.common.LambdaException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Checks a deployment package on paper before anything is stored or unpacked: it must be a
 * readable zip; every entry name must be relative, without "..", at most {@value #MAX_NAME} bytes
 * (components at most 255) and listed once (after dropping "." and empty components); no entry may
 * lie below a symlink of the package or below a file; a symlink's target must stay inside the
 * package at every step and pass through no other symlink of the package; the unpacked size must
 * stay under 250 MB — counted while inflating, never trusted from headers.
 * {@link PackageUnpacker} does not rely on this: it refuses the same things again on disk.
 *
 * <p>The central directory is read by hand because the JDK's zip API does not expose the Unix
 * mode bits that mark an entry as a symlink.
 */
final class ZipValidator {
    static final long MAX_UNZIPPED = 250L * 1024 * 1024;
    static final int MAX_NAME = 2048;
    static final int MAX_LINK_TARGET = 4095;
    private static final int NAME_MAX = 255;
    private static final int S_IFMT = 0170000;
    private static final int S_IFLNK = 0120000;

    /** Entry name → Unix mode (0 when the archive has none) for every entry, after validation. */
    record Listing(Map<String, Integer> modes, long unzippedSize) {}

    private ZipValidator() {}

    static boolean isSymlink(int mode) {
        return (mode & S_IFMT) == S_IFLNK;
    }

    static Listing validate(byte[] zip) {
        Map<String, Integer> modes = centralDirectoryModes(zip);
        long total = 0;
        Set<String> seen = new HashSet<>();
        Set<List<String>> paths = new HashSet<>();
        Set<List<String>> links = new HashSet<>();
        Set<List<String>> files = new HashSet<>();
        Map<List<String>, String> targets = new HashMap<>();
        try (var in = new ZipInputStream(new java.io.ByteArrayInputStream(zip))) {
            ZipEntry e;
            byte[] buf = new byte[64 * 1024];
            while ((e = in.getNextEntry()) != null) {
                String name = e.getName();
                checkName(name);
                if (!modes.containsKey(name) || !seen.add(name)) {
                    throw invalid("Zip entry " + name + " is listed twice, or differs between the local headers and the central directory");
                }
                List<String> path = components(name);
                boolean symlink = isSymlink(modes.get(name));
                boolean directory = e.isDirectory() && !symlink;
                if (path.isEmpty() && directory) {
                    continue;
                }
                if (path.isEmpty() || !paths.add(path)) {
                    throw invalid("Zip entry " + name + " names the package root or a path named by another entry");
                }
                if (symlink) {
                    links.add(path);
                } else if (!directory) {
                    files.add(path);
                }
                var target = new java.io.ByteArrayOutputStream();
                int n;
                while ((n = in.read(buf)) > 0) {
                    total += n;
                    if (total > MAX_UNZIPPED) {
                        throw invalid("Unzipped size must be smaller than " + MAX_UNZIPPED + " bytes");
                    }
                    if (symlink) {
                        target.write(buf, 0, n);
                        if (target.size() > MAX_LINK_TARGET) {
                            throw invalid("Zip entry " + name + " is a symlink with a target longer than " + MAX_LINK_TARGET + " bytes");
                        }
                    }
                }
                if (symlink) {
                    targets.put(path, target.toString(StandardCharsets.UTF_8));
                }
            }
        } catch (LambdaException e) {
            throw e;
        } catch (IOException | IllegalArgumentException e) {
            throw invalid("Could not unzip uploaded file. Please check your file, then try to upload again. (" + e.getMessage() + ")");
        }
        if (seen.isEmpty() || seen.size() != modes.size()) {
            throw invalid("Could not unzip uploaded file. Please check your file, then try to upload again.");
        }
        for (List<String> path : paths) {
            for (int i = 1; i < path.size(); i++) {
                List<String> above = path.subList(0, i);
                if (links.contains(above) || files.contains(above)) {
                    throw invalid("Zip entry " + String.join("/", path) + " lies below " + String.join("/", above)
                            + ", which is a symlink or a file of the package");
                }
            }
        }
        targets.forEach((link, target) -> checkSymlink(link, target, links));
        return new Listing(modes, total);
    }

    static void checkName(String name) {
        if (name.isEmpty() || name.startsWith("/") || name.startsWith("\\") || name.contains("\\") || name.indexOf('\0') >= 0
                || (name.length() > 1 && name.charAt(1) == ':')) {
            throw invalid("Zip entry has an absolute or invalid path: " + name);
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME) {
            throw invalid("Zip entry name is longer than " + MAX_NAME + " bytes: " + name.substring(0, 64) + "...");
        }
        components(name);
    }

    /** The names an entry is made of, without "." and empty ones; ".." and names over 255 bytes are refused. */
    static List<String> components(String name) {
        List<String> out = new ArrayList<>();
        for (String c : name.split("/")) {
            if (c.equals("..")) {
                throw invalid("Zip entry has a '..' path component: " + name);
            }
            if (c.getBytes(StandardCharsets.UTF_8).length > NAME_MAX) {
                throw invalid("Zip entry has a path component longer than " + NAME_MAX + " bytes: " + name);
            }
            if (!c.isEmpty() && !c.equals(".")) {
                out.add(c);
            }
        }
        return out;
    }

    /** Walks the target one name at a time from the link's directory: never above the root, never through a link. */
    private static void checkSymlink(List<String> link, String target, Set<List<String>> links) {
        String name = String.join("/", link);
        if (target.isEmpty() || target.startsWith("/") || target.indexOf('\0') >= 0) {
            throw invalid("Zip entry " + name + " is a symlink to an absolute or invalid path: " + target);
        }
        List<String> at = new ArrayList<>(link.subList(0, link.size() - 1));
        for (String c : target.split("/")) {
            if (c.isEmpty() || c.equals(".")) {
                continue;
            }
            if (c.equals("..")) {
                if (at.isEmpty()) {
                    throw invalid("Zip entry " + name + " is a symlink out of the package root: " + target);
                }
                at.removeLast();
                continue;
            }
            at.add(c);
            if (links.contains(at)) {
                throw invalid("Zip entry " + name + " is a symlink whose target " + target + " passes through another symlink of the package, "
                        + String.join("/", at));
            }
        }
    }

    /** Parses the central directory: name → Unix mode. Rejects archives without a readable one. */
    static Map<String, Integer> centralDirectoryModes(byte[] zip) {
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
                if (modes.put(name, madeBy == 3 ? (external >>> 16) : 0) != null) {
                    throw invalid("Zip entry " + name + " is listed twice");
                }
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

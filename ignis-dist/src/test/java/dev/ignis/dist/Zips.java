package dev.ignis.dist;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.util.Map;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Deployment packages for tests, good and hostile. Entries carry a fixed time: the same files make
 * the same bytes (and CodeSha256) whenever they are zipped — with the clock's time, two zips built
 * across a 2-second boundary (the zip format's resolution) differed.
 */
final class Zips {
    private static final LocalDateTime FIXED = LocalDateTime.of(2020, 1, 1, 0, 0);

    private Zips() {}

    private static ZipEntry entry(String name) {
        ZipEntry e = new ZipEntry(name);
        e.setTimeLocal(FIXED);
        return e;
    }

    static byte[] of(Map<String, String> files) {
        var bytes = new ByteArrayOutputStream();
        try (var z = new ZipOutputStream(bytes)) {
            for (var f : files.entrySet()) {
                z.putNextEntry(entry(f.getKey()));
                z.write(f.getValue().getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static byte[] python(String body) {
        return of(Map.of("app.py", body));
    }

    /** A zip whose only entry has the given raw bytes (e.g. n zero bytes for a zip bomb). */
    static byte[] withEntry(String name, byte[] data, int level) {
        var bytes = new ByteArrayOutputStream();
        try (var z = new ZipOutputStream(bytes)) {
            z.setLevel(level);
            z.putNextEntry(entry(name));
            z.write(data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** A zip with one symlink entry (Unix mode 0120777) pointing at target. */
    static byte[] symlink(String name, String target) {
        var entries = new java.util.LinkedHashMap<String, String>();
        entries.put("app.py", "x = 1\n");
        entries.put(name, target);
        return withLinks(entries, java.util.Set.of(name));
    }

    /** A zip of the entries in their order (name to content); those named in links are symlinks to their content. */
    static byte[] withLinks(java.util.SequencedMap<String, String> entries, java.util.Set<String> links) {
        byte[] zip = of(entries);
        ByteBuffer b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
        for (int p = 0; p < zip.length - 46; p++) {
            if (b.getInt(p) == 0x02014b50) {
                int nameLen = Short.toUnsignedInt(b.getShort(p + 28));
                String entry = new String(zip, p + 46, nameLen, StandardCharsets.UTF_8);
                if (links.contains(entry)) {
                    b.putShort(p + 4, (short) ((3 << 8) | 20));
                    b.putInt(p + 38, 0120777 << 16);
                }
            }
        }
        return zip;
    }
}

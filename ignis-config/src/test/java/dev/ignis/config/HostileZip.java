package dev.ignis.config;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Writes zip files byte by byte, so a test can build what {@code ZipOutputStream} refuses to: duplicate
 * names, names with NUL bytes, symlink entries (Unix mode in the central directory), lying sizes.
 */
final class HostileZip {
    private record Entry(byte[] name, byte[] data, int unixMode, boolean deflate, long declaredSize) {}

    private final List<Entry> entries = new ArrayList<>();

    HostileZip file(String name, String content) {
        return add(name, content.getBytes(StandardCharsets.UTF_8), 0100644, false);
    }

    HostileZip executable(String name, String content) {
        return add(name, content.getBytes(StandardCharsets.UTF_8), 0100755, false);
    }

    HostileZip dir(String name) {
        return add(name.endsWith("/") ? name : name + "/", new byte[0], 040755, false);
    }

    HostileZip symlink(String name, String target) {
        return add(name, target.getBytes(StandardCharsets.UTF_8), 0120777, false);
    }

    /** A deflated entry of {@code size} zero bytes (a zip bomb when large). */
    HostileZip zeros(String name, int size) {
        return add(name, new byte[size], 0100644, true);
    }

    /** A stored entry whose headers declare {@code declared} bytes while it holds {@code content}. */
    HostileZip lyingSize(String name, String content, long declared) {
        entries.add(new Entry(name.getBytes(StandardCharsets.UTF_8), content.getBytes(StandardCharsets.UTF_8), 0100644, false, declared));
        return this;
    }

    HostileZip rawName(byte[] name, String content) {
        byte[] data = content.getBytes(StandardCharsets.UTF_8);
        entries.add(new Entry(name, data, 0100644, false, data.length));
        return this;
    }

    private HostileZip add(String name, byte[] data, int mode, boolean deflate) {
        entries.add(new Entry(name.getBytes(StandardCharsets.UTF_8), data, mode, deflate, data.length));
        return this;
    }

    byte[] bytes() {
        var out = new ByteArrayOutputStream();
        var central = new ByteArrayOutputStream();
        for (Entry e : entries) {
            var crc = new CRC32();
            crc.update(e.data());
            byte[] body = e.deflate() ? deflate(e.data()) : e.data();
            int offset = out.size();
            int size = (int) e.declaredSize();
            out.writeBytes(header(0x04034b50, e, crc.getValue(), body.length, size, -1));
            out.writeBytes(body);
            central.writeBytes(header(0x02014b50, e, crc.getValue(), body.length, size, offset));
        }
        int cdOffset = out.size();
        byte[] cd = central.toByteArray();
        out.writeBytes(cd);
        ByteBuffer end = ByteBuffer.allocate(22).order(ByteOrder.LITTLE_ENDIAN);
        end.putInt(0x06054b50).putShort((short) 0).putShort((short) 0)
                .putShort((short) entries.size()).putShort((short) entries.size()).putInt(cd.length).putInt(cdOffset).putShort((short) 0);
        out.writeBytes(end.array());
        return out.toByteArray();
    }

    /** A local header (offset &lt; 0) or a central directory header. */
    private static byte[] header(int signature, Entry e, long crc, int compressed, int size, int offset) {
        boolean central = offset >= 0;
        ByteBuffer b = ByteBuffer.allocate((central ? 46 : 30) + e.name().length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(signature);
        if (central) {
            b.putShort((short) ((3 << 8) | 20)); // made by Unix
        }
        b.putShort((short) 20).putShort((short) 0).putShort((short) (e.deflate() ? 8 : 0))
                .putShort((short) 0).putShort((short) 0x5021)
                .putInt((int) crc).putInt(compressed).putInt(size)
                .putShort((short) e.name().length).putShort((short) 0);
        if (central) {
            b.putShort((short) 0).putShort((short) 0).putShort((short) 0).putInt(e.unixMode() << 16).putInt(offset);
        }
        b.put(e.name());
        return b.array();
    }

    private static byte[] deflate(byte[] data) {
        var d = new Deflater(9, true);
        d.setInput(data);
        d.finish();
        var out = new ByteArrayOutputStream();
        byte[] buf = new byte[64 * 1024];
        while (!d.finished()) {
            out.write(buf, 0, d.deflate(buf));
        }
        d.end();
        return out.toByteArray();
    }
}

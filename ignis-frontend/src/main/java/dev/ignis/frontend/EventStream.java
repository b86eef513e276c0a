package dev.ignis.frontend;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.ignis.common.Json;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * AWS's event-stream encoding ({@code application/vnd.amazon.eventstream}), as InvokeWithResponseStream answers in it:
 * each message is a prelude (total length, headers length, both big-endian 32-bit, and the CRC32 of those 8 bytes), the
 * headers (name length byte, name, value type 7 = string, 16-bit value length, value), the payload, and the CRC32 of
 * everything before it. Lambda's events are {@code PayloadChunk} (the function's bytes, {@code application/octet-stream})
 * and one final {@code InvokeComplete} (JSON {@code ErrorCode}, {@code ErrorDetails}, {@code LogResult}).
 */
final class EventStream {
    static final String CONTENT_TYPE = "application/vnd.amazon.eventstream";
    private static final byte STRING = 7;

    private EventStream() {}

    /** A {@code PayloadChunk} event carrying {@code len} bytes of {@code payload}. */
    static byte[] payloadChunk(byte[] payload, int off, int len) {
        return message(Map.of(":event-type", "PayloadChunk", ":content-type", "application/octet-stream", ":message-type", "event"),
                payload, off, len);
    }

    /** The final {@code InvokeComplete} event; null members are left out. */
    static byte[] invokeComplete(String errorCode, String errorDetails, String logResult) {
        Map<String, String> body = new LinkedHashMap<>();
        if (errorCode != null) {
            body.put("ErrorCode", errorCode);
        }
        if (errorDetails != null) {
            body.put("ErrorDetails", errorDetails);
        }
        if (logResult != null) {
            body.put("LogResult", logResult);
        }
        byte[] json;
        try {
            json = Json.mapper().writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        return message(Map.of(":event-type", "InvokeComplete", ":content-type", "application/json", ":message-type", "event"),
                json, 0, json.length);
    }

    static byte[] message(Map<String, String> headers, byte[] payload, int off, int len) {
        var h = new ByteArrayOutputStream(128);
        // a fixed order: the map's is not, and the bytes should not depend on it
        for (String name : new java.util.TreeSet<>(headers.keySet())) {
            byte[] n = name.getBytes(StandardCharsets.UTF_8);
            byte[] v = headers.get(name).getBytes(StandardCharsets.UTF_8);
            h.write(n.length);
            h.writeBytes(n);
            h.write(STRING);
            h.write((v.length >>> 8) & 0xff);
            h.write(v.length & 0xff);
            h.writeBytes(v);
        }
        byte[] hb = h.toByteArray();
        int total = 12 + hb.length + len + 4;
        ByteBuffer b = ByteBuffer.allocate(total);
        b.putInt(total).putInt(hb.length);
        b.putInt((int) crc(b.array(), 0, 8));
        b.put(hb).put(payload, off, len);
        b.putInt((int) crc(b.array(), 0, total - 4));
        return b.array();
    }

    private static long crc(byte[] b, int off, int len) {
        CRC32 c = new CRC32();
        c.update(b, off, len);
        return c.getValue();
    }
}

package dev.ignis.chunk;

import com.google.crypto.tink.Mac;
import dev.ignis.chunk.crypto.Hashes;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * Binary manifest encoding: {@code body || HMAC-SHA256(body)}. The MAC key belongs to the
 * deployment, so an origin (or anyone who can write to it) cannot forge or reorder a manifest;
 * the manifest id is the SHA-256 of the whole encoding, so a manifest cannot be swapped for another.
 */
final class ManifestCodec {
    private static final int MAGIC = 0x49474d31; // "IGM1"
    private static final int TAG_LEN = 32;
    private static final int MAX_CHUNKS = 1 << 24;

    private final Mac mac;

    ManifestCodec(Mac mac) {
        this.mac = mac;
    }

    byte[] encode(Manifest m) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + m.chunks().size() * 96);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeInt(MAGIC);
            out.writeByte(m.layer().ordinal());
            out.writeUTF(m.owner().account());
            out.writeUTF(m.owner().function());
            out.writeLong(m.size());
            out.writeInt(m.chunkSize());
            writeBytes(out, m.wrappedKey());
            out.writeInt(m.chunks().size());
            for (ChunkRef c : m.chunks()) {
                out.writeBoolean(!c.isZero());
                if (!c.isZero()) {
                    out.write(c.id().bytes());
                }
                out.writeInt(c.plainLength());
                writeBytes(out, c.keyMaterial());
            }
            out.flush();
            byte[] body = bytes.toByteArray();
            byte[] tag = mac.computeMac(body);
            byte[] all = Arrays.copyOf(body, body.length + tag.length);
            System.arraycopy(tag, 0, all, body.length, tag.length);
            return all;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("manifest MAC failed", e);
        }
    }

    static ManifestId idOf(byte[] encoded) {
        return new ManifestId(HexFormat.of().formatHex(Hashes.sha256(encoded)));
    }

    /** Verifies name, MAC and structure; throws {@link ChunkIntegrityException} on any mismatch. */
    Manifest decode(ManifestId id, byte[] encoded) {
        if (!idOf(encoded).equals(id)) {
            throw new ChunkIntegrityException("manifest " + id + " does not hash to its name: altered or swapped");
        }
        if (encoded.length < TAG_LEN + 4) {
            throw new ChunkIntegrityException("manifest " + id + " is truncated");
        }
        byte[] body = Arrays.copyOf(encoded, encoded.length - TAG_LEN);
        byte[] tag = Arrays.copyOfRange(encoded, encoded.length - TAG_LEN, encoded.length);
        try {
            mac.verifyMac(tag, body);
        } catch (GeneralSecurityException e) {
            throw new ChunkIntegrityException("manifest " + id + " failed authentication (wrong deployment key or forged)", e);
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(body))) {
            if (in.readInt() != MAGIC) {
                throw new ChunkIntegrityException("manifest " + id + " has an unknown format");
            }
            Layer layer = Layer.values()[in.readUnsignedByte()];
            Owner owner = new Owner(in.readUTF(), in.readUTF());
            long size = in.readLong();
            int chunkSize = in.readInt();
            byte[] wrapped = readBytes(in);
            int n = in.readInt();
            if (n < 0 || n > MAX_CHUNKS) {
                throw new ChunkIntegrityException("manifest " + id + " lists an impossible chunk count " + n);
            }
            List<ChunkRef> chunks = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                ChunkId cid = null;
                if (in.readBoolean()) {
                    byte[] h = new byte[32];
                    in.readFully(h);
                    cid = new ChunkId(HexFormat.of().formatHex(h));
                }
                int len = in.readInt();
                byte[] km = readBytes(in);
                chunks.add(cid == null ? ChunkRef.zero(len) : new ChunkRef(cid, len, km));
            }
            return new Manifest(layer, owner, size, chunkSize, wrapped, chunks);
        } catch (IOException | RuntimeException e) {
            if (e instanceof ChunkIntegrityException c) {
                throw c;
            }
            throw new ChunkIntegrityException("manifest " + id + " is malformed: " + e.getMessage(), e);
        }
    }

    private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
        out.writeShort(b.length);
        out.write(b);
    }

    private static byte[] readBytes(DataInputStream in) throws IOException {
        byte[] b = new byte[in.readUnsignedShort()];
        in.readFully(b);
        return b;
    }
}

package dev.ignis.chunk;

import dev.ignis.chunk.crypto.Hashes;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** A chunk's name: the lowercase hex SHA-256 of its ciphertext. */
public record ChunkId(String hex) implements Comparable<ChunkId> {
    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");

    public ChunkId {
        if (hex == null || !HEX64.matcher(hex).matches()) {
            throw new IllegalArgumentException("not a chunk id (64 lowercase hex digits): " + hex);
        }
    }

    /** Names the given ciphertext. */
    public static ChunkId ofCiphertext(byte[] ciphertext) {
        return new ChunkId(HexFormat.of().formatHex(Hashes.sha256(ciphertext)));
    }

    /** True when {@code ciphertext} hashes to this name (a stored chunk has not been altered or swapped). */
    public boolean matches(byte[] ciphertext) {
        return hex.equals(HexFormat.of().formatHex(Hashes.sha256(ciphertext)));
    }

    public byte[] bytes() {
        return HexFormat.of().parseHex(hex);
    }

    @Override
    public int compareTo(ChunkId o) {
        return hex.compareTo(o.hex);
    }

    @Override
    public String toString() {
        return hex;
    }
}

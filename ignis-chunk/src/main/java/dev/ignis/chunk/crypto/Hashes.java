package dev.ignis.chunk.crypto;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** SHA-256 helpers shared by the chunk store (internal). */
public final class Hashes {
    private Hashes() {
    }

    public static MessageDigest sha256Digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from the JDK", e);
        }
    }

    public static byte[] sha256(byte[] data) {
        return sha256Digest().digest(data);
    }

    public static byte[] sha256(byte[] data, int off, int len) {
        MessageDigest md = sha256Digest();
        md.update(data, off, len);
        return md.digest();
    }
}

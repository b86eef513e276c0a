package dev.ignis.chunk.crypto;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import com.google.crypto.tink.aead.PredefinedAeadParameters;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;

/**
 * Envelope encryption for function layers: a fresh Tink AES-256-GCM data key per ingested function
 * layer, stored only wrapped by the owning account's key-encryption key (associated data = the
 * owner), so identical code from two accounts yields unrelated ciphertext and never dedupes.
 * Each chunk is sealed with its index as associated data, so chunks cannot be reordered.
 */
public final class FunctionKey {
    private final Aead dek;
    private final byte[] wrapped;

    private FunctionKey(Aead dek, byte[] wrapped) {
        this.dek = dek;
        this.wrapped = wrapped;
    }

    /** A new data key for one function layer, wrapped by {@code accountKek}. */
    public static FunctionKey generate(Aead accountKek, byte[] ownerBinding) throws GeneralSecurityException {
        KeysetHandle h = KeysetHandle.generateNew(PredefinedAeadParameters.AES256_GCM);
        byte[] wrapped = TinkProtoKeysetFormat.serializeEncryptedKeyset(h, accountKek, ownerBinding);
        return new FunctionKey(h.getPrimitive(RegistryConfiguration.get(), Aead.class), wrapped);
    }

    /** Unwraps a data key; fails if the account key or owner does not match. */
    public static FunctionKey unwrap(byte[] wrapped, Aead accountKek, byte[] ownerBinding) throws GeneralSecurityException {
        KeysetHandle h = TinkProtoKeysetFormat.parseEncryptedKeyset(wrapped, accountKek, ownerBinding);
        return new FunctionKey(h.getPrimitive(RegistryConfiguration.get(), Aead.class), wrapped.clone());
    }

    public byte[] wrapped() {
        return wrapped.clone();
    }

    public byte[] seal(byte[] plain, int off, int len, int chunkIndex) throws GeneralSecurityException {
        byte[] input = off == 0 && len == plain.length ? plain : java.util.Arrays.copyOfRange(plain, off, off + len);
        return dek.encrypt(input, indexAd(chunkIndex));
    }

    public byte[] open(byte[] ciphertext, int chunkIndex) throws GeneralSecurityException {
        return dek.decrypt(ciphertext, indexAd(chunkIndex));
    }

    private static byte[] indexAd(int chunkIndex) {
        return ByteBuffer.allocate(4).putInt(chunkIndex).array();
    }
}

package dev.ignis.chunk.crypto;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.Mac;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.aead.AeadConfig;
import com.google.crypto.tink.aead.AesGcmKey;
import com.google.crypto.tink.aead.AesGcmParameters;
import com.google.crypto.tink.mac.HmacKey;
import com.google.crypto.tink.mac.HmacParameters;
import com.google.crypto.tink.mac.MacConfig;
import com.google.crypto.tink.subtle.Hkdf;
import com.google.crypto.tink.util.SecretBytes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The deployment's secrets, all derived by HKDF from one 32-byte master secret: the convergent
 * salt (so an outsider cannot confirm a guessed plaintext chunk by hashing it), the manifest MAC
 * key, the shared key-encryption key that seals convergent key material inside manifests, and one
 * key-encryption key per account that wraps that account's function data keys.
 *
 * <p>Design note: deriving account keys from the master keeps the embedded deployment to a single
 * secret file; a production deployment would hold account keys in a KMS behind the same
 * {@link #accountKek(String)} method.
 */
public final class DeploymentKeys {
    static {
        try {
            AeadConfig.register();
            MacConfig.register();
        } catch (GeneralSecurityException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final byte[] master;
    private final byte[] convergentSalt;
    private final Mac manifestMac;
    private final Aead sharedKek;
    private final Map<String, Aead> accountKeks = new ConcurrentHashMap<>();

    private DeploymentKeys(byte[] master) throws GeneralSecurityException {
        if (master.length != 32) {
            throw new IllegalArgumentException("deployment master secret must be 32 bytes, got " + master.length);
        }
        this.master = master.clone();
        this.convergentSalt = derive("ignis-chunk/convergent-salt");
        this.manifestMac = hmac(derive("ignis-chunk/manifest-mac"));
        this.sharedKek = aesGcm(derive("ignis-chunk/shared-kek"));
    }

    /** Keys from an explicit master secret (tests, or a secret handed in by the operator). */
    public static DeploymentKeys fromMaster(byte[] master) {
        try {
            return new DeploymentKeys(master);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build deployment keys", e);
        }
    }

    /** A fresh random deployment (tests). */
    public static DeploymentKeys random() {
        byte[] m = new byte[32];
        new SecureRandom().nextBytes(m);
        return fromMaster(m);
    }

    /** Loads the master secret from {@code file}, creating it (mode 0600) on first use. */
    public static DeploymentKeys loadOrCreate(Path file) throws IOException {
        if (!Files.exists(file)) {
            Files.createDirectories(file.toAbsolutePath().getParent());
            byte[] m = new byte[32];
            new SecureRandom().nextBytes(m);
            try {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.write(file, m, StandardOpenOption.TRUNCATE_EXISTING);
            } catch (java.nio.file.FileAlreadyExistsException raced) {
                // another process created it first; read theirs below
            }
        }
        return fromMaster(Files.readAllBytes(file));
    }

    /** Salt mixed into every convergent key derivation. */
    public byte[] convergentSalt() {
        return convergentSalt.clone();
    }

    /** MAC that authenticates manifests and page access logs. */
    public Mac manifestMac() {
        return manifestMac;
    }

    /** Seals per-chunk convergent key material inside manifests. */
    public Aead sharedKek() {
        return sharedKek;
    }

    /** The key-encryption key of one account: wraps that account's function data keys. */
    public Aead accountKek(String account) {
        return accountKeks.computeIfAbsent(account, a -> {
            try {
                return aesGcm(derive("ignis-chunk/account-kek/" + a));
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("cannot derive key for account " + a, e);
            }
        });
    }

    private byte[] derive(String info) throws GeneralSecurityException {
        return Hkdf.computeHkdf("HMACSHA256", master, new byte[0], info.getBytes(StandardCharsets.UTF_8), 32);
    }

    static Aead aesGcm(byte[] raw) throws GeneralSecurityException {
        AesGcmParameters p = AesGcmParameters.builder().setKeySizeBytes(32).setIvSizeBytes(12).setTagSizeBytes(16)
                .setVariant(AesGcmParameters.Variant.NO_PREFIX).build();
        AesGcmKey key = AesGcmKey.builder().setParameters(p)
                .setKeyBytes(SecretBytes.copyFrom(raw, InsecureSecretKeyAccess.get())).build();
        return KeysetHandle.newBuilder().addEntry(KeysetHandle.importKey(key).withRandomId().makePrimary()).build()
                .getPrimitive(RegistryConfiguration.get(), Aead.class);
    }

    private static Mac hmac(byte[] raw) throws GeneralSecurityException {
        HmacParameters p = HmacParameters.builder().setKeySizeBytes(32).setTagSizeBytes(32)
                .setHashType(HmacParameters.HashType.SHA256).setVariant(HmacParameters.Variant.NO_PREFIX).build();
        HmacKey key = HmacKey.builder().setParameters(p)
                .setKeyBytes(SecretBytes.copyFrom(raw, InsecureSecretKeyAccess.get())).build();
        return KeysetHandle.newBuilder().addEntry(KeysetHandle.importKey(key).withRandomId().makePrimary()).build()
                .getPrimitive(RegistryConfiguration.get(), Mac.class);
    }
}

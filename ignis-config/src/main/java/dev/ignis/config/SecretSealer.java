package dev.ignis.config;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.TinkJsonProtoKeysetFormat;
import com.google.crypto.tink.aead.AeadConfig;
import com.google.crypto.tink.aead.PredefinedAeadParameters;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;

/**
 * Seals access-key secrets before they reach the journal, so neither the log, its snapshots nor
 * a copy of them reveals a secret. The master keyset lives in {@code master.keyset.json}
 * (mode 0600) in the data directory: secrets are as safe as that file. There is no KMS here.
 */
public final class SecretSealer {
    private final Aead aead;

    private SecretSealer(Aead aead) {
        this.aead = aead;
    }

    /** Opens the data directory's master key, creating it on first use. */
    public static SecretSealer open(Path dataDir) {
        try {
            AeadConfig.register();
            Path file = dataDir.resolve("master.keyset.json");
            KeysetHandle handle;
            if (Files.exists(file)) {
                handle = TinkJsonProtoKeysetFormat.parseKeyset(Files.readString(file), InsecureSecretKeyAccess.get());
            } else {
                Files.createDirectories(dataDir);
                handle = KeysetHandle.generateNew(PredefinedAeadParameters.AES256_GCM);
                String json = TinkJsonProtoKeysetFormat.serializeKeyset(handle, InsecureSecretKeyAccess.get());
                Path tmp = dataDir.resolve("master.keyset.json.tmp");
                Files.deleteIfExists(tmp);
                Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.writeString(tmp, json, StandardOpenOption.WRITE);
                Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
            return new SecretSealer(handle.getPrimitive(RegistryConfiguration.get(), Aead.class));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot open the master key in " + dataDir, e);
        }
    }

    public byte[] seal(String accessKeyId, String secret) {
        try {
            return aead.encrypt(secret.getBytes(StandardCharsets.UTF_8), accessKeyId.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public String unseal(AccessKey key) {
        try {
            return new String(aead.decrypt(key.sealedSecret(), key.accessKeyId().getBytes(StandardCharsets.UTF_8)),
                    StandardCharsets.UTF_8);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("secret of " + key.accessKeyId() + " does not open with this data directory's master key", e);
        }
    }
}

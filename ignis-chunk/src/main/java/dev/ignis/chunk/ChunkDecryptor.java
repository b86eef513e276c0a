package dev.ignis.chunk;

import dev.ignis.chunk.crypto.ConvergentCipher;
import dev.ignis.chunk.crypto.DeploymentKeys;
import dev.ignis.chunk.crypto.FunctionKey;
import java.security.GeneralSecurityException;

/** Turns one verified chunk ciphertext of a given manifest back into plaintext (package-private). */
final class ChunkDecryptor {
    private final Manifest manifest;
    private final DeploymentKeys keys;
    private final ConvergentCipher convergent;
    private final FunctionKey functionKey;

    ChunkDecryptor(Manifest manifest, DeploymentKeys keys) {
        this.manifest = manifest;
        this.keys = keys;
        this.convergent = new ConvergentCipher(keys.convergentSalt());
        if (manifest.layer().convergent()) {
            this.functionKey = null;
        } else {
            try {
                this.functionKey = FunctionKey.unwrap(manifest.wrappedKey(),
                        keys.accountKek(manifest.owner().account()), manifest.owner().bindingBytes());
            } catch (GeneralSecurityException e) {
                throw new ChunkIntegrityException("cannot unwrap the data key of " + manifest.owner()
                        + ": wrong account key or tampered manifest", e);
            }
        }
    }

    byte[] decrypt(int index, ChunkRef ref, byte[] ciphertext) {
        try {
            // A function layer's own chunks carry no key material; a chunk it shares with a base layer
            // (ChunkStore.ingestWithReport with bases) is that base's convergent chunk, opened as such.
            if (functionKey != null && ref.keyMaterial().length == 0) {
                return functionKey.open(ciphertext, index);
            }
            byte[] hash = keys.sharedKek().decrypt(ref.keyMaterial(), ref.id().bytes());
            return convergent.open(hash, ciphertext);
        } catch (GeneralSecurityException e) {
            throw new ChunkIntegrityException("chunk " + index + " (" + ref.id() + ") failed decryption/authentication", e);
        }
    }
}

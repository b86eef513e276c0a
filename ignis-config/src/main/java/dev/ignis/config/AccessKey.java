package dev.ignis.config;

import java.time.Instant;

/**
 * An access key of an account. The secret is kept only sealed (AEAD under the data directory's
 * master key, with the access key id as associated data); see {@link SecretSealer}.
 */
public record AccessKey(String accessKeyId, String accountId, byte[] sealedSecret, Instant created) {}

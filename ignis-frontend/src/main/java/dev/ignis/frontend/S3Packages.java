package dev.ignis.frontend;

/**
 * The operator's S3-compatible store, as the frontend reads deployment packages and layer archives
 * from it ({@code Code.S3Bucket}/{@code S3Key}/{@code S3ObjectVersion}); wired in ignis-dist on the
 * AWS SDK's S3 client. Buckets and keys are the tenant's; the endpoint and credentials are the
 * operator's, so a tenant can read only what that store lets Ignis read.
 */
public interface S3Packages {
    /** The largest object taken: Lambda's 50 MB zipped limit, which {@code CodeStore} holds every package to. */
    long MAX_OBJECT_BYTES = dev.ignis.config.CodeStore.MAX_ZIPPED;

    /**
     * The object's bytes, at most {@code maxBytes} (refused with an AWS-shaped error beyond, before it
     * is read whole); a missing bucket, key or version, or a refusal of the store, is an
     * InvalidParameterValueException naming the S3 error code, as Lambda answers.
     */
    byte[] get(String bucket, String key, String versionId, long maxBytes);
}

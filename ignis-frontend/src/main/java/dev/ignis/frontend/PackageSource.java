package dev.ignis.frontend;

import dev.ignis.common.LambdaException;
import java.util.regex.Pattern;

/**
 * Where a deployment package or layer archive comes from: inline ({@code ZipFile}, base64 in the
 * request) or an object of an S3-compatible store the operator configured ({@code S3Bucket},
 * {@code S3Key}, optional {@code S3ObjectVersion}). Without a configured store an S3 location is
 * refused, saying how to configure one; nothing is ever fetched from an address the tenant chose.
 */
final class PackageSource {
    private static final Pattern BUCKET = Pattern.compile("[0-9A-Za-z.\\-_]{3,63}(?<!\\.)");

    private final S3Packages s3;
    private final long maxBytes;

    /** @param s3 the configured store, or null when none is configured */
    PackageSource(S3Packages s3, long maxBytes) {
        this.s3 = s3;
        this.maxBytes = maxBytes;
    }

    /**
     * The archive a request names under {@code prefix} ({@code "Code."}, {@code "Content."} or
     * {@code ""}): its ZipFile, or its S3 object. Null when it names neither.
     */
    byte[] zip(RequestBody b, String prefix) {
        byte[] inline = b.base64(prefix + "ZipFile");
        String bucket = b.text(prefix + "S3Bucket");
        String key = b.text(prefix + "S3Key");
        String version = b.text(prefix + "S3ObjectVersion");
        if (bucket == null && key == null && version == null) {
            return inline;
        }
        if (inline != null) {
            throw LambdaException.invalidParameter("Please do not provide other " + prefix + "* parameters when providing a "
                    + prefix + "ZipFile: give either the archive or its S3 location.");
        }
        if (bucket == null || key == null) {
            throw LambdaException.invalidParameter(prefix + "S3Bucket and " + prefix + "S3Key are both required for an archive in S3.");
        }
        if (!BUCKET.matcher(bucket).matches()) {
            throw new LambdaException(400, "ValidationException", "1 validation error detected: Value '" + bucket + "' at '"
                    + prefix + "S3Bucket' failed to satisfy constraint: Member must satisfy regular expression pattern: "
                    + BUCKET.pattern() + " and have length 3 to 63");
        }
        if (key.isEmpty() || key.length() > 1024 || (version != null && (version.isEmpty() || version.length() > 1024))) {
            throw new LambdaException(400, "ValidationException", "1 validation error detected: " + prefix
                    + "S3Key and " + prefix + "S3ObjectVersion must have length 1 to 1024");
        }
        if (s3 == null) {
            throw LambdaException.invalidParameter("Code from S3 is not configured on this Ignis installation: the operator starts "
                    + "`ignis serve --s3-endpoint URL` (an S3-compatible store such as MinIO; credentials in IGNIS_S3_ACCESS_KEY_ID and "
                    + "IGNIS_S3_SECRET_ACCESS_KEY). Until then send the archive inline as " + prefix + "ZipFile.");
        }
        return s3.get(bucket, key, version, maxBytes);
    }
}

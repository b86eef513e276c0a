package dev.ignis.chunk.origin;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Object;

/** Origin on the S3 API (AWS SDK for Java v2); works with any S3-compatible server. */
public final class S3Origin implements Origin {
    private final S3Client s3;
    private final String bucket;
    private final String prefix;

    /**
     * @param s3     a configured client (the caller owns its lifecycle unless {@link #close()} is used)
     * @param bucket existing bucket
     * @param prefix key prefix inside the bucket, e.g. {@code "ignis/"} (may be empty)
     */
    public S3Origin(S3Client s3, String bucket, String prefix) {
        this.s3 = s3;
        this.bucket = bucket;
        this.prefix = prefix;
    }

    @Override
    public void put(String key, byte[] value) {
        s3.putObject(PutObjectRequest.builder().bucket(bucket).key(prefix + key).build(), RequestBody.fromBytes(value));
    }

    @Override
    public Optional<byte[]> get(String key) {
        try {
            return Optional.of(s3.getObjectAsBytes(GetObjectRequest.builder().bucket(bucket).key(prefix + key).build())
                    .asByteArray());
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        }
    }

    @Override
    public boolean exists(String key) {
        try {
            s3.headObject(HeadObjectRequest.builder().bucket(bucket).key(prefix + key).build());
            return true;
        } catch (NoSuchKeyException e) {
            return false;
        } catch (software.amazon.awssdk.services.s3.model.S3Exception e) {
            if (e.statusCode() == 404) {
                return false;
            }
            throw e;
        }
    }

    @Override
    public void delete(String key) {
        s3.deleteObject(DeleteObjectRequest.builder().bucket(bucket).key(prefix + key).build());
    }

    @Override
    public List<Entry> list(String keyPrefix) {
        List<Entry> out = new ArrayList<>();
        for (S3Object o : s3.listObjectsV2Paginator(ListObjectsV2Request.builder().bucket(bucket)
                .prefix(prefix + keyPrefix).build()).contents()) {
            out.add(new Entry(o.key().substring(prefix.length()), o.lastModified()));
        }
        return out;
    }

    @Override
    public void close() {
        s3.close();
    }
}

package dev.ignis.dist;

import dev.ignis.common.LambdaException;
import dev.ignis.frontend.S3Packages;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The operator's S3-compatible store (MinIO, Ceph, S3 itself, ...) that deployment packages and
 * layer archives may come from: {@code ignis serve --s3-endpoint URL}, credentials in
 * {@code IGNIS_S3_ACCESS_KEY_ID} / {@code IGNIS_S3_SECRET_ACCESS_KEY}, region {@code IGNIS_S3_REGION}
 * (default us-east-1), path-style addressing. AWS SDK v2's S3 client. An object is read at most
 * {@code maxBytes} + 1 bytes far, whatever its headers say.
 */
public final class S3PackageStore implements S3Packages, AutoCloseable {

    /** Where the store is and how Ignis signs in to it. */
    public record Settings(URI endpoint, String region, String accessKeyId, String secretAccessKey) {
        public Settings {
            if (endpoint == null || endpoint.getScheme() == null || !endpoint.getScheme().matches("https?") || endpoint.getHost() == null) {
                throw new IllegalArgumentException("the S3 endpoint must be an http(s) URL such as http://127.0.0.1:9000, not " + endpoint);
            }
            if (accessKeyId == null || accessKeyId.isBlank() || secretAccessKey == null || secretAccessKey.isBlank()) {
                throw new IllegalArgumentException("the S3 store needs credentials: set IGNIS_S3_ACCESS_KEY_ID and IGNIS_S3_SECRET_ACCESS_KEY");
            }
        }

        @Override
        public String toString() {
            return "S3 store " + endpoint + " (" + region + ")"; // never the secret
        }

        /** From {@code --s3-endpoint} (or env IGNIS_S3_ENDPOINT) and the environment; null when no endpoint is given. */
        public static Settings fromEnvironment(String endpoint) {
            String e = endpoint != null ? endpoint : System.getenv("IGNIS_S3_ENDPOINT");
            if (e == null || e.isBlank()) {
                return null;
            }
            String region = System.getenv("IGNIS_S3_REGION");
            return new Settings(URI.create(e.trim()), region == null || region.isBlank() ? "us-east-1" : region.trim(),
                    System.getenv("IGNIS_S3_ACCESS_KEY_ID"), System.getenv("IGNIS_S3_SECRET_ACCESS_KEY"));
        }
    }

    private final S3Client s3;
    private final URI endpoint;

    public S3PackageStore(Settings settings) {
        this.endpoint = settings.endpoint();
        this.s3 = S3Client.builder().endpointOverride(settings.endpoint()).region(Region.of(settings.region())).forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(settings.accessKeyId(), settings.secretAccessKey())))
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .httpClient(UrlConnectionHttpClient.builder().connectionTimeout(Duration.ofSeconds(5)).socketTimeout(Duration.ofSeconds(60))
                        .build())
                .build();
    }

    @Override
    public byte[] get(String bucket, String key, String versionId, long maxBytes) {
        var request = GetObjectRequest.builder().bucket(bucket).key(key).versionId(versionId).build();
        try (var in = s3.getObject(request)) {
            Long length = in.response().contentLength();
            if (length != null && length > maxBytes) {
                throw tooLarge(length, maxBytes);
            }
            byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
            if (bytes.length > maxBytes) {
                throw tooLarge(bytes.length, maxBytes); // the store said less than it sent
            }
            return bytes;
        } catch (S3Exception e) {
            String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
            String message = e.awsErrorDetails() == null ? e.getMessage() : e.awsErrorDetails().errorMessage();
            throw LambdaException.invalidParameter("Error occurred while GetObject. S3 Error Code: " + (code == null ? e.statusCode() : code)
                    + ". S3 Error Message: " + message);
        } catch (SdkClientException | IOException e) {
            throw LambdaException.service("The S3 store at " + endpoint + " could not be read: " + e.getMessage());
        }
    }

    private static LambdaException tooLarge(long size, long max) {
        return LambdaException.invalidParameter("The S3 object is " + size + " bytes; Ignis takes deployment packages and layer archives of "
                + "at most " + max + " bytes (zipped) from S3.");
    }

    @Override
    public void close() {
        s3.close();
    }
}

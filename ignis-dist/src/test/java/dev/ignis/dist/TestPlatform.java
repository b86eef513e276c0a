package dev.ignis.dist;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;

/** Starts a real single-node platform on a free port in a temporary data directory. */
final class TestPlatform {
    static final String ROLE = "arn:aws:iam::123456789012:role/lambda-role";

    private TestPlatform() {}

    static Platform start(Path dataDir) {
        return start(dataDir, Duration.ofMinutes(5));
    }

    static Platform start(Path dataDir, Duration keepAlive) {
        return Platform.start(config(dataDir, keepAlive));
    }

    static PlatformConfig config(Path dataDir, Duration keepAlive) {
        return new PlatformConfig(dataDir, "127.0.0.1", 0, keepAlive, PlatformConfig.workerIdFor(dataDir), RUNTIME_HOME);
    }

    /** One runtime installation per checkout (its class-data archives take a while to train). */
    static final Path RUNTIME_HOME = Path.of("target/runtime-home").toAbsolutePath();

    /**
     * An SDK client with retries off: a 5xx or 429 the platform answers reaches the test instead of being
     * retried away (issue 24). A test about retries builds its own.
     */
    static LambdaClient client(int port, String accessKeyId, String secret) {
        return LambdaClient.builder()
                .endpointOverride(URI.create("http://127.0.0.1:" + port))
                .region(Region.US_EAST_1)
                .httpClient(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofSeconds(60)).build())
                .overrideConfiguration(c -> c.retryStrategy(AwsRetryStrategy.doNotRetry()).apiCallTimeout(Duration.ofSeconds(90)))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKeyId, secret)))
                .build();
    }
}

package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.config.ConfigStore;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.Runtime;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Code from S3 ({@code Code.S3Bucket/S3Key}, a layer's {@code Content.S3Bucket/S3Key}) read from the
 * operator's S3-compatible store: S3Proxy (org.gaul:s3proxy 2.7.0 from Maven Central, on a jclouds
 * filesystem blob store) started in this JVM on a free port, signing with its own keys. A missing
 * object or bucket, an object over the 50 MB zipped limit and an object that is no zip each get
 * Lambda's error and leave the journal where it was.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class S3CodeIT {
    @TempDir static Path dir;
    @TempDir static Path blobsDir;
    S3Proxy proxy;
    BlobStoreContext blobs;
    S3Client s3;
    Platform platform;
    LambdaClient lambda;
    ConfigStore.IssuedKey key;

    @BeforeAll
    void start() throws Exception {
        Path store = Files.createDirectories(blobsDir.resolve("blobs"));
        Properties p = new Properties();
        p.setProperty("jclouds.filesystem.basedir", store.toString());
        blobs = ContextBuilder.newBuilder("filesystem").credentials("ignored", "ignored").overrides(p).build(BlobStoreContext.class);
        proxy = S3Proxy.builder().blobStore(blobs.getBlobStore()).endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, "store-access", "store-secret").build();
        proxy.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!"STARTED".equals(proxy.getState())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("s3proxy did not start: " + proxy.getState());
            }
            Thread.sleep(10);
        }
        URI endpoint = URI.create("http://127.0.0.1:" + proxy.getPort());
        s3 = S3Client.builder().endpointOverride(endpoint).region(Region.US_EAST_1).forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("store-access", "store-secret")))
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .httpClient(UrlConnectionHttpClient.create()).build();
        s3.createBucket(b -> b.bucket("deploy"));
        platform = Platform.start(TestPlatform.config(dir, Duration.ofMinutes(5))
                .withS3(new S3PackageStore.Settings(endpoint, "us-east-1", "store-access", "store-secret")));
        key = platform.config().createAccount("alice");
        lambda = TestPlatform.client(platform.port(), key.accessKeyId(), key.secretAccessKey());
    }

    @AfterAll
    void stop() throws Exception {
        if (lambda != null) {
            lambda.close();
        }
        if (platform != null) {
            platform.close();
        }
        if (s3 != null) {
            s3.close();
        }
        if (proxy != null) {
            proxy.stop();
        }
        if (blobs != null) {
            blobs.close();
        }
    }

    void put(String objectKey, byte[] bytes) {
        s3.putObject(b -> b.bucket("deploy").key(objectKey), RequestBody.fromBytes(bytes));
    }

    LambdaException rejected(Consumer<LambdaClient> call, int status, String errorCode) {
        long index = platform.config().image().appliedIndex();
        var thrown = new LambdaException[1];
        assertThatThrownBy(() -> call.accept(lambda)).isInstanceOfSatisfying(LambdaException.class, e -> {
            assertThat(e.statusCode()).as("status of %s", e.getMessage()).isEqualTo(status);
            assertThat(e.awsErrorDetails().errorCode()).as(e.getMessage()).isEqualTo(errorCode);
            thrown[0] = e;
        });
        assertThat(platform.config().image().appliedIndex()).as("journal unchanged").isEqualTo(index);
        return thrown[0];
    }

    @Test
    void aFunctionIsCreatedAndUpdatedFromS3ObjectsAndALayerPublishedFromOne() {
        put("v1.zip", Zips.python("def handler(e, c):\n    return 'v1'\n"));
        put("v2.zip", Zips.python("import from_layer\ndef handler(e, c):\n    return 'v2 ' + from_layer.X\n"));
        put("layer.zip", Zips.of(Map.of("python/from_layer.py", "X = 'layer'\n")));
        var created = lambda.createFunction(b -> b.functionName("from-s3").runtime(Runtime.PYTHON3_11).handler("app.handler")
                .role(TestPlatform.ROLE).code(c -> c.s3Bucket("deploy").s3Key("v1.zip")));
        assertThat(created.codeSize()).isEqualTo(Zips.python("def handler(e, c):\n    return 'v1'\n").length);
        assertThat(lambda.invoke(b -> b.functionName("from-s3")).payload().asUtf8String()).isEqualTo("\"v1\"");

        var layer = lambda.publishLayerVersion(b -> b.layerName("s3-layer").content(c -> c.s3Bucket("deploy").s3Key("layer.zip")));
        lambda.updateFunctionConfiguration(b -> b.functionName("from-s3").layers(layer.layerVersionArn()));
        lambda.updateFunctionCode(b -> b.functionName("from-s3").s3Bucket("deploy").s3Key("v2.zip"));
        assertThat(lambda.invoke(b -> b.functionName("from-s3")).payload().asUtf8String()).isEqualTo("\"v2 layer\"");
    }

    @Test
    void missingOrOversizedOrBadObjectsAreRefusedAndChangeNothing() {
        put("plain.txt", "not a zip".getBytes());
        put("big.zip", new byte[(int) dev.ignis.config.CodeStore.MAX_ZIPPED + 1]);
        lambda.createFunction(b -> b.functionName("target").runtime(Runtime.PYTHON3_11).handler("app.handler")
                .role(TestPlatform.ROLE).code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.python("def handler(e, c):\n    return 1\n")))));

        var missing = rejected(c -> c.updateFunctionCode(b -> b.functionName("target").s3Bucket("deploy").s3Key("absent.zip")), 400,
                "InvalidParameterValueException");
        assertThat(missing.awsErrorDetails().errorMessage()).contains("S3 Error Code: NoSuchKey");
        var noBucket = rejected(c -> c.createFunction(b -> b.functionName("x").runtime(Runtime.PYTHON3_11).handler("app.handler")
                .role(TestPlatform.ROLE).code(k -> k.s3Bucket("no-such-bucket").s3Key("v1.zip"))), 400, "InvalidParameterValueException");
        assertThat(noBucket.awsErrorDetails().errorMessage()).contains("S3 Error Code: NoSuchBucket");
        var big = rejected(c -> c.updateFunctionCode(b -> b.functionName("target").s3Bucket("deploy").s3Key("big.zip")), 400,
                "InvalidParameterValueException");
        assertThat(big.awsErrorDetails().errorMessage()).contains("at most " + dev.ignis.config.CodeStore.MAX_ZIPPED + " bytes");
        rejected(c -> c.updateFunctionCode(b -> b.functionName("target").s3Bucket("deploy").s3Key("plain.txt")), 400,
                "InvalidParameterValueException");
        rejected(c -> c.publishLayerVersion(b -> b.layerName("bad").content(k -> k.s3Bucket("deploy").s3Key("absent.zip"))), 400,
                "InvalidParameterValueException");
        rejected(c -> c.updateFunctionCode(b -> b.functionName("target").s3Bucket("deploy")), 400, "InvalidParameterValueException");
        rejected(c -> c.updateFunctionCode(b -> b.functionName("target").s3Bucket("x").s3Key("k")), 400, "ValidationException");
        rejected(c -> c.updateFunctionCode(b -> b.functionName("target").s3Bucket("deploy").s3Key("v1.zip")
                .zipFile(SdkBytes.fromByteArray(Zips.python("x = 1\n")))), 400, "InvalidParameterValueException");
        // the function is not fetched for: 404 first
        rejected(c -> c.updateFunctionCode(b -> b.functionName("absent").s3Bucket("deploy").s3Key("v1.zip")), 404,
                "ResourceNotFoundException");
        assertThat(lambda.invoke(b -> b.functionName("target")).payload().asUtf8String()).isEqualTo("1");
    }
}

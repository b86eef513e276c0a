package dev.ignis.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.config.CodeStore;
import dev.ignis.config.ConfigStore;
import dev.ignis.config.SecretSealer;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;
import software.amazon.awssdk.services.lambda.model.Runtime;

class ControlPlaneApiTest {
    @TempDir Path dir;
    ConfigStore config;
    DirectJournal journal;
    FrontendServer server;
    ConfigStore.IssuedKey key;

    @BeforeEach
    void start() {
        config = new ConfigStore(sm -> journal = new DirectJournal(sm), new CodeStore(dir), SecretSealer.open(dir), Set.of("python3.11", "provided.al2023"), Clock.systemUTC());
        key = config.createAccount("test");
        var verifier = new SigV4Verifier(id -> config.image().key(id)
                .map(k -> new SigV4Verifier.Caller(k.accountId(), k.accessKeyId(), config.secret(k).orElseThrow())), Clock.systemUTC());
        var api = new LambdaApi(verifier, config, new byte[32], Clock.systemUTC(), (c, n, r, id) -> ApiResponse.empty(501), null, null);
        server = new FrontendServer("127.0.0.1", 0, api);
    }

    @AfterEach
    void stop() {
        server.close();
        config.close();
    }

    LambdaClient client(String id, String secret) {
        return LambdaClient.builder().endpointOverride(URI.create("http://127.0.0.1:" + server.port()))
                .region(Region.US_EAST_1).httpClient(UrlConnectionHttpClient.create())
                // no SDK retries: a 5xx or 429 reaches the test
                .overrideConfiguration(c -> c.retryStrategy(software.amazon.awssdk.awscore.retry.AwsRetryStrategy.doNotRetry()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(id, secret))).build();
    }

    static byte[] zip(String name, String content) {
        var bytes = new ByteArrayOutputStream();
        try {
        try (var z = new ZipOutputStream(bytes)) {
            z.putNextEntry(new ZipEntry(name));
            z.write(content.getBytes());
        }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * A write refused because this member stopped leading changed nothing: it is a retryable 503 marked
     * for a cluster frontend to send again to the leader, not a 500 "internal failure" (ClusterIT once
     * failed its setup so, on an account created during the first election).
     */
    @Test
    void aWriteRefusedByAMemberThatStoppedLeadingIsRetryableAndChangesNothing() throws Exception {
        journal.notLeader = true;
        try (var lambda = client(key.accessKeyId(), key.secretAccessKey())) {
            assertThatThrownBy(() -> lambda.createFunction(b -> b.functionName("f1").runtime(Runtime.PYTHON3_11).handler("app.handler")
                    .role("arn:aws:iam::123456789012:role/x").code(c -> c.zipFile(SdkBytes.fromByteArray(zip("app.py", "x"))))))
                    .isInstanceOfSatisfying(software.amazon.awssdk.services.lambda.model.ServiceException.class, e -> {
                        assertThat(e.statusCode()).isEqualTo(503);
                        assertThat(e.awsErrorDetails().sdkHttpResponse().firstMatchingHeader(LambdaApi.RETRY_ELSEWHERE)).hasValue("true");
                    });
            journal.notLeader = false;
            assertThat(lambda.listFunctions().functions()).isEmpty();
        }
    }

    @Test
    void createGetAndSignatures() throws Exception {
        try (var lambda = client(key.accessKeyId(), key.secretAccessKey())) {
            var created = lambda.createFunction(b -> b.functionName("f1").runtime(Runtime.PYTHON3_11).handler("app.handler")
                    .role("arn:aws:iam::123456789012:role/x").code(c -> c.zipFile(SdkBytes.fromByteArray(zip("app.py", "def handler(e,c): return e")))));
            assertThat(created.functionArn()).isEqualTo("arn:aws:lambda:us-east-1:" + key.accountId() + ":function:f1");
            assertThat(lambda.getFunction(b -> b.functionName("f1")).configuration().codeSha256()).isEqualTo(created.codeSha256());
            assertThatThrownBy(() -> lambda.getFunction(b -> b.functionName("nope"))).isInstanceOf(ResourceNotFoundException.class);
        }
        try (var bad = client(key.accessKeyId(), "wrong-secret")) {
            assertThatThrownBy(() -> bad.listFunctions()).isInstanceOfSatisfying(LambdaException.class, e -> {
                assertThat(e.statusCode()).isEqualTo(403);
                assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InvalidSignatureException");
            });
        }
    }
}

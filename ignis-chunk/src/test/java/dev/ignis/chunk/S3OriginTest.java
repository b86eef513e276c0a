package dev.ignis.chunk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.chunk.crypto.DeploymentKeys;
import dev.ignis.chunk.origin.S3Origin;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/** The origin tier on the S3 API against S3Proxy (an S3-compatible server) running in this JVM. */
class S3OriginTest {
    @TempDir
    Path tmp;

    private S3Proxy proxy;
    private BlobStoreContext context;
    private S3Client s3;

    @BeforeEach
    void startS3() throws Exception {
        Properties p = new Properties();
        p.setProperty("jclouds.filesystem.basedir", tmp.resolve("blobs").toString());
        Files.createDirectories(tmp.resolve("blobs"));
        context = ContextBuilder.newBuilder("filesystem").credentials("ignored", "ignored").overrides(p)
                .build(BlobStoreContext.class);
        proxy = S3Proxy.builder().blobStore(context.getBlobStore()).endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, "test-access", "test-secret").build();
        proxy.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!"STARTED".equals(proxy.getState())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("s3proxy did not start: " + proxy.getState());
            }
            Thread.sleep(10);
        }
        s3 = S3Client.builder().endpointOverride(URI.create("http://127.0.0.1:" + proxy.getPort()))
                .region(Region.US_EAST_1).forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test-access", "test-secret")))
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .httpClient(UrlConnectionHttpClient.create()).build();
        s3.createBucket(b -> b.bucket("ignis-chunks"));
    }

    @AfterEach
    void stopS3() throws Exception {
        if (s3 != null) {
            s3.close();
        }
        if (proxy != null) {
            proxy.stop();
        }
        if (context != null) {
            context.close();
        }
    }

    @Test
    void ingestReadAndGcThroughAnS3Origin() throws Exception {
        Path a = TestFiles.random(tmp, "a", 3 * 512 * 1024 + 17, 21);
        Path b = TestFiles.random(tmp, "b", 2 * 512 * 1024, 22);
        DeploymentKeys keys = DeploymentKeys.random();
        S3Origin origin = new S3Origin(s3, "ignis-chunks", "test/");
        ManifestId ma;
        ManifestId mb;
        try (ChunkStore w1 = new ChunkStore(ChunkStoreConfig.defaults(tmp.resolve("w1")).withGcGrace(Duration.ZERO), origin,
                keys, new SimpleMeterRegistry())) {
            ma = w1.ingest(a, Layer.OS, Owner.SHARED);
            mb = w1.ingest(b, Layer.FUNCTION, Owner.ofArn("arn:aws:lambda:us-east-1:111111111111:function:f"));
            assertThat(origin.list("chunks/")).hasSize(6);
        }
        SimpleMeterRegistry reg = new SimpleMeterRegistry();
        try (ChunkStore w2 = new ChunkStore(ChunkStoreConfig.defaults(tmp.resolve("w2")).withGcGrace(Duration.ZERO), origin,
                keys, reg)) {
            try (ChunkedObjectReader r = w2.open(ma)) {
                assertThat(TestFiles.readAll(r)).isEqualTo(Files.readAllBytes(a));
            }
            assertThat(reg.get("ignis.chunk.tier.hits").tag("tier", "origin").counter().count()).isEqualTo(4);
            assertThat(w2.manifests()).containsExactlyInAnyOrder(ma, mb);
            origin.delete("manifests/" + mb.hex());
            GcReport gc = w2.gc();
            assertThat(gc.roots()).isEqualTo(1);
            assertThat(gc.deletedChunks()).isEqualTo(2);
            assertThat(origin.list("chunks/")).hasSize(4);
            try (ChunkedObjectReader r = w2.open(ma)) {
                assertThat(TestFiles.readAll(r)).isEqualTo(Files.readAllBytes(a));
            }
        }
    }
}

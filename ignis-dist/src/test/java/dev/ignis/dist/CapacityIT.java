package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.config.ConfigStore;
import dev.ignis.testfunctions.TestFunctions;
import dev.ignis.worker.WorkerCapacity;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.retry.RetryPolicy;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.TooManyRequestsException;

/**
 * A platform whose worker has room for one 128 MB sandbox: invokes that would need a second one are
 * refused with Lambda's 429, and the host's memory is never promised twice.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CapacityIT {
    @TempDir static Path dir;
    Platform platform;
    LambdaClient lambda;

    @BeforeAll
    void start() {
        platform = Platform.start(TestPlatform.config(dir, Duration.ofMinutes(5))
                .withWorkerCapacity(new WorkerCapacity(128, WorkerCapacity.ofHost().pids())));
        ConfigStore.IssuedKey key = platform.config().createAccount("alice");
        // no SDK retries: the test sees the first answer
        lambda = LambdaClient.builder().endpointOverride(URI.create("http://127.0.0.1:" + platform.port())).region(Region.US_EAST_1)
                .httpClient(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofSeconds(60)).build())
                .overrideConfiguration(c -> c.retryPolicy(RetryPolicy.none()).apiCallTimeout(Duration.ofSeconds(90)))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(key.accessKeyId(), key.secretAccessKey())))
                .build();
    }

    @AfterAll
    void stop() {
        lambda.close();
        platform.close();
    }

    InvokeResponse invoke(String name, String payload) {
        return lambda.invoke(b -> b.functionName(name).payload(SdkBytes.fromUtf8String(payload)));
    }

    void deploy(String name, int memory) {
        lambda.createFunction(b -> b.functionName(name).runtime("python3.11").handler("sleep.handler").role(TestPlatform.ROLE)
                .timeout(30).memorySize(memory).code(c -> c.zipFile(SdkBytes.fromByteArray(TestFunctions.zip("python-handlers")))));
    }

    @Test
    void anInvokeThatNeedsASandboxTheHostHasNoRoomForIsThrottled() throws Exception {
        deploy("hog", 128);
        deploy("big", 256);
        assertThat(invoke("hog", "{\"ms\":1}").functionError()).isNull(); // the one sandbox there is room for
        var busy = CompletableFuture.supplyAsync(() -> invoke("hog", "{\"ms\":6000}"));
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (platform.assignment().stats().busy() < 1 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(platform.assignment().stats().busy()).isEqualTo(1);
        long cold = platform.assignment().stats().coldStarts();

        for (String fn : new String[] {"hog", "big"}) {
            assertThatThrownBy(() -> invoke(fn, "{\"ms\":1}")).as(fn).isInstanceOfSatisfying(TooManyRequestsException.class, e -> {
                assertThat(e.statusCode()).isEqualTo(429);
                assertThat(e.reasonAsString()).isEqualTo("ConcurrentInvocationLimitExceeded");
                assertThat(e.getMessage()).contains("Rate Exceeded.");
            });
        }
        assertThat(platform.assignment().stats().coldStarts()).as("nothing was started for the refused invokes").isEqualTo(cold);

        assertThat(busy.get().functionError()).isNull();
        assertThat(invoke("hog", "{\"ms\":1}").functionError()).as("the sandbox is free again").isNull();
    }
}

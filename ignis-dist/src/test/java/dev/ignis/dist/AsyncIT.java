package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.testfunctions.TestFunctions;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import software.amazon.awssdk.services.lambda.model.RequestTooLargeException;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;

/** Event invokes and event-invoke configs through the AWS SDK against a real platform. */
class AsyncIT extends PlatformTestBase {
    @BeforeAll
    void setUp() {
        lambda.createFunction(b -> b.functionName("target").runtime("python3.11").handler("echo.handler").role(TestPlatform.ROLE)
                .timeout(30).code(c -> c.zipFile(SdkBytes.fromByteArray(TestFunctions.zip("python-handlers")))));
    }

    @Test
    void eventInvokeIsAcceptedThenRuns() throws Exception {
        long before = ((Number) platform.events().stats().get("succeeded")).longValue();
        var r = lambda.invoke(b -> b.functionName("target").invocationType(InvocationType.EVENT).payload(SdkBytes.fromUtf8String("{\"a\":1}")));
        assertThat(r.statusCode()).isEqualTo(202);
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        while (((Number) platform.events().stats().get("succeeded")).longValue() == before && Instant.now().isBefore(deadline)) {
            Thread.sleep(50);
        }
        assertThat(((Number) platform.events().stats().get("succeeded")).longValue()).isEqualTo(before + 1);
        assertThatThrownBy(() -> lambda.invoke(b -> b.functionName("target").invocationType(InvocationType.EVENT)
                .payload(SdkBytes.fromByteArray(new byte[1024 * 1024 + 10])))).isInstanceOf(RequestTooLargeException.class);
        assertThatThrownBy(() -> lambda.invoke(b -> b.functionName("missing").invocationType(InvocationType.EVENT)
                .payload(SdkBytes.fromUtf8String("{}")))).isInstanceOf(ResourceNotFoundException.class);
    }

    @Test
    void metricsAreServedToTheAdminTokenOnly() throws Exception {
        String token = java.nio.file.Files.readString(dir.resolve("admin.token")).trim();
        var uri = java.net.URI.create("http://127.0.0.1:" + platform.port() + "/ignis-admin/metrics");
        try (var http = java.net.http.HttpClient.newHttpClient()) {
            var ok = http.send(java.net.http.HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + token).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(ok.body()).contains("ignis_async_queue_depth", "ignis_async_oldest_event_age_seconds", "ignis_async_retries_total",
                    "ignis_async_dead_lettered_total", "ignis_sandboxes_cold_starts_total");
            var denied = http.send(java.net.http.HttpRequest.newBuilder(uri).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(denied.statusCode()).isEqualTo(403);
        }
    }

    @Test
    void eventInvokeConfigApi() {
        String dest = "arn:aws:lambda:us-east-1:" + key.accountId() + ":function:target";
        var put = lambda.putFunctionEventInvokeConfig(b -> b.functionName("target").maximumRetryAttempts(1).maximumEventAgeInSeconds(120)
                .destinationConfig(d -> d.onFailure(f -> f.destination(dest))));
        assertThat(put.maximumRetryAttempts()).isEqualTo(1);
        assertThat(put.functionArn()).endsWith(":function:target:$LATEST");
        var updated = lambda.updateFunctionEventInvokeConfig(b -> b.functionName("target").maximumEventAgeInSeconds(300));
        assertThat(updated.maximumRetryAttempts()).isEqualTo(1);
        assertThat(updated.maximumEventAgeInSeconds()).isEqualTo(300);
        assertThat(updated.destinationConfig().onFailure().destination()).isEqualTo(dest);
        assertThat(lambda.getFunctionEventInvokeConfig(b -> b.functionName("target")).maximumEventAgeInSeconds()).isEqualTo(300);
        assertThat(lambda.listFunctionEventInvokeConfigs(b -> b.functionName("target")).functionEventInvokeConfigs()).hasSize(1);
        assertThatThrownBy(() -> lambda.putFunctionEventInvokeConfig(b -> b.functionName("target").maximumRetryAttempts(3)))
                .isInstanceOf(software.amazon.awssdk.services.lambda.model.LambdaException.class);
        lambda.deleteFunctionEventInvokeConfig(b -> b.functionName("target"));
        assertThatThrownBy(() -> lambda.getFunctionEventInvokeConfig(b -> b.functionName("target")))
                .isInstanceOf(ResourceNotFoundException.class);
    }
}

package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaAsyncClient;
import software.amazon.awssdk.services.lambda.model.InvokeWithResponseStreamResponseHandler;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * Time to first byte of one function's answer, streamed (InvokeWithResponseStream: its first PayloadChunk) vs buffered
 * (Invoke: the whole response), interleaved, one client (the SDK's async client for both), warm sandboxes. The function
 * writes a first piece, works 200 ms, writes the rest. Run:
 * {@code ./mvnw -pl ignis-dist -am verify -Ddist.excludedGroups=none -Dtest=StreamingTtfbBenchmark -DskipITs -Dsurefire.failIfNoSpecifiedTests=false}
 */
@Tag("benchmark")
class StreamingTtfbBenchmark extends PlatformTestBase {
    private static final String FUNCTION = """
            export const handler = awslambda.streamifyResponse(async (event, stream) => {
              stream.write('head;');
              await new Promise((r) => setTimeout(r, 200));
              stream.write('rest;');
              stream.end();
            });
            """;

    @Test
    void timeToFirstByteStreamedVsBuffered() throws Exception {
        lambda.createFunction(b -> b.functionName("ttfb").runtime(Runtime.NODEJS20_X).handler("index.handler").role(TestPlatform.ROLE)
                .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of(Map.of("index.mjs", FUNCTION))))));
        try (var async = LambdaAsyncClient.builder().endpointOverride(URI.create("http://127.0.0.1:" + platform.port()))
                .region(Region.US_EAST_1).httpClientBuilder(NettyNioAsyncHttpClient.builder())
                .overrideConfiguration(c -> c.retryStrategy(AwsRetryStrategy.doNotRetry()).apiCallTimeout(Duration.ofSeconds(60)))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(key.accessKeyId(), key.secretAccessKey())))
                .build()) {
            List<Double> streamed = new ArrayList<>();
            List<Double> buffered = new ArrayList<>();
            for (int i = 0; i < 23; i++) {
                double s = streamedTtfb(async);
                double b = bufferedTtfb(async);
                if (i >= 3) { // the first rounds warm the sandbox, the JIT and the connections
                    streamed.add(s);
                    buffered.add(b);
                }
            }
            double ms = median(streamed);
            double mb = median(buffered);
            System.out.printf("TTFB streamed p50 %.1f ms, buffered p50 %.1f ms, ratio %.3f (n=%d each; streamed %s; buffered %s)%n",
                    ms, mb, ms / mb, streamed.size(), streamed, buffered);
            assertThat(ms).isLessThan(mb);
        }
    }

    private static double streamedTtfb(LambdaAsyncClient async) throws Exception {
        long start = System.nanoTime();
        var first = new CompletableFuture<Long>();
        var handler = InvokeWithResponseStreamResponseHandler.builder()
                .subscriber(InvokeWithResponseStreamResponseHandler.Visitor.builder()
                        .onPayloadChunk(c -> first.complete(System.nanoTime())).build())
                .build();
        async.invokeWithResponseStream(b -> b.functionName("ttfb"), handler).get(60, TimeUnit.SECONDS);
        return (first.get() - start) / 1e6;
    }

    private static double bufferedTtfb(LambdaAsyncClient async) throws Exception {
        long start = System.nanoTime();
        var r = async.invoke(b -> b.functionName("ttfb")).get(60, TimeUnit.SECONDS);
        assertThat(r.payload().asUtf8String()).isEqualTo("head;rest;");
        return (System.nanoTime() - start) / 1e6;
    }

    private static double median(List<Double> xs) {
        var s = new ArrayList<>(xs);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}

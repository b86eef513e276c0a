package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ignis.common.Json;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaAsyncClient;
import software.amazon.awssdk.services.lambda.model.FunctionUrlAuthType;
import software.amazon.awssdk.services.lambda.model.InvokeMode;
import software.amazon.awssdk.services.lambda.model.InvokeWithResponseStreamCompleteEvent;
import software.amazon.awssdk.services.lambda.model.InvokeWithResponseStreamRequest;
import software.amazon.awssdk.services.lambda.model.InvokeWithResponseStreamResponse;
import software.amazon.awssdk.services.lambda.model.InvokeWithResponseStreamResponseHandler;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.LogType;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * Response streaming end to end (issue 21): InvokeWithResponseStream through the AWS SDK's async client, the Node
 * runtime's {@code awslambda.streamifyResponse} / {@code HttpResponseStream.from}, a streaming function URL read with
 * {@code java.net.http}.
 */
class ResponseStreamingIT extends PlatformTestBase {
    /** A streaming handler whose behaviour the event (or a URL request's body) picks. Each write reports when the function made it (Date.now()). */
    private static final String STREAMER = """
            const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
            const write = (s, data) => new Promise((resolve) => { if (s.write(data)) resolve(); else s.once('drain', resolve); });
            export const handler = awslambda.streamifyResponse(async (input, stream, context) => {
              const event = input.requestContext ? JSON.parse(input.body) : input; // a function URL's event carries it as its body
              if (event.mode === 'paced') {
                stream.setContentType('text/plain');
                await write(stream, 'first@' + Date.now() + ';');
                await sleep(1500);
                await write(stream, 'second@' + Date.now() + ';');
              } else if (event.mode === 'big') {
                const piece = Buffer.alloc(64 * 1024, 120);
                for (let sent = 0; sent < 30 * 1024 * 1024; sent += piece.length) await write(stream, piece);
              } else if (event.mode === 'fail') {
                await write(stream, 'partial');
                await sleep(100);
                throw new Error('boom mid-stream');
              } else if (event.mode === 'hang') {
                await write(stream, 'started');
                await sleep(600000);
              } else if (event.mode === 'http') {
                stream = awslambda.HttpResponseStream.from(stream, {
                  statusCode: 201, headers: { 'content-type': 'text/plain', 'x-streamed': 'yes' }, cookies: ['flavour=oat'] });
                await write(stream, 'hello@' + Date.now() + ';');
                await sleep(1500);
                await write(stream, 'world@' + Date.now() + ';');
              }
              stream.end();
            });
            """;

    private LambdaAsyncClient async;
    private HttpClient http;

    @BeforeAll
    void setUp() {
        async = LambdaAsyncClient.builder()
                .endpointOverride(URI.create("http://127.0.0.1:" + platform.port()))
                .region(Region.US_EAST_1)
                .httpClientBuilder(NettyNioAsyncHttpClient.builder().readTimeout(Duration.ofSeconds(60)))
                .overrideConfiguration(c -> c.retryStrategy(AwsRetryStrategy.doNotRetry()).apiCallTimeout(Duration.ofSeconds(120)))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(key.accessKeyId(), key.secretAccessKey())))
                .build();
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        lambda.createFunction(b -> b.functionName("streamer").runtime(Runtime.NODEJS20_X).handler("index.handler").role(TestPlatform.ROLE)
                .timeout(60).memorySize(256)
                .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of(Map.of("index.mjs", STREAMER))))));
        lambda.createFunction(b -> b.functionName("streamer-short").runtime(Runtime.NODEJS20_X).handler("index.handler")
                .role(TestPlatform.ROLE).timeout(2).memorySize(256)
                .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of(Map.of("index.mjs", STREAMER))))));
        lambda.createFunction(b -> b.functionName("buffered").runtime(Runtime.PYTHON3_11).handler("app.handler").role(TestPlatform.ROLE)
                .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.python(
                        "def handler(e, c):\n    print('buffered says hi')\n    return {'whole': e}\n")))));
    }

    @AfterAll
    void tearDown() {
        if (async != null) {
            async.close();
        }
        if (http != null) {
            http.close();
        }
    }

    /** What one InvokeWithResponseStream call received: each chunk with the time it arrived, and the final event. */
    record Received(InvokeWithResponseStreamResponse response, List<byte[]> chunks, List<Long> arrivals,
                    InvokeWithResponseStreamCompleteEvent complete) {
        String text() {
            var sb = new StringBuilder();
            chunks.forEach(c -> sb.append(new String(c, StandardCharsets.UTF_8)));
            return sb.toString();
        }
    }

    Received invokeStreaming(InvokeWithResponseStreamRequest request) throws Exception {
        var chunks = new CopyOnWriteArrayList<byte[]>();
        var arrivals = new CopyOnWriteArrayList<Long>();
        var complete = new AtomicReference<InvokeWithResponseStreamCompleteEvent>();
        var response = new AtomicReference<InvokeWithResponseStreamResponse>();
        var handler = InvokeWithResponseStreamResponseHandler.builder()
                .onResponse(response::set)
                .subscriber(InvokeWithResponseStreamResponseHandler.Visitor.builder()
                        .onPayloadChunk(c -> {
                            arrivals.add(System.currentTimeMillis());
                            chunks.add(c.payload().asByteArray());
                        })
                        .onInvokeComplete(complete::set)
                        .build())
                .build();
        async.invokeWithResponseStream(request, handler).get(120, TimeUnit.SECONDS);
        return new Received(response.get(), chunks, arrivals, complete.get());
    }

    private static SdkBytes event(String mode) {
        return SdkBytes.fromUtf8String("{\"mode\":\"" + mode + "\"}");
    }

    @Test
    void theFirstChunkArrivesBeforeTheFunctionWritesItsSecond() throws Exception {
        var r = invokeStreaming(InvokeWithResponseStreamRequest.builder().functionName("streamer").payload(event("paced")).build());
        assertThat(r.response().statusCode()).isEqualTo(200);
        assertThat(r.response().executedVersion()).isEqualTo("$LATEST");
        assertThat(r.response().responseStreamContentType()).isEqualTo("application/vnd.amazon.eventstream");
        assertThat(r.complete()).isNotNull();
        assertThat(r.complete().errorCode()).isNull();
        assertThat(r.chunks()).hasSizeGreaterThanOrEqualTo(2);
        String text = r.text();
        assertThat(text).matches("first@\\d+;second@\\d+;");
        long secondWritten = Long.parseLong(text.replaceAll(".*second@(\\d+);", "$1"));
        // the client held the first chunk before the function had even written its second (same host clock)
        assertThat(r.arrivals().getFirst()).as("first chunk received vs second chunk written").isLessThan(secondWritten);
    }

    @Test
    void aMidStreamErrorIsTheInvokeCompleteEventsError() throws Exception {
        var r = invokeStreaming(InvokeWithResponseStreamRequest.builder().functionName("streamer").payload(event("fail"))
                .logType(LogType.TAIL).build());
        assertThat(r.response().statusCode()).isEqualTo(200);
        assertThat(r.text()).isEqualTo("partial");
        assertThat(r.complete().errorCode()).isEqualTo("Error");
        assertThat(r.complete().errorDetails()).isEqualTo("boom mid-stream");
        String log = new String(Base64.getDecoder().decode(r.complete().logResult()), StandardCharsets.UTF_8);
        assertThat(log).contains("boom mid-stream").contains("REPORT RequestId:");
    }

    @Test
    void theTimeoutEndsAStreamWithItsError() throws Exception {
        var r = invokeStreaming(InvokeWithResponseStreamRequest.builder().functionName("streamer-short").payload(event("hang")).build());
        assertThat(r.response().statusCode()).isEqualTo(200);
        assertThat(r.text()).isEqualTo("started");
        assertThat(r.complete().errorCode()).isEqualTo("Sandbox.Timeout");
        assertThat(r.complete().errorDetails()).isEqualTo("Task timed out after 2.00 seconds");
    }

    @Test
    void aBufferedFunctionAnswersInOneChunk() throws Exception {
        var r = invokeStreaming(InvokeWithResponseStreamRequest.builder().functionName("buffered")
                .payload(SdkBytes.fromUtf8String("{\"a\":1}")).logType(LogType.TAIL).build());
        assertThat(r.chunks()).hasSize(1);
        assertThat(Json.mapper().readTree(r.chunks().getFirst()).get("whole").get("a").asInt()).isEqualTo(1);
        assertThat(r.complete().errorCode()).isNull();
        assertThat(new String(Base64.getDecoder().decode(r.complete().logResult()), StandardCharsets.UTF_8)).contains("buffered says hi");
    }

    /**
     * The function writes 30 MB as fast as it may while this client reads slowly: the worker holds no more than its
     * bounded pipe (heap growth measured mid-stream after a GC), and the stream is cut at Lambda's 20 MiB with the error.
     */
    @Test
    void thirtyMegabytesAreCutAt20MiBWithTheWorkersHeapFlat() throws Exception {
        var memory = ManagementFactory.getMemoryMXBean();
        System.gc();
        long before = memory.getHeapMemoryUsage().getUsed();
        var received = new AtomicLong();
        var growth = new AtomicLong(Long.MIN_VALUE);
        var complete = new AtomicReference<InvokeWithResponseStreamCompleteEvent>();
        var handler = InvokeWithResponseStreamResponseHandler.builder()
                .subscriber(InvokeWithResponseStreamResponseHandler.Visitor.builder()
                        .onPayloadChunk(c -> {
                            long n = received.addAndGet(c.payload().asByteBuffer().remaining());
                            long mb = n >> 20;
                            if (((n - c.payload().asByteBuffer().remaining()) >> 20) != mb) {
                                sleep(40); // a slow reader: ~25 MB/s at most
                                if (mb == 5) {
                                    System.gc();
                                    growth.set(memory.getHeapMemoryUsage().getUsed() - before);
                                }
                            }
                        })
                        .onInvokeComplete(complete::set)
                        .build())
                .build();
        async.invokeWithResponseStream(b -> b.functionName("streamer").payload(event("big")), handler).get(120, TimeUnit.SECONDS);
        assertThat(received.get()).isEqualTo(20L * 1024 * 1024);
        assertThat(complete.get().errorCode()).isEqualTo("Function.ResponseSizeTooLarge");
        // 5 MB read, the function far ahead: an unbounded path would hold most of the other 15 MB here
        System.out.println("heap growth after 5 MB of the stream: " + growth.get() + " bytes");
        assertThat(growth.get()).as("heap growth after 5 MB of a 20 MB stream").isNotEqualTo(Long.MIN_VALUE).isLessThan(5L << 20);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void badInputIsRefusedInAwsShape() {
        assertRefused(InvokeWithResponseStreamRequest.builder().functionName("missing-fn").build(), 404, "ResourceNotFoundException");
        assertRefused(InvokeWithResponseStreamRequest.builder().functionName("streamer").invocationType("Event").build(), 400,
                "InvalidParameterValueException");
        assertRefused(InvokeWithResponseStreamRequest.builder().functionName("streamer").logType("Everything").build(), 400,
                "InvalidParameterValueException");
        assertRefused(InvokeWithResponseStreamRequest.builder().functionName("streamer").qualifier("nope").build(), 404,
                "ResourceNotFoundException");
        assertRefused(InvokeWithResponseStreamRequest.builder().functionName("streamer").clientContext("%%%not-base64").build(), 400,
                "InvalidParameterValueException");
    }

    private void assertRefused(InvokeWithResponseStreamRequest request, int status, String code) {
        var handler = InvokeWithResponseStreamResponseHandler.builder()
                .subscriber(InvokeWithResponseStreamResponseHandler.Visitor.builder().build()).build();
        CompletableFuture<Void> f = async.invokeWithResponseStream(request, handler);
        try {
            f.get(60, TimeUnit.SECONDS);
            throw new AssertionError("not refused: " + request);
        } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOfSatisfying(LambdaException.class, le -> {
                assertThat(le.statusCode()).as(le.getMessage()).isEqualTo(status);
                assertThat(le.awsErrorDetails().errorCode()).as(le.getMessage()).isEqualTo(code);
            });
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aStreamingFunctionUrlPassesItsPreludeAndChunksAsTheyCome() throws Exception {
        lambda.createFunctionUrlConfig(b -> b.functionName("streamer").authType(FunctionUrlAuthType.NONE).invokeMode(InvokeMode.RESPONSE_STREAM));
        lambda.addPermission(b -> b.functionName("streamer").statementId("url").action("lambda:InvokeFunctionUrl").principal("*")
                .functionUrlAuthType(FunctionUrlAuthType.NONE));
        lambda.addPermission(b -> b.functionName("streamer").statementId("invoke").action("lambda:InvokeFunction").principal("*")
                .invokedViaFunctionUrl(true));
        String url = lambda.getFunctionUrlConfig(b -> b.functionName("streamer")).functionUrl();
        assertThat(lambda.getFunctionUrlConfig(b -> b.functionName("streamer")).invokeMode()).isEqualTo(InvokeMode.RESPONSE_STREAM);
        String id = url.substring("http://".length(), "http://".length() + 32);
        var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + platform.port() + "/lambda-url/" + id + "/"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"mode\":\"http\"}")).header("content-type", "application/json")
                .timeout(Duration.ofSeconds(60)).build();
        HttpResponse<InputStream> r = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(201);
        assertThat(r.headers().firstValue("content-type")).hasValue("text/plain");
        assertThat(r.headers().firstValue("x-streamed")).hasValue("yes");
        assertThat(r.headers().allValues("set-cookie")).containsExactly("flavour=oat");
        assertThat(r.headers().firstValue("transfer-encoding")).hasValue("chunked");
        try (InputStream in = r.body()) {
            byte[] first = readUntil(in, ';');
            long firstArrived = System.currentTimeMillis();
            String rest = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertThat(new String(first, StandardCharsets.UTF_8)).startsWith("hello@");
            assertThat(rest).matches("world@\\d+;");
            long secondWritten = Long.parseLong(rest.replaceAll("world@(\\d+);", "$1"));
            assertThat(firstArrived).as("first bytes received vs second written").isLessThan(secondWritten);
        }
    }

    /** A function that fails mid-stream: its URL's answer is cut (no last chunk), never complete-looking. */
    @Test
    void aUrlStreamCutByAnErrorIsNotComplete() throws Exception {
        lambda.createFunction(b -> b.functionName("url-fail").runtime(Runtime.NODEJS20_X).handler("index.handler").role(TestPlatform.ROLE)
                .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of(Map.of("index.mjs", STREAMER))))));
        lambda.createFunctionUrlConfig(b -> b.functionName("url-fail").authType(FunctionUrlAuthType.NONE).invokeMode(InvokeMode.RESPONSE_STREAM));
        lambda.addPermission(b -> b.functionName("url-fail").statementId("url").action("lambda:InvokeFunctionUrl").principal("*")
                .functionUrlAuthType(FunctionUrlAuthType.NONE));
        lambda.addPermission(b -> b.functionName("url-fail").statementId("invoke").action("lambda:InvokeFunction").principal("*")
                .invokedViaFunctionUrl(true));
        String url = lambda.getFunctionUrlConfig(b -> b.functionName("url-fail")).functionUrl();
        String id = url.substring("http://".length(), "http://".length() + 32);
        var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + platform.port() + "/lambda-url/" + id + "/"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"mode\":\"fail\"}")).header("content-type", "application/json")
                .timeout(Duration.ofSeconds(60)).build();
        HttpResponse<InputStream> r = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        try (InputStream in = r.body()) {
            var got = new java.io.ByteArrayOutputStream();
            byte[] buf = new byte[1024];
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> {
                for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                    got.write(buf, 0, n);
                }
            }).isInstanceOf(java.io.IOException.class);
            assertThat(got.toString(StandardCharsets.UTF_8)).isEqualTo("partial");
        }
    }

    private static byte[] readUntil(InputStream in, char end) throws Exception {
        var out = new java.io.ByteArrayOutputStream();
        for (int b = in.read(); b >= 0; b = in.read()) {
            out.write(b);
            if (b == end) {
                break;
            }
        }
        return out.toByteArray();
    }
}

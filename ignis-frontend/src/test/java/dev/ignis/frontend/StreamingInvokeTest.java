package dev.ignis.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.assignment.Assignment;
import dev.ignis.assignment.Lease;
import dev.ignis.assignment.SandboxKey;
import dev.ignis.common.LambdaException;
import dev.ignis.config.CodeStore;
import dev.ignis.config.ConfigStore;
import dev.ignis.config.SecretSealer;
import dev.ignis.worker.InvokeOutcome;
import dev.ignis.worker.InvokeRequest;
import dev.ignis.worker.SandboxHandle;
import dev.ignis.worker.SandboxSpec;
import dev.ignis.worker.Worker;
import dev.ignis.worker.runtimeapi.ResponseStream;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.zip.CRC32;
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
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * InvokeWithResponseStream on the frontend alone, with a stand-in worker: the event-stream bytes (CRCs, events, the
 * final InvokeComplete), and the refusal where the worker cannot stream (a cluster's remote worker).
 */
class StreamingInvokeTest {
    @TempDir Path dir;
    ConfigStore config;
    FrontendServer server;
    ConfigStore.IssuedKey key;
    final AtomicReference<Worker> worker = new AtomicReference<>();
    final List<Boolean> released = new ArrayList<>();
    InvokePath path;

    @BeforeEach
    void start() {
        config = new ConfigStore(sm -> new DirectJournal(sm), new CodeStore(dir), SecretSealer.open(dir), Set.of("python3.11"), Clock.systemUTC());
        key = config.createAccount("test");
        var verifier = new SigV4Verifier(id -> config.image().key(id)
                .map(k -> new SigV4Verifier.Caller(k.accountId(), k.accessKeyId(), config.secret(k).orElseThrow())), Clock.systemUTC());
        server = new FrontendServer("127.0.0.1", 0, new LambdaApi(verifier, config, new byte[32], Clock.systemUTC(),
                (c, n, r, id) -> ApiResponse.empty(501), null, null));
        try (var lambda = LambdaClient.builder().endpointOverride(URI.create("http://127.0.0.1:" + server.port())).region(Region.US_EAST_1)
                .httpClient(UrlConnectionHttpClient.create())
                .overrideConfiguration(c -> c.retryStrategy(software.amazon.awssdk.awscore.retry.AwsRetryStrategy.doNotRetry()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(key.accessKeyId(), key.secretAccessKey())))
                .build()) {
            lambda.createFunction(b -> b.functionName("f").runtime(Runtime.PYTHON3_11).handler("app.handler")
                    .role("arn:aws:iam::123456789012:role/x").code(c -> c.zipFile(SdkBytes.fromByteArray(
                            ControlPlaneApiTest.zip("app.py", "def handler(e,c): return e")))));
        }
        path = new InvokePath(config, new Assignment() {
            @Override
            public Lease acquire(SandboxKey k, Supplier<SandboxSpec> spec) {
                return new Lease(1, "sb-1", worker.get(), k, null);
            }

            @Override
            public void release(Lease lease, boolean reusable) {
                released.add(reusable);
            }

            @Override
            public void retireWhere(Predicate<SandboxKey> stale) {}

            @Override
            public Stats stats() {
                return new Stats(0, 0, 0, 0, 0);
            }

            @Override
            public void close() {}
        }, null);
    }

    @AfterEach
    void stop() {
        server.close();
        config.close();
    }

    /** A worker that writes {@code chunks} to the stream and answers {@code outcome}. */
    static Worker worker(boolean streams, List<String> chunks, InvokeOutcome outcome) {
        return new Worker() {
            @Override
            public String workerId() {
                return "w";
            }

            @Override
            public SandboxHandle createSandbox(SandboxSpec spec) {
                throw new UnsupportedOperationException();
            }

            @Override
            public InvokeOutcome invoke(String sandboxId, InvokeRequest request) {
                return outcome;
            }

            @Override
            public boolean streamsResponses() {
                return streams;
            }

            @Override
            public InvokeOutcome invoke(String sandboxId, InvokeRequest request, ResponseStream stream) {
                for (String c : chunks) {
                    byte[] b = c.getBytes(StandardCharsets.UTF_8);
                    try {
                        stream.write(b, 0, b.length);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }
                return outcome;
            }

            @Override
            public void retire(String sandboxId) {}

            @Override
            public Collection<SandboxHandle> sandboxes() {
                return List.of();
            }

            @Override
            public void close() {}
        };
    }

    ApiRequest request(Map<String, List<String>> headers) {
        return new ApiRequest("POST", "/2021-11-15/functions/f/response-streaming-invocations", "", headers, "{}".getBytes(StandardCharsets.UTF_8));
    }

    SigV4Verifier.Caller caller() {
        return new SigV4Verifier.Caller(key.accountId(), key.accessKeyId(), key.secretAccessKey());
    }

    /** Decodes event-stream messages, checking both CRCs: ":event-type" then the payload as text, per message. */
    static List<String> decode(byte[] body) {
        var out = new ArrayList<String>();
        var in = ByteBuffer.wrap(body);
        while (in.hasRemaining()) {
            int start = in.position();
            int total = in.getInt();
            int headersLength = in.getInt();
            var crc = new CRC32();
            crc.update(body, start, 8);
            assertThat(in.getInt()).isEqualTo((int) crc.getValue());
            String type = null;
            int end = in.position() + headersLength;
            while (in.position() < end) {
                byte[] name = new byte[in.get()];
                in.get(name);
                assertThat(in.get()).isEqualTo((byte) 7);
                byte[] value = new byte[in.getShort()];
                in.get(value);
                if (new String(name, StandardCharsets.UTF_8).equals(":event-type")) {
                    type = new String(value, StandardCharsets.UTF_8);
                }
            }
            byte[] payload = new byte[total - 16 - headersLength];
            in.get(payload);
            crc = new CRC32();
            crc.update(body, start, total - 4);
            assertThat(in.getInt()).isEqualTo((int) crc.getValue());
            out.add(type + " " + new String(payload, StandardCharsets.UTF_8));
        }
        return out;
    }

    byte[] run(ApiResponse r) throws Exception {
        var out = new ByteArrayOutputStream();
        r.stream().writeTo(out);
        return out.toByteArray();
    }

    @Test
    void chunksThenInvokeComplete() throws Exception {
        worker.set(worker(true, List.of("one", "two"), new InvokeOutcome(InvokeOutcome.Status.SUCCESS, new byte[0], "TE9H", true,
                Duration.ofMillis(1))));
        ApiResponse r = path.invokeWithResponseStream(caller(), "f", request(Map.of("x-amz-log-type", List.of("Tail"))), "rid");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.headers()).containsEntry("Content-Type", "application/vnd.amazon.eventstream").containsEntry("X-Amz-Executed-Version", "$LATEST");
        assertThat(decode(run(r))).containsExactly("PayloadChunk one", "PayloadChunk two", "InvokeComplete {\"LogResult\":\"TE9H\"}");
        assertThat(released).containsExactly(true);
    }

    @Test
    void aFunctionErrorIsInTheInvokeComplete() throws Exception {
        worker.set(worker(true, List.of("part"), new InvokeOutcome(InvokeOutcome.Status.FUNCTION_ERROR,
                "{\"errorMessage\":\"boom\",\"errorType\":\"Error\"}".getBytes(StandardCharsets.UTF_8), null, true, Duration.ofMillis(1))));
        ApiResponse r = path.invokeWithResponseStream(caller(), "f", request(Map.of()), "rid");
        assertThat(decode(run(r))).containsExactly("PayloadChunk part", "InvokeComplete {\"ErrorCode\":\"Error\",\"ErrorDetails\":\"boom\"}");
    }

    @Test
    void aWorkerThatCannotStreamIsRefusedBeforeAnyByte() {
        worker.set(worker(false, List.of("never"), null));
        assertThatThrownBy(() -> path.invokeWithResponseStream(caller(), "f", request(Map.of()), "rid"))
                .isInstanceOfSatisfying(LambdaException.class, e -> {
                    assertThat(e.status()).isEqualTo(400);
                    assertThat(e.type()).isEqualTo("InvalidParameterValueException");
                    assertThat(e.getMessage()).contains("single-node");
                });
        assertThat(released).containsExactly(true); // nothing ran: the sandbox goes back idle
    }

    @Test
    void badInputChangesNothing() {
        worker.set(worker(true, List.of(), null));
        for (var headers : List.of(Map.of("x-amz-invocation-type", List.of("Event")), Map.of("x-amz-log-type", List.of("All")),
                Map.of("x-amz-client-context", List.of("***")))) {
            assertThatThrownBy(() -> path.invokeWithResponseStream(caller(), "f", request(headers), "rid"))
                    .isInstanceOfSatisfying(LambdaException.class, e -> assertThat(e.type()).isEqualTo("InvalidParameterValueException"));
        }
        assertThatThrownBy(() -> path.invokeWithResponseStream(caller(), "nope", request(Map.of()), "rid"))
                .isInstanceOfSatisfying(LambdaException.class, e -> assertThat(e.status()).isEqualTo(404));
        assertThat(released).isEmpty(); // no sandbox was leased
    }
}

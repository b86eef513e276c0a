package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ignis.common.Json;
import dev.ignis.frontend.LambdaApi;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.FunctionUrlAuthType;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * Every operation Ignis routes, called through the AWS SDK v2, with each raw response body (as it
 * left the frontend, before the SDK dropped anything it does not know) checked against the output
 * shape of that operation in botocore's Lambda model ({@code src/test/resources/botocore/}, botocore
 * 1.43.11): no member the shape lacks, each value of the shape's type (and enum), every required
 * member present, no body where there is no output shape. Error bodies are checked against their
 * error shape, which the operation must list. An operation routed but not called here fails the test.
 */
class BotocoreShapesIT extends PlatformTestBase {
    private static final JsonNode MODEL = model();

    record Seen(String operation, int status, String errorType, byte[] body) {}

    /** Records each response body and hands the SDK an identical copy. */
    static final class Recorder implements ExecutionInterceptor {
        final List<Seen> seen = new CopyOnWriteArrayList<>();

        @Override
        public Optional<InputStream> modifyHttpResponseContent(Context.ModifyHttpResponse context, ExecutionAttributes attributes) {
            byte[] body = context.responseBody().map(in -> {
                try {
                    return in.readAllBytes();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).orElse(new byte[0]);
            var response = context.httpResponse();
            seen.add(new Seen(attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME), response.statusCode(),
                    response.firstMatchingHeader("x-amzn-ErrorType").orElse(null), body));
            return Optional.of(new ByteArrayInputStream(body));
        }
    }

    private static JsonNode model() {
        try (var in = BotocoreShapesIT.class.getResourceAsStream("/botocore/lambda-2015-03-31-service-2.json")) {
            return Json.mapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void everyRoutedOperationAnswersWithinBotocoresOutputShape() throws Exception {
        var recorder = new Recorder();
        String other = platform.config().createAccount("other").accountId();
        try (LambdaClient c = LambdaClient.builder().endpointOverride(URI.create("http://127.0.0.1:" + platform.port()))
                .region(Region.US_EAST_1).httpClient(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofSeconds(60)).build())
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()).addExecutionInterceptor(recorder))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(key.accessKeyId(), key.secretAccessKey())))
                .build()) {
            exercise(c, other);
        }
        // InvokeWithResponseStream: the synchronous SDK client has no such call, so it is sent signed by hand. Its error body
        // is checked like the others; a success is an event stream (binary), whose events and their members are checked
        // against the model's event shapes below.
        var streaming = RawSigned.send(platform.port(), key.accessKeyId(), key.secretAccessKey(), "POST",
                "/2021-11-15/functions/shape-missing/response-streaming-invocations", "{}", java.time.Instant.now());
        assertThat(streaming.statusCode()).isEqualTo(404);
        recorder.seen.add(new Seen("InvokeWithResponseStream", streaming.statusCode(),
                streaming.headers().firstValue("x-amzn-ErrorType").orElse(null), streaming.body().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        lambda.createFunction(b -> b.functionName("shape-stream").runtime(Runtime.PYTHON3_11).handler("app.handler").role(TestPlatform.ROLE)
                .code(k -> k.zipFile(SdkBytes.fromByteArray(Zips.python("def handler(e, c):\n    return e\n")))));
        var stream = RawSigned.send(platform.port(), key.accessKeyId(), key.secretAccessKey(), "POST",
                "/2021-11-15/functions/shape-stream/response-streaming-invocations", "{\"k\":1}", java.time.Instant.now(),
                java.net.http.HttpResponse.BodyHandlers.ofByteArray());
        assertThat(stream.statusCode()).isEqualTo(200);
        List<String> streamProblems = new ArrayList<>();
        checkEventStream(stream.headers(), stream.body(), streamProblems);
        assertThat(streamProblems).as("InvokeWithResponseStream's event stream outside botocore's shapes").isEmpty();

        List<String> problems = new ArrayList<>();
        for (Seen s : recorder.seen) {
            check(s, problems);
        }
        var routed = new LambdaApi(null, platform.config(), new byte[32], Clock.systemUTC(), null, null, null).operations();
        var called = new TreeSet<>(recorder.seen.stream().map(Seen::operation).toList());
        assertThat(called).as("operations routed but not checked here").containsAll(routed);
        for (String op : routed) {
            assertThat(MODEL.path("operations").has(op)).as("%s is an operation of botocore's model", op).isTrue();
        }
        assertThat(problems).as("responses outside botocore's shapes").isEmpty();
        assertThat(recorder.seen).hasSizeGreaterThan(routed.size());
    }

    /** One call (or more) of every operation Ignis routes, with members filled so the responses carry them. */
    private void exercise(LambdaClient c, String other) {
        var layerZip = SdkBytes.fromByteArray(Zips.of(Map.of("python/shape_mod.py", "X = 1\n")));
        var layer = c.publishLayerVersion(b -> b.layerName("shape-layer").description("d").licenseInfo("MIT")
                .compatibleRuntimes(Runtime.PYTHON3_11).compatibleArchitecturesWithStrings("x86_64").content(k -> k.zipFile(layerZip)));
        c.getLayerVersion(b -> b.layerName("shape-layer").versionNumber(1L));
        c.getLayerVersionByArn(b -> b.arn(layer.layerVersionArn()));
        c.listLayers(b -> b.maxItems(1));
        c.listLayerVersions(b -> b.layerName("shape-layer"));
        c.addLayerVersionPermission(b -> b.layerName("shape-layer").versionNumber(1L).statementId("s").action("lambda:GetLayerVersion")
                .principal(other));
        c.getLayerVersionPolicy(b -> b.layerName("shape-layer").versionNumber(1L));
        c.removeLayerVersionPermission(b -> b.layerName("shape-layer").versionNumber(1L).statementId("s"));

        var zip = SdkBytes.fromByteArray(Zips.python("def handler(e, c):\n    return e\n"));
        c.createFunction(b -> b.functionName("shape").runtime(Runtime.PYTHON3_11).handler("app.handler").role(TestPlatform.ROLE)
                .description("shape").environment(e -> e.variables(Map.of("STAGE", "1"))).tags(Map.of("t", "v"))
                .layers(layer.layerVersionArn()).code(k -> k.zipFile(zip)));
        String arn = "arn:aws:lambda:us-east-1:" + key.accountId() + ":function:shape";
        c.getFunction(b -> b.functionName("shape"));
        c.getFunctionConfiguration(b -> b.functionName("shape"));
        c.listFunctions(b -> b.maxItems(1));
        c.updateFunctionConfiguration(b -> b.functionName("shape").timeout(5));
        c.updateFunctionCode(b -> b.functionName("shape").zipFile(zip));
        c.publishVersion(b -> b.functionName("shape").description("v1"));
        c.listVersionsByFunction(b -> b.functionName("shape").maxItems(1));
        c.createAlias(b -> b.functionName("shape").name("live").functionVersion("1"));
        c.getAlias(b -> b.functionName("shape").name("live"));
        c.updateAlias(b -> b.functionName("shape").name("live").description("d"));
        c.listAliases(b -> b.functionName("shape"));
        c.putFunctionConcurrency(b -> b.functionName("shape").reservedConcurrentExecutions(5));
        c.getFunctionConcurrency(b -> b.functionName("shape"));
        c.deleteFunctionConcurrency(b -> b.functionName("shape"));
        c.getAccountSettings(b -> { });
        c.putFunctionEventInvokeConfig(b -> b.functionName("shape").maximumRetryAttempts(1)
                .destinationConfig(d -> d.onFailure(f -> f.destination(arn + ":live"))));
        c.updateFunctionEventInvokeConfig(b -> b.functionName("shape").maximumEventAgeInSeconds(600));
        c.getFunctionEventInvokeConfig(b -> b.functionName("shape"));
        c.listFunctionEventInvokeConfigs(b -> b.functionName("shape"));
        c.deleteFunctionEventInvokeConfig(b -> b.functionName("shape"));
        c.getFunctionCodeSigningConfig(b -> b.functionName("shape"));
        String csc = "arn:aws:lambda:us-east-1:" + key.accountId() + ":code-signing-config:csc-0123456789abcdefg";
        refused(() -> c.putFunctionCodeSigningConfig(b -> b.functionName("shape").codeSigningConfigArn(csc)));
        refused(() -> c.deleteFunctionCodeSigningConfig(b -> b.functionName("shape")));
        refused(() -> c.createCodeSigningConfig(b -> b.allowedPublishers(p -> p.signingProfileVersionArns(
                "arn:aws:signer:us-east-1:123456789012:/signing-profiles/p/abcdefghij"))));
        c.addPermission(b -> b.functionName("shape").statementId("other").action("lambda:InvokeFunction").principal(other));
        c.getPolicy(b -> b.functionName("shape"));
        c.removePermission(b -> b.functionName("shape").statementId("other"));
        c.tagResource(b -> b.resource(arn).tags(Map.of("u", "w")));
        c.listTags(b -> b.resource(arn));
        c.untagResource(b -> b.resource(arn).tagKeys("u"));
        c.invoke(b -> b.functionName("shape").payload(SdkBytes.fromUtf8String("{\"k\":1}")).logType("Tail"));
        c.createFunctionUrlConfig(b -> b.functionName("shape").authType(FunctionUrlAuthType.AWS_IAM)
                .cors(k -> k.allowOrigins("https://example.com").allowMethods("GET").maxAge(60)));
        c.createFunctionUrlConfig(b -> b.functionName("shape").qualifier("live").authType(FunctionUrlAuthType.NONE));
        c.getFunctionUrlConfig(b -> b.functionName("shape"));
        c.updateFunctionUrlConfig(b -> b.functionName("shape").authType(FunctionUrlAuthType.NONE));
        c.listFunctionUrlConfigs(b -> b.functionName("shape").maxItems(1));
        c.deleteFunctionUrlConfig(b -> b.functionName("shape"));
        refused(() -> c.getFunctionUrlConfig(b -> b.functionName("shape")));
        refused(() -> c.getFunction(b -> b.functionName("missing")));
        refused(() -> c.getLayerVersion(b -> b.layerName("shape-layer").versionNumber(9L)));
        c.deleteAlias(b -> b.functionName("shape").name("live"));
        c.deleteLayerVersion(b -> b.layerName("shape-layer").versionNumber(1L));
        c.deleteFunction(b -> b.functionName("shape"));
    }

    private static void refused(Runnable call) {
        assertThatThrownBy(call::run).isInstanceOf(LambdaException.class);
    }

    /**
     * A successful InvokeWithResponseStream: headers of the output shape (Content-Type, X-Amz-Executed-Version), then
     * event-stream messages (CRCs checked) whose {@code :event-type} is a member of the model's event union, ending
     * with one InvokeComplete whose JSON members are the complete event's.
     */
    private static void checkEventStream(java.net.http.HttpHeaders headers, byte[] body, List<String> problems) throws IOException {
        if (!headers.firstValue("content-type").orElse("").equals("application/vnd.amazon.eventstream")) {
            problems.add("Content-Type " + headers.firstValue("content-type"));
        }
        if (headers.firstValue("x-amz-executed-version").isEmpty()) {
            problems.add("no X-Amz-Executed-Version");
        }
        JsonNode union = MODEL.path("shapes").path("InvokeWithResponseStreamResponseEvent").path("members");
        var in = java.nio.ByteBuffer.wrap(body);
        List<String> events = new ArrayList<>();
        while (in.remaining() > 0) {
            int start = in.position();
            int total = in.getInt();
            int headersLength = in.getInt();
            var crc = new java.util.zip.CRC32();
            crc.update(body, start, 8);
            if ((int) crc.getValue() != in.getInt()) {
                problems.add("prelude CRC of message " + events.size());
            }
            java.util.Map<String, String> h = new java.util.HashMap<>();
            int end = in.position() + headersLength;
            while (in.position() < end) {
                byte[] name = new byte[in.get() & 0xff];
                in.get(name);
                if (in.get() != 7) {
                    problems.add("a header that is not a string");
                }
                byte[] value = new byte[in.getShort() & 0xffff];
                in.get(value);
                h.put(new String(name, java.nio.charset.StandardCharsets.UTF_8), new String(value, java.nio.charset.StandardCharsets.UTF_8));
            }
            byte[] payload = new byte[total - 16 - headersLength];
            in.get(payload);
            crc = new java.util.zip.CRC32();
            crc.update(body, start, total - 4);
            if ((int) crc.getValue() != in.getInt()) {
                problems.add("message CRC of message " + events.size());
            }
            String type = h.get(":event-type");
            events.add(type);
            if (!"event".equals(h.get(":message-type")) || type == null || !union.has(type)) {
                problems.add("event " + type + " (" + h.get(":message-type") + ") is not a member of InvokeWithResponseStreamResponseEvent");
            } else if (type.equals("InvokeComplete")) {
                value(Json.mapper().readTree(payload), union.path(type).path("shape").asText(), "InvokeComplete", problems);
            }
        }
        if (events.isEmpty() || !"InvokeComplete".equals(events.getLast()) || events.indexOf("InvokeComplete") != events.size() - 1) {
            problems.add("the stream must end with exactly one InvokeComplete: " + events);
        }
    }

    private static void check(Seen s, List<String> problems) throws IOException {
        JsonNode op = MODEL.path("operations").path(s.operation());
        String where = s.operation() + " (" + s.status() + ")";
        if (op.isMissingNode()) {
            problems.add(where + ": not an operation of botocore's model");
            return;
        }
        if (s.status() >= 300) {
            String type = s.errorType() == null ? null : s.errorType().split(":")[0];
            boolean listed = false;
            for (JsonNode e : op.path("errors")) {
                listed |= e.path("shape").asText().equals(type);
            }
            if (!listed) {
                problems.add(where + ": error " + type + " is not among the operation's errors in the model");
                return;
            }
            value(Json.mapper().readTree(s.body()), type, where, problems);
            return;
        }
        String output = op.path("output").path("shape").asText(null);
        if (output == null) {
            if (s.body().length > 0) {
                problems.add(where + ": a body where the model has no output shape");
            }
            return;
        }
        JsonNode shape = MODEL.path("shapes").path(output);
        if (shape.has("payload")) {
            return; // the body is the payload (Invoke's), not a JSON document of the shape
        }
        value(s.body().length == 0 ? Json.mapper().createObjectNode() : Json.mapper().readTree(s.body()), output, where, problems);
    }

    /** Checks a JSON value against a shape of the model, collecting what does not fit. */
    private static void value(JsonNode v, String shapeName, String at, List<String> problems) {
        JsonNode shape = MODEL.path("shapes").path(shapeName);
        String type = shape.path("type").asText();
        switch (type) {
            case "structure" -> {
                if (!v.isObject()) {
                    problems.add(at + ": " + shapeName + " must be an object, is " + v);
                    return;
                }
                JsonNode members = shape.path("members");
                v.properties().forEach(e -> {
                    JsonNode m = members.path(e.getKey());
                    if (m.isMissingNode()) {
                        problems.add(at + "." + e.getKey() + ": not a member of " + shapeName);
                    } else if (m.has("location")) {
                        problems.add(at + "." + e.getKey() + ": in the body, but the model puts it in the " + m.path("location").asText());
                    } else if (!e.getValue().isNull()) {
                        value(e.getValue(), m.path("shape").asText(), at + "." + e.getKey(), problems);
                    }
                });
                for (JsonNode r : shape.path("required")) {
                    JsonNode m = members.path(r.asText());
                    if (!m.has("location") && !v.has(r.asText())) {
                        problems.add(at + ": required member " + r.asText() + " of " + shapeName + " is missing");
                    }
                }
            }
            case "list" -> {
                if (!v.isArray()) {
                    problems.add(at + ": " + shapeName + " must be a list, is " + v);
                    return;
                }
                for (int i = 0; i < v.size(); i++) {
                    value(v.get(i), shape.path("member").path("shape").asText(), at + "[" + i + "]", problems);
                }
            }
            case "map" -> {
                if (!v.isObject()) {
                    problems.add(at + ": " + shapeName + " must be a map, is " + v);
                    return;
                }
                v.properties().forEach(e -> {
                    value(Json.mapper().getNodeFactory().textNode(e.getKey()), shape.path("key").path("shape").asText(), at + " key", problems);
                    value(e.getValue(), shape.path("value").path("shape").asText(), at + "." + e.getKey(), problems);
                });
            }
            case "string" -> {
                if (!v.isTextual()) {
                    problems.add(at + ": " + shapeName + " must be a string, is " + v);
                } else if (shape.has("enum")) {
                    boolean known = false;
                    for (JsonNode e : shape.path("enum")) {
                        known |= e.asText().equals(v.asText());
                    }
                    if (!known) {
                        problems.add(at + ": '" + v.asText() + "' is not in the enum of " + shapeName);
                    }
                }
            }
            case "integer", "long" -> {
                if (!v.isIntegralNumber()) {
                    problems.add(at + ": " + shapeName + " must be an integer, is " + v);
                }
            }
            case "double", "float" -> {
                if (!v.isNumber()) {
                    problems.add(at + ": " + shapeName + " must be a number, is " + v);
                }
            }
            case "boolean" -> {
                if (!v.isBoolean()) {
                    problems.add(at + ": " + shapeName + " must be a boolean, is " + v);
                }
            }
            case "timestamp" -> {
                if (!v.isNumber() && !v.isTextual()) {
                    problems.add(at + ": " + shapeName + " must be a timestamp, is " + v);
                }
            }
            case "blob" -> {
                if (!v.isTextual()) {
                    problems.add(at + ": " + shapeName + " must be base64 text, is " + v);
                }
            }
            default -> problems.add(at + ": shape " + shapeName + " of unknown type '" + type + "'");
        }
    }
}

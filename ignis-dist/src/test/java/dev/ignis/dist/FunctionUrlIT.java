package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ignis.common.Json;
import dev.ignis.config.ConfigStore;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.FunctionUrlAuthType;
import software.amazon.awssdk.services.lambda.model.InvokeMode;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * Function URLs end to end on a running platform: the 2021-10-31 control plane through the AWS SDK,
 * and the URLs themselves through a plain HTTP client (java.net.http, and a raw socket for the
 * {@code Host}-routed form): the payload 2.0 event, Lambda's response mapping, binary bodies,
 * cookies, CORS, the resource-policy grants a NONE URL needs, AWS_IAM by SigV4 (the SDK's signer),
 * and every refusal (unknown id, oversized body, failing or misbehaving function, unsigned, badly
 * signed, not granted), each leaving the configuration as it was.
 */
class FunctionUrlIT extends PlatformTestBase {
    private static final String APP = """
            import base64, json
            def handler(event, context):
                path = event['rawPath']
                if path == '/echo':
                    return {'statusCode': 200, 'headers': {'content-type': 'application/json'}, 'body': json.dumps(event)}
                if path == '/reverse':
                    raw = base64.b64decode(event['body']) if event['isBase64Encoded'] else event.get('body', '').encode()
                    return {'statusCode': 201, 'headers': {'Content-Type': 'application/octet-stream', 'X-Custom': 'yes',
                            'Access-Control-Allow-Origin': 'https://evil.example', 'Content-Length': '1'},
                            'cookies': ['a=1; Path=/', 'b=2'], 'body': base64.b64encode(raw[::-1]).decode(), 'isBase64Encoded': True}
                if path == '/sw':
                    return {'statusCode': 200, 'headers': {'Content-Type': 'text/javascript', 'Service-Worker-Allowed': '/'},
                            'body': 'self.addEventListener("fetch", e => {})'}
                if path == '/plain':
                    return {'hello': 'world'}
                if path == '/string':
                    return 'just text'
                if path == '/fail':
                    raise Exception('boom')
                if path == '/split':
                    return {'statusCode': 200, 'headers': {'x-evil': 'a\\r\\nSet-Cookie: pwned=1'}, 'body': 'x'}
                if path == '/badstatus':
                    return {'statusCode': 'teapot'}
                if path == '/bad64':
                    return {'statusCode': 200, 'body': '%%%', 'isBase64Encoded': True}
                return {'statusCode': 404, 'body': 'no route ' + path}
            """;
    private static final Pattern URL = Pattern.compile("http://[a-z0-9]{32}\\.lambda-url\\.us-east-1\\.localhost:\\d+/");

    ConfigStore.IssuedKey bobKey;
    LambdaClient bob;
    HttpClient http;

    @BeforeAll
    void setUp() {
        bobKey = platform.config().createAccount("bob-urls");
        bob = TestPlatform.client(platform.port(), bobKey.accessKeyId(), bobKey.secretAccessKey());
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    }

    @AfterAll
    void tearDown() {
        bob.close();
        http.close();
    }

    void create(String name) {
        lambda.createFunction(b -> b.functionName(name).runtime(Runtime.PYTHON3_11).handler("app.handler").role(TestPlatform.ROLE)
                .publish(true).code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.python(APP)))));
    }

    /** The two statements Lambda requires of a public (NONE) URL since October 2025. */
    void grantPublic(String name, String qualifier) {
        lambda.addPermission(b -> b.functionName(name).qualifier(qualifier).statementId("FunctionURLAllowPublicAccess")
                .action("lambda:InvokeFunctionUrl").principal("*").functionUrlAuthType(FunctionUrlAuthType.NONE));
        lambda.addPermission(b -> b.functionName(name).qualifier(qualifier).statementId("FunctionURLInvokeAllowPublicAccess")
                .action("lambda:InvokeFunction").principal("*").invokedViaFunctionUrl(true));
    }

    static String id(String functionUrl) {
        return functionUrl.substring("http://".length(), "http://".length() + 32);
    }

    /** The path fallback on the main port: {@code /lambda-url/<id>/<path>}. */
    URI uri(String urlId, String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + platform.port() + "/lambda-url/" + urlId + pathAndQuery);
    }

    HttpResponse<byte[]> send(HttpRequest.Builder b) throws Exception {
        return http.send(b.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    HttpResponse<byte[]> get(String urlId, String pathAndQuery) throws Exception {
        return send(HttpRequest.newBuilder(uri(urlId, pathAndQuery)));
    }

    static JsonNode json(HttpResponse<byte[]> r) throws Exception {
        return Json.mapper().readTree(r.body());
    }

    static String text(HttpResponse<byte[]> r) {
        return new String(r.body(), StandardCharsets.UTF_8);
    }

    void rejected(Consumer<LambdaClient> call, int status, String errorCode) {
        long index = platform.config().image().appliedIndex();
        assertThatThrownBy(() -> call.accept(lambda)).isInstanceOfSatisfying(LambdaException.class, e -> {
            assertThat(e.statusCode()).as(e.getMessage()).isEqualTo(status);
            assertThat(e.awsErrorDetails().errorCode()).as(e.getMessage()).isEqualTo(errorCode);
        });
        assertThat(platform.config().image().appliedIndex()).as("journal unchanged").isEqualTo(index);
    }

    @Test
    void controlPlaneShapesAndRefusals() {
        create("url-cp");
        lambda.createAlias(b -> b.functionName("url-cp").name("live").functionVersion("1"));
        var created = lambda.createFunctionUrlConfig(b -> b.functionName("url-cp").authType(FunctionUrlAuthType.NONE));
        assertThat(created.functionUrl()).matches(URL);
        assertThat(created.functionUrl()).contains(":" + platform.port() + "/");
        assertThat(created.functionArn()).isEqualTo("arn:aws:lambda:us-east-1:" + key.accountId() + ":function:url-cp");
        assertThat(created.authType()).isEqualTo(FunctionUrlAuthType.NONE);
        assertThat(created.invokeMode()).isEqualTo(InvokeMode.BUFFERED);
        assertThat(created.creationTime()).isNotBlank();

        var aliasUrl = lambda.createFunctionUrlConfig(b -> b.functionName("url-cp").qualifier("live").authType(FunctionUrlAuthType.AWS_IAM)
                .cors(c -> c.allowOrigins("https://app.example").allowMethods("GET", "POST").maxAge(60)).invokeMode(InvokeMode.BUFFERED));
        assertThat(aliasUrl.functionArn()).endsWith(":function:url-cp:live");
        assertThat(id(aliasUrl.functionUrl())).isNotEqualTo(id(created.functionUrl()));

        var got = lambda.getFunctionUrlConfig(b -> b.functionName("url-cp").qualifier("live"));
        assertThat(got.cors().allowOrigins()).containsExactly("https://app.example");
        assertThat(got.cors().maxAge()).isEqualTo(60);
        assertThat(got.lastModifiedTime()).isNotBlank();

        var updated = lambda.updateFunctionUrlConfig(b -> b.functionName("url-cp").cors(c -> c.allowOrigins("*")));
        assertThat(updated.functionUrl()).as("an update keeps the address").isEqualTo(created.functionUrl());
        assertThat(updated.authType()).as("members left out keep their value").isEqualTo(FunctionUrlAuthType.NONE);
        assertThat(updated.cors().allowOrigins()).containsExactly("*");

        var listed = lambda.listFunctionUrlConfigs(b -> b.functionName("url-cp"));
        assertThat(listed.functionUrlConfigs()).extracting(c -> c.functionUrl())
                .containsExactlyInAnyOrder(created.functionUrl(), aliasUrl.functionUrl());
        var page = lambda.listFunctionUrlConfigs(b -> b.functionName("url-cp").maxItems(1));
        assertThat(page.functionUrlConfigs()).hasSize(1);
        assertThat(page.nextMarker()).isNotBlank();

        rejected(c -> c.createFunctionUrlConfig(b -> b.functionName("url-cp").authType(FunctionUrlAuthType.NONE)), 409,
                "ResourceConflictException");
        rejected(c -> c.createFunctionUrlConfig(b -> b.functionName("url-cp").qualifier("1").authType(FunctionUrlAuthType.NONE)), 400,
                "ValidationException");
        rejected(c -> c.createFunctionUrlConfig(b -> b.functionName("url-cp").qualifier("nope").authType(FunctionUrlAuthType.NONE)), 404,
                "ResourceNotFoundException");
        rejected(c -> c.createFunctionUrlConfig(b -> b.functionName("no-such-fn").authType(FunctionUrlAuthType.NONE)), 404,
                "ResourceNotFoundException");
        rejected(c -> c.createFunctionUrlConfig(b -> b.functionName("url-cp").qualifier("$LATEST").authType("BASIC")), 400,
                "ValidationException");
        rejected(c -> c.createFunctionUrlConfig(b -> b.functionName("url-cp").qualifier("$LATEST").authType(FunctionUrlAuthType.NONE)
                .cors(x -> x.allowOrigins("https://a.example\r\nX-Evil: 1"))), 400, "InvalidParameterValueException");
        rejected(c -> c.createFunctionUrlConfig(b -> b.functionName("url-cp").qualifier("$LATEST").authType(FunctionUrlAuthType.NONE)
                .cors(x -> x.maxAge(86401))), 400, "ValidationException");
        rejected(c -> c.createFunctionUrlConfig(b -> b.functionName("url-cp").qualifier("$LATEST").authType(FunctionUrlAuthType.NONE)
                .invokeMode("FAST")), 400, "ValidationException");
        rejected(c -> c.getFunctionUrlConfig(b -> b.functionName("url-cp").qualifier("$LATEST")), 404, "ResourceNotFoundException");
        rejected(c -> c.addPermission(b -> b.functionName("url-cp").statementId("x").action("lambda:InvokeFunction").principal("*")
                .functionUrlAuthType(FunctionUrlAuthType.NONE)), 400, "InvalidParameterValueException");
        assertThatThrownBy(() -> bob.getFunctionUrlConfig(b -> b.functionName("arn:aws:lambda:us-east-1:" + key.accountId()
                + ":function:url-cp"))).isInstanceOfSatisfying(LambdaException.class, e -> assertThat(e.statusCode()).isEqualTo(403));

        lambda.deleteAlias(b -> b.functionName("url-cp").name("live"));
        assertThat(lambda.listFunctionUrlConfigs(b -> b.functionName("url-cp")).functionUrlConfigs()).as("an alias's URL goes with it")
                .hasSize(1);
        lambda.deleteFunctionUrlConfig(b -> b.functionName("url-cp"));
        rejected(c -> c.deleteFunctionUrlConfig(b -> b.functionName("url-cp")), 404, "ResourceNotFoundException");
    }

    @Test
    void aNoneUrlAnswersOnlyOnceThePolicyGrantsEveryoneBoth() throws Exception {
        create("url-grant");
        String id = id(lambda.createFunctionUrlConfig(b -> b.functionName("url-grant").authType(FunctionUrlAuthType.NONE)).functionUrl());
        var refused = get(id, "/plain");
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(json(refused).path("Message").asText()).isEqualTo("Forbidden");
        lambda.addPermission(b -> b.functionName("url-grant").statementId("url").action("lambda:InvokeFunctionUrl").principal("*")
                .functionUrlAuthType(FunctionUrlAuthType.NONE));
        assertThat(get(id, "/plain").statusCode()).as("InvokeFunctionUrl alone is not enough since October 2025").isEqualTo(403);
        lambda.addPermission(b -> b.functionName("url-grant").statementId("invoke").action("lambda:InvokeFunction").principal("*")
                .invokedViaFunctionUrl(true));
        var ok = get(id, "/plain");
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(json(ok).path("hello").asText()).isEqualTo("world");
        // the URL-only public grant opens nothing on the Invoke API for another account
        assertThatThrownBy(() -> bob.invoke(b -> b.functionName("arn:aws:lambda:us-east-1:" + key.accountId() + ":function:url-grant")))
                .isInstanceOfSatisfying(LambdaException.class, e -> assertThat(e.statusCode()).isEqualTo(403));
        lambda.removePermission(b -> b.functionName("url-grant").statementId("invoke"));
        assertThat(get(id, "/plain").statusCode()).isEqualTo(403);
    }

    @Test
    void theEventAndTheResponseMappingAreLambdas() throws Exception {
        create("url-map");
        String id = id(lambda.createFunctionUrlConfig(b -> b.functionName("url-map").authType(FunctionUrlAuthType.NONE)).functionUrl());
        grantPublic("url-map", null);

        var echo = send(HttpRequest.newBuilder(uri(id, "/echo?x=1&x=2&y=%20z")).header("Cookie", "c1=v1; c2=v2")
                .header("X-Forwarded-For", "203.0.113.9").header("X-Ignis-Source-Ip", "198.51.100.1")
                .header("X-Multi", "a").header("User-Agent", "ignis-test"));
        assertThat(echo.statusCode()).isEqualTo(200);
        JsonNode event = json(echo);
        assertThat(event.path("version").asText()).isEqualTo("2.0");
        assertThat(event.path("rawPath").asText()).isEqualTo("/echo");
        assertThat(event.path("rawQueryString").asText()).isEqualTo("x=1&x=2&y=%20z");
        assertThat(event.path("queryStringParameters").path("x").asText()).isEqualTo("1,2");
        assertThat(event.path("queryStringParameters").path("y").asText()).isEqualTo(" z");
        assertThat(event.path("cookies")).extracting(JsonNode::asText).containsExactly("c1=v1", "c2=v2");
        assertThat(event.path("headers").has("cookie")).isFalse();
        assertThat(event.path("headers").path("x-multi").asText()).isEqualTo("a");
        assertThat(event.path("headers").has("x-ignis-source-ip")).isFalse();
        assertThat(event.path("requestContext").path("http").path("method").asText()).isEqualTo("GET");
        assertThat(event.path("requestContext").path("http").path("sourceIp").asText()).as("the connection's, not a header's")
                .isEqualTo("127.0.0.1");
        assertThat(event.path("headers").path("x-forwarded-for").asText()).isEqualTo("203.0.113.9, 127.0.0.1");
        assertThat(event.path("headers").path("x-forwarded-proto").asText()).isEqualTo("http");
        assertThat(event.path("requestContext").path("http").path("userAgent").asText()).isEqualTo("ignis-test");
        assertThat(event.path("requestContext").path("apiId").asText()).isEqualTo(id);
        assertThat(event.path("requestContext").has("authorizer")).isFalse();
        assertThat(event.path("isBase64Encoded").asBoolean()).isFalse();

        byte[] binary = new byte[100_000];
        new Random(7).nextBytes(binary);
        var reversed = send(HttpRequest.newBuilder(uri(id, "/reverse")).header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(binary)));
        assertThat(reversed.statusCode()).isEqualTo(201);
        byte[] expected = new byte[binary.length];
        for (int i = 0; i < binary.length; i++) {
            expected[i] = binary[binary.length - 1 - i];
        }
        assertThat(reversed.body()).as("binary body round trip, base64 both ways").isEqualTo(expected);
        assertThat(reversed.headers().firstValue("x-custom")).hasValue("yes");
        assertThat(reversed.headers().firstValue("content-type")).hasValue("application/octet-stream");
        assertThat(reversed.headers().allValues("set-cookie")).containsExactly("a=1; Path=/", "b=2");
        assertThat(reversed.headers().firstValue("access-control-allow-origin")).as("no Cors: the function's own header stays")
                .hasValue("https://evil.example");

        // The path fallback shares the platform's origin: the tenant's page gets an opaque origin and cannot widen a
        // service worker's scope over the console or the API.
        var sw = get(id, "/sw");
        assertThat(sw.statusCode()).isEqualTo(200);
        assertThat(sw.headers().firstValue("service-worker-allowed")).isEmpty();
        assertThat(sw.headers().firstValue("content-security-policy")).hasValueSatisfying(v -> assertThat(v).startsWith("sandbox "));

        var plain = get(id, "/plain");
        assertThat(plain.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(json(plain).path("hello").asText()).isEqualTo("world");
        assertThat(text(get(id, "/string"))).isEqualTo("just text");
        var missing = get(id, "/elsewhere");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(text(missing)).isEqualTo("no route /elsewhere");

        var failed = get(id, "/fail");
        assertThat(failed.statusCode()).isEqualTo(502);
        assertThat(json(failed).path("Message").asText()).isEqualTo("Internal Server Error");
        var split = get(id, "/split");
        assertThat(split.statusCode()).as("a header value with CR LF is a bad response").isEqualTo(502);
        assertThat(split.headers().allValues("set-cookie")).isEmpty();
        assertThat(get(id, "/badstatus").statusCode()).isEqualTo(502);
        assertThat(get(id, "/bad64").statusCode()).isEqualTo(502);
    }

    @Test
    void hostileRequestsAreRefusedBeforeTheFunctionRuns() throws Exception {
        create("url-bad");
        String id = id(lambda.createFunctionUrlConfig(b -> b.functionName("url-bad").authType(FunctionUrlAuthType.NONE)).functionUrl());
        grantPublic("url-bad", null);
        assertThat(get("a".repeat(32), "/plain").statusCode()).as("unknown id").isEqualTo(403);
        assertThat(get("../../2015-03-31/functions", "").statusCode()).as("not an id").isEqualTo(403);
        var tooBig = send(HttpRequest.newBuilder(uri(id, "/reverse")).header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[6 * 1024 * 1024 + 1])));
        assertThat(tooBig.statusCode()).isEqualTo(413);
        // under 6 MB as sent, over it once base64 in the event: still refused, as Lambda's limit is on the event
        var tooBigEncoded = send(HttpRequest.newBuilder(uri(id, "/reverse")).header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[5 * 1024 * 1024])));
        assertThat(tooBigEncoded.statusCode()).isEqualTo(413);
        assertThat(json(tooBigEncoded).path("Message").asText()).isEqualTo("Request Entity Too Large");
        assertThat(get(id, "/plain").statusCode()).as("the URL still works").isEqualTo(200);
    }

    @Test
    void corsPreflightIsAnsweredByThePlatform() throws Exception {
        create("url-cors");
        String id = id(lambda.createFunctionUrlConfig(b -> b.functionName("url-cors").authType(FunctionUrlAuthType.AWS_IAM)
                .cors(c -> c.allowOrigins("https://app.example").allowMethods("GET", "POST").allowHeaders("x-token")
                        .exposeHeaders("x-custom").maxAge(600).allowCredentials(true))).functionUrl());
        var preflight = send(HttpRequest.newBuilder(uri(id, "/reverse")).method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                .header("Origin", "https://app.example").header("Access-Control-Request-Method", "POST"));
        assertThat(preflight.statusCode()).as("unsigned: browsers never sign a preflight").isEqualTo(200);
        assertThat(preflight.headers().firstValue("access-control-allow-origin")).hasValue("https://app.example");
        assertThat(preflight.headers().firstValue("access-control-allow-methods")).hasValue("GET,POST");
        assertThat(preflight.headers().firstValue("access-control-allow-headers")).hasValue("x-token");
        assertThat(preflight.headers().firstValue("access-control-max-age")).hasValue("600");
        assertThat(preflight.headers().firstValue("access-control-allow-credentials")).hasValue("true");
        var otherOrigin = send(HttpRequest.newBuilder(uri(id, "/reverse")).method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                .header("Origin", "https://evil.example").header("Access-Control-Request-Method", "POST"));
        assertThat(otherOrigin.headers().firstValue("access-control-allow-origin")).isEmpty();
        var otherMethod = send(HttpRequest.newBuilder(uri(id, "/reverse")).method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                .header("Origin", "https://app.example").header("Access-Control-Request-Method", "DELETE"));
        assertThat(otherMethod.headers().firstValue("access-control-allow-origin")).isEmpty();

        var signed = signedSend(key, id, "POST", "/reverse", "abc", "https://app.example");
        assertThat(signed.statusCode()).isEqualTo(201);
        assertThat(signed.headers().firstValue("access-control-allow-origin")).as("the platform's, not the function's")
                .hasValue("https://app.example");
        assertThat(signed.headers().firstValue("access-control-expose-headers")).hasValue("x-custom");
    }

    @Test
    void anAwsIamUrlWantsAValidSignatureAndForAnotherAccountAGrant() throws Exception {
        create("url-iam");
        String id = id(lambda.createFunctionUrlConfig(b -> b.functionName("url-iam").authType(FunctionUrlAuthType.AWS_IAM)).functionUrl());
        var unsigned = get(id, "/echo");
        assertThat(unsigned.statusCode()).isEqualTo(403);
        assertThat(unsigned.headers().firstValue("x-amzn-errortype")).hasValue("MissingAuthenticationTokenException");
        var forged = signedSend(new ConfigStore.IssuedKey(key.accountId(), key.accessKeyId(), "not-the-secret"), id, "GET", "/echo", "", null);
        assertThat(forged.statusCode()).isEqualTo(403);
        assertThat(forged.headers().firstValue("x-amzn-errortype")).hasValue("InvalidSignatureException");

        var owner = signedSend(key, id, "GET", "/echo", "", null);
        assertThat(owner.statusCode()).as("the owner's own key needs no grant").isEqualTo(200);
        JsonNode iam = json(owner).path("requestContext").path("authorizer").path("iam");
        assertThat(iam.path("accountId").asText()).isEqualTo(key.accountId());
        assertThat(iam.path("accessKey").asText()).isEqualTo(key.accessKeyId());

        assertThat(signedSend(bobKey, id, "GET", "/echo", "", null).statusCode()).as("another account, no grant").isEqualTo(403);
        lambda.addPermission(b -> b.functionName("url-iam").statementId("bob-url").action("lambda:InvokeFunctionUrl")
                .principal(bobKey.accountId()).functionUrlAuthType(FunctionUrlAuthType.AWS_IAM));
        assertThat(signedSend(bobKey, id, "GET", "/echo", "", null).statusCode()).isEqualTo(403);
        lambda.addPermission(b -> b.functionName("url-iam").statementId("bob-invoke").action("lambda:InvokeFunction")
                .principal(bobKey.accountId()));
        var granted = signedSend(bobKey, id, "GET", "/echo", "", null);
        assertThat(granted.statusCode()).isEqualTo(200);
        assertThat(json(granted).path("requestContext").path("authorizer").path("iam").path("accountId").asText())
                .isEqualTo(bobKey.accountId());
    }

    @Test
    void theHostNamesTheUrl() throws Exception {
        create("url-host");
        String url = lambda.createFunctionUrlConfig(b -> b.functionName("url-host").authType(FunctionUrlAuthType.NONE)).functionUrl();
        grantPublic("url-host", null);
        String host = URI.create(url).getAuthority();
        String answer = raw("GET /echo?q=1 HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
        assertThat(answer).startsWith("HTTP/1.1 200");
        assertThat(answer.toLowerCase(java.util.Locale.ROOT)).as("its own origin: left as the function answered")
                .doesNotContain("content-security-policy");
        String body = answer.substring(answer.indexOf("\r\n\r\n") + 4);
        JsonNode event = Json.mapper().readTree(body);
        assertThat(event.path("rawPath").asText()).isEqualTo("/echo");
        assertThat(event.path("requestContext").path("domainName").asText()).isEqualTo(host.substring(0, host.lastIndexOf(':')));
        assertThat(raw("GET /echo HTTP/1.1\r\nHost: " + "b".repeat(32) + ".lambda-url.us-east-1.localhost\r\nConnection: close\r\n\r\n"))
                .startsWith("HTTP/1.1 403");
    }

    /** A request written by hand to 127.0.0.1 with the given Host (no DNS needed, and java.net.http will not set Host). */
    String raw(String request) throws Exception {
        try (Socket s = new Socket("127.0.0.1", platform.port())) {
            s.setSoTimeout(60_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            var head = new ByteArrayOutputStream();
            while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                int c = in.read();
                if (c < 0) {
                    break;
                }
                head.write(c);
            }
            String h = head.toString(StandardCharsets.ISO_8859_1);
            var length = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(h);
            byte[] body = length.find() ? in.readNBytes(Integer.parseInt(length.group(1))) : new byte[0];
            return h + new String(body, StandardCharsets.UTF_8);
        }
    }

    /** Signs as the AWS SDK signs (SigV4, service lambda) and sends through the path fallback. */
    HttpResponse<byte[]> signedSend(ConfigStore.IssuedKey k, String urlId, String method, String path, String body, String origin)
            throws Exception {
        String fullPath = "/lambda-url/" + urlId + path;
        var request = SdkHttpRequest.builder().method(SdkHttpMethod.fromValue(method)).protocol("http").host("127.0.0.1")
                .port(platform.port()).encodedPath(fullPath).putHeader("Content-Type", "text/plain").build();
        var signed = AwsV4HttpSigner.create().sign(r -> r.identity(AwsCredentialsIdentity.create(k.accessKeyId(), k.secretAccessKey()))
                .request(request).payload(ContentStreamProvider.fromUtf8String(body))
                .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "lambda").putProperty(AwsV4HttpSigner.REGION_NAME, "us-east-1"));
        var b = HttpRequest.newBuilder(uri(urlId, path)).method(method, body.isEmpty() ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body));
        signed.request().headers().forEach((name, values) -> {
            if (!name.equalsIgnoreCase("host")) {
                values.forEach(v -> b.header(name, v));
            }
        });
        if (origin != null) {
            b.header("Origin", origin);
        }
        return send(b);
    }
}

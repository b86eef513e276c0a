package dev.ignis.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.common.LambdaException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.internal.signer.CredentialScope;
import software.amazon.awssdk.http.auth.aws.internal.signer.V4Properties;
import software.amazon.awssdk.http.auth.aws.internal.signer.V4RequestSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * The verifier accepts what clients sign — SDK style (x-amz-content-sha256 signed) and AWS CLI style
 * (no such header), over randomized paths, encoded names, queries and padded header values — and
 * refuses the same requests changed after signing.
 */
class SigV4VerifierTest {
    static final Instant NOW = Instant.parse("2026-11-27T12:00:00Z");
    static final String ID = "AKIGTESTTESTTEST0000";
    static final String SECRET = "s3cr3t/with+odd=chars";
    final SigV4Verifier verifier = new SigV4Verifier(
            id -> id.equals(ID) ? Optional.of(new SigV4Verifier.Caller("123456789012", ID, SECRET)) : Optional.empty(),
            Clock.fixed(NOW, ZoneOffset.UTC));

    static ApiRequest signed(Random rnd, boolean withContentSha) {
        String[] methods = {"GET", "POST", "PUT", "DELETE"};
        String[] names = {"fn", "fn:live", "arn:aws:lambda:us-east-1:123456789012:function:fn", "a-b_c", "fn:$LATEST"};
        String method = methods[rnd.nextInt(methods.length)];
        String name = names[rnd.nextInt(names.length)];
        String encoded = java.net.URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
        String path = "/2015-03-31/functions/" + encoded + (rnd.nextBoolean() ? "/invocations" : "/aliases");
        byte[] body = ("{\"n\":" + rnd.nextInt() + ",\"s\":\"" + "x".repeat(rnd.nextInt(100)) + "\"}").getBytes(StandardCharsets.UTF_8);
        var b = SdkHttpRequest.builder().method(SdkHttpMethod.fromValue(method)).protocol("http").host("127.0.0.1").port(9000)
                .encodedPath(path).putHeader("Content-Type", "application/json").putHeader("X-Amz-Invocation-Type", "  Event  ");
        if (rnd.nextBoolean()) {
            b.putRawQueryParameter("Qualifier", "v" + rnd.nextInt(10));
            b.putRawQueryParameter("MaxItems", Integer.toString(rnd.nextInt(50)));
        }
        Instant at = NOW.minusSeconds(rnd.nextInt(200));
        SdkHttpRequest signedRequest;
        if (withContentSha) {
            // what the AWS SDKs send: x-amz-content-sha256 signed
            signedRequest = AwsV4HttpSigner.create().sign(r -> r.identity(AwsCredentialsIdentity.create(ID, SECRET)).request(b.build())
                    .payload(ContentStreamProvider.fromByteArrayUnsafe(body))
                    .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "lambda").putProperty(AwsV4HttpSigner.REGION_NAME, "us-east-1")
                    .putProperty(HttpSigner.SIGNING_CLOCK, Clock.fixed(at, ZoneOffset.UTC))).request();
        } else {
            // what the AWS CLI sends: no x-amz-content-sha256 header at all
            b.putHeader("Host", "127.0.0.1:9000").putHeader("X-Amz-Date",
                    java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC).format(at));
            var props = V4Properties.builder().credentials(AwsCredentialsIdentity.create(ID, SECRET))
                    .credentialScope(new CredentialScope("us-east-1", "lambda", at)).signingClock(Clock.fixed(at, ZoneOffset.UTC))
                    .doubleUrlEncode(true).normalizePath(true).build();
            var result = V4RequestSigner.create(props, java.util.HexFormat.of().formatHex(sha256(body))).sign(b);
            signedRequest = result.getSignedRequest().build();
            String day = java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd").withZone(ZoneOffset.UTC).format(at);
            signedRequest = signedRequest.toBuilder().putHeader("Authorization", "AWS4-HMAC-SHA256 Credential=" + ID + "/" + day
                    + "/us-east-1/lambda/aws4_request, SignedHeaders=" + result.getCanonicalRequest().getSignedHeadersString()
                    + ", Signature=" + result.getSignature()).build();
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        signedRequest.headers().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), new ArrayList<>(v)));
        if (!withContentSha) {
            assertThat(headers).doesNotContainKey("x-amz-content-sha256");
        }
        var uri = signedRequest.getUri();
        return new ApiRequest(method, uri.getRawPath(), uri.getRawQuery(), headers, body);
    }

    static byte[] sha256(byte[] b) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(b);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String param(ApiRequest r, String name) {
        String auth = r.header("authorization");
        int i = auth.indexOf(name + "=");
        int end = auth.indexOf(',', i);
        return auth.substring(i + name.length() + 1, end < 0 ? auth.length() : end).trim();
    }

    @Test
    void acceptsWhatSdkAndCliStyleClientsSign() {
        Random rnd = new Random(42);
        for (int i = 0; i < 300; i++) {
            ApiRequest r = signed(rnd, i % 2 == 0);
            assertThat(verifier.verify(r).accountId()).isEqualTo("123456789012");
        }
    }

    @Test
    void refusesRequestsChangedAfterSigning() {
        Random rnd = new Random(7);
        for (int i = 0; i < 50; i++) {
            ApiRequest r = signed(rnd, i % 2 == 0);
            assertThat(verifier.verify(r).accountId()).as("untampered request verifies").isEqualTo("123456789012");
            byte[] body = Arrays.copyOf(r.body(), r.body().length);
            body[0] ^= 1;
            var tamperedBody = new ApiRequest(r.method(), r.rawPath(), r.rawQuery(), r.headers(), body);
            var tamperedPath = new ApiRequest(r.method(), r.rawPath() + "x", r.rawQuery(), r.headers(), r.body());
            for (ApiRequest t : List.of(tamperedBody, tamperedPath)) {
                assertThatThrownBy(() -> verifier.verify(t)).isInstanceOfSatisfying(LambdaException.class,
                        e -> assertThat(e.type()).isEqualTo("InvalidSignatureException"));
            }
        }
    }

    /** A correctly signed CLI-style request over {@code region}/{@code service}, signing {@code host} or not. */
    static ApiRequest signedWithScope(String region, String service, boolean signHost) {
        Instant at = NOW.minusSeconds(5);
        String amzDate = java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC).format(at);
        var b = SdkHttpRequest.builder().method(SdkHttpMethod.GET).protocol("http").host("127.0.0.1").port(9000)
                .encodedPath("/2015-03-31/functions/").putHeader("X-Amz-Date", amzDate);
        if (signHost) {
            b.putHeader("Host", "127.0.0.1:9000");
        }
        var props = V4Properties.builder().credentials(AwsCredentialsIdentity.create(ID, SECRET))
                .credentialScope(new CredentialScope(region, service, at)).signingClock(Clock.fixed(at, ZoneOffset.UTC))
                .doubleUrlEncode(true).normalizePath(true).build();
        var result = V4RequestSigner.create(props, java.util.HexFormat.of().formatHex(sha256(new byte[0]))).sign(b);
        String signedHeaders = signHost ? result.getCanonicalRequest().getSignedHeadersString() : "x-amz-date";
        String signature = result.getSignature();
        if (!signHost) {
            // the SDK always signs host: sign the canonical request without it by hand
            String canonical = "GET\n/2015-03-31/functions/\n\nx-amz-date:" + amzDate + "\n\nx-amz-date\n"
                    + java.util.HexFormat.of().formatHex(sha256(new byte[0]));
            String toSign = "AWS4-HMAC-SHA256\n" + amzDate + "\n" + amzDate.substring(0, 8) + "/" + region + "/" + service + "/aws4_request\n"
                    + java.util.HexFormat.of().formatHex(sha256(canonical.getBytes(StandardCharsets.UTF_8)));
            byte[] k = hmac(("AWS4" + SECRET).getBytes(StandardCharsets.UTF_8), amzDate.substring(0, 8));
            for (String part : new String[] {region, service, "aws4_request"}) {
                k = hmac(k, part);
            }
            signature = java.util.HexFormat.of().formatHex(hmac(k, toSign));
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        headers.put("host", List.of("127.0.0.1:9000"));
        headers.put("x-amz-date", List.of(amzDate));
        headers.put("authorization", List.of("AWS4-HMAC-SHA256 Credential=" + ID + "/" + amzDate.substring(0, 8) + "/" + region + "/" + service
                + "/aws4_request, SignedHeaders=" + signedHeaders + ", Signature=" + signature));
        return new ApiRequest("GET", "/2015-03-31/functions/", null, headers, new byte[0]);
    }

    static byte[] hmac(byte[] key, String data) {
        try {
            var mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new javax.crypto.spec.SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    void refused(ApiRequest r, String message) {
        assertThatThrownBy(() -> verifier.verify(r)).isInstanceOfSatisfying(LambdaException.class, e -> {
            assertThat(e.status()).isEqualTo(403);
            assertThat(e.type()).isEqualTo("InvalidSignatureException");
            assertThat(e.getMessage()).contains(message);
        });
    }

    @Test
    void signatureScopedToAnotherRegionIsRefused() {
        assertThat(verifier.verify(signedWithScope("us-east-1", "lambda", true)).accountId()).isEqualTo("123456789012");
        refused(signedWithScope("eu-west-3", "lambda", true), "Credential should be scoped to a valid region");
    }

    @Test
    void signatureScopedToAnotherServiceIsRefused() {
        refused(signedWithScope("us-east-1", "s3", true), "Credential should be scoped to correct service: 'lambda'");
    }

    @Test
    void signatureThatDoesNotCoverTheHostIsRefused() {
        refused(signedWithScope("us-east-1", "lambda", false), "'Host' or ':authority' must be a 'SignedHeader'");
    }

    @Test
    void theHeadIsJudgedWithoutTheBody() {
        // admit never looks at the body: a head with no body at all is admitted, or refused by its key alone
        ApiRequest good = signedWithScope("us-east-1", "lambda", true);
        var head = new ApiRequest(good.method(), good.rawPath(), good.rawQuery(), good.headers(), null);
        assertThat(verifier.admit(head).caller().accountId()).isEqualTo("123456789012");
        var unknown = new java.util.HashMap<>(good.headers());
        unknown.put("authorization", List.of(good.header("authorization").replace(ID, "AKIGUNKNOWNUNKNOWN00")));
        assertThatThrownBy(() -> verifier.admit(new ApiRequest("GET", good.rawPath(), null, unknown, null)))
                .isInstanceOfSatisfying(LambdaException.class, e -> assertThat(e.type()).isEqualTo("UnrecognizedClientException"));
    }
}

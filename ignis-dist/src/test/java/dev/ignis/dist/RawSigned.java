package dev.ignis.dist;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/** Sends SigV4-signed requests the SDK client would never send (skewed clock, malformed JSON). */
final class RawSigned {
    private RawSigned() {}

    static HttpResponse<String> send(int port, String id, String secret, String method, String path, String body, Instant signedAt)
            throws Exception {
        return send(port, id, secret, method, path, body, signedAt, HttpResponse.BodyHandlers.ofString());
    }

    static <T> HttpResponse<T> send(int port, String id, String secret, String method, String path, String body, Instant signedAt,
                                    HttpResponse.BodyHandler<T> handler) throws Exception {
        var request = SdkHttpRequest.builder().method(SdkHttpMethod.fromValue(method)).protocol("http").host("127.0.0.1").port(port)
                .encodedPath(path).putHeader("Content-Type", "application/json").build();
        var signed = AwsV4HttpSigner.create().sign(r -> r.identity(AwsCredentialsIdentity.create(id, secret)).request(request)
                .payload(ContentStreamProvider.fromUtf8String(body))
                .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "lambda").putProperty(AwsV4HttpSigner.REGION_NAME, "us-east-1")
                .putProperty(HttpSigner.SIGNING_CLOCK, Clock.fixed(signedAt, ZoneOffset.UTC)));
        var b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).method(method, HttpRequest.BodyPublishers.ofString(body));
        signed.request().headers().forEach((k, v) -> {
            if (!k.equalsIgnoreCase("host")) {
                v.forEach(x -> b.header(k, x));
            }
        });
        try (var http = HttpClient.newHttpClient()) {
            return http.send(b.build(), handler);
        }
    }
}

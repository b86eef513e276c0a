package dev.ignis.dist.bench;

import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Clock;
import java.util.Map;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/** Requests signed like an SDK would, for the JDK's HTTP client (the async phase sends these). */
final class SignedRequests {
    private final AwsV4HttpSigner signer = AwsV4HttpSigner.create();
    private final String keyId;
    private final String secret;

    SignedRequests(String keyId, String secret) {
        this.keyId = keyId;
        this.secret = secret;
    }

    HttpRequest signed(int port, String path, byte[] body, Map<String, String> headers) {
        var rb = SdkHttpRequest.builder().method(SdkHttpMethod.POST).protocol("http").host("127.0.0.1").port(port).encodedPath(path);
        headers.forEach(rb::putHeader);
        var req = rb.build();
        var s = signer.sign(r -> r.identity(AwsCredentialsIdentity.create(keyId, secret)).request(req)
                .payload(ContentStreamProvider.fromByteArrayUnsafe(body))
                .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "lambda").putProperty(AwsV4HttpSigner.REGION_NAME, "us-east-1")
                .putProperty(HttpSigner.SIGNING_CLOCK, Clock.systemUTC()));
        var b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        s.request().headers().forEach((k, v) -> {
            if (!k.equalsIgnoreCase("host")) {
                v.forEach(x -> b.header(k, x));
            }
        });
        return b.build();
    }
}

package dev.ignis.bench;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * Signs requests the way an AWS SDK does (the SDK's own V4 signer, payload hash included), so the
 * client work is what a real caller pays. The load generator times it apart from the request.
 */
public final class Signer {
    private final AwsV4HttpSigner signer = AwsV4HttpSigner.create();
    private final AwsCredentialsIdentity identity;

    public Signer(String accessKeyId, String secret) {
        this.identity = AwsCredentialsIdentity.create(accessKeyId, secret);
    }

    /** The headers to send (name, value, ...), Host excluded: the connection writes the same Host. */
    public List<String> sign(String method, String host, int port, String path, Map<String, String> extra, byte[] body) {
        var rb = SdkHttpRequest.builder().method(SdkHttpMethod.fromValue(method)).protocol("http").host(host).port(port).encodedPath(path);
        extra.forEach(rb::putHeader);
        var req = rb.build();
        var signed = signer.sign(r -> r.identity(identity).request(req)
                .payload(ContentStreamProvider.fromByteArrayUnsafe(body))
                .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "lambda").putProperty(AwsV4HttpSigner.REGION_NAME, "us-east-1")
                .putProperty(HttpSigner.SIGNING_CLOCK, Clock.systemUTC()));
        List<String> out = new ArrayList<>(12);
        signed.request().headers().forEach((k, v) -> {
            if (!k.equalsIgnoreCase("host")) {
                for (String x : v) {
                    out.add(k);
                    out.add(x);
                }
            }
        });
        return out;
    }
}

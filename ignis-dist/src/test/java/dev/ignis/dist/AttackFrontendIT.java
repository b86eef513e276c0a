package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/**
 * The frontend as an unauthenticated attacker meets it, on a real platform: a request is judged by
 * its head before any body byte is read, and a signature counts only in this installation's
 * region, for the lambda service, with the host signed.
 */
class AttackFrontendIT extends PlatformTestBase {
    static final long SIXTY_MB = 60L * 1024 * 1024;
    static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    /** Sends only a request's head (no body byte) and reads what comes back within 5 s. */
    String headOnly(String head) throws IOException {
        try (var s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", platform.port()));
            s.setSoTimeout(5_000);
            s.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            long t0 = System.nanoTime();
            String answer = readAnswer(s.getInputStream());
            assertThat((System.nanoTime() - t0) / 1_000_000).as("answered at once, no body needed").isLessThan(5_000);
            return answer;
        }
    }

    /** The status line, headers and body (Content-Length) of one response; a read timeout means no answer came. */
    static String readAnswer(InputStream in) throws IOException {
        var out = new ByteArrayOutputStream();
        try {
            int b;
            while ((b = in.read()) >= 0) {
                out.write(b);
                String sofar = out.toString(StandardCharsets.US_ASCII);
                int end = sofar.indexOf("\r\n\r\n");
                if (end >= 0) {
                    var m = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(sofar);
                    int length = m.find() ? Integer.parseInt(m.group(1)) : 0;
                    return sofar + new String(in.readNBytes(length), StandardCharsets.UTF_8);
                }
            }
        } catch (SocketTimeoutException e) {
            return "no answer within the timeout: " + out.toString(StandardCharsets.US_ASCII);
        }
        return out.toString(StandardCharsets.US_ASCII);
    }

    String post(String path, long contentLength, String authorization) {
        String now = AMZ_DATE.format(Instant.now());
        return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + platform.port() + "\r\nContent-Type: application/json\r\n"
                + "X-Amz-Date: " + now + "\r\n" + (authorization == null ? "" : "Authorization: " + authorization + "\r\n")
                + "Content-Length: " + contentLength + "\r\n\r\n";
    }

    static String fakeAuthorization(String keyId) {
        String day = AMZ_DATE.format(Instant.now()).substring(0, 8);
        return "AWS4-HMAC-SHA256 Credential=" + keyId + "/" + day + "/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature="
                + "0".repeat(64);
    }

    @Test
    void unsignedRequestDeclaringSixtyMegabytesIsRefusedBeforeItsBodyIsSent() throws Exception {
        String answer = headOnly(post("/2015-03-31/functions", SIXTY_MB, null));
        assertThat(answer).startsWith("HTTP/1.1 403").contains("MissingAuthenticationTokenException").containsIgnoringCase("connection: close");
    }

    @Test
    void unknownKeyDeclaringSixtyMegabytesIsRefusedBeforeItsBodyIsSent() throws Exception {
        String answer = headOnly(post("/2015-03-31/functions", SIXTY_MB, fakeAuthorization("AKIGUNKNOWNUNKNOWN00")));
        assertThat(answer).startsWith("HTTP/1.1 403").contains("UnrecognizedClientException").containsIgnoringCase("connection: close");
    }

    @Test
    void knownKeyDeclaringMoreThanInvokeAcceptsIsRefusedBeforeItsBodyIsSent() throws Exception {
        String answer = headOnly(post("/2015-03-31/functions/any/invocations", SIXTY_MB, fakeAuthorization(key.accessKeyId())));
        assertThat(answer).startsWith("HTTP/1.1 413").contains("RequestEntityTooLargeException")
                .contains("Request must be smaller than 6291456 bytes for the Invoke operation");
    }

    @Test
    void chunkedBodyOverTheLimitIsCutAsItStreams() throws Exception {
        // no Content-Length to refuse up front: the body is cut one byte past Invoke's 6 MB, not read to its end
        String head = post("/2015-03-31/functions/any/invocations", 0, fakeAuthorization(key.accessKeyId()))
                .replace("Content-Length: 0\r\n", "Transfer-Encoding: chunked\r\n");
        long offered = 20L * 1024 * 1024;
        long sent = 0;
        String answer;
        try (var s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", platform.port()));
            s.setSoTimeout(10_000);
            var out = s.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = ("10000\r\n" + "x".repeat(0x10000) + "\r\n").getBytes(StandardCharsets.US_ASCII);
            try {
                for (; sent < offered; sent += 0x10000) {
                    out.write(chunk);
                }
                out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            } catch (IOException closed) {
                // the server stopped reading and closed: what we want
            }
            try {
                answer = readAnswer(s.getInputStream());
            } catch (IOException reset) {
                answer = "reset: " + reset;
            }
        }
        String result = answer;
        assertThat(sent < offered || result.startsWith("HTTP/1.1 413"))
                .as("cut before the end (sent %d of %d) or answered 413: %s", sent, offered, result).isTrue();
        assertThat(result).satisfiesAnyOf(a -> assertThat(a).startsWith("HTTP/1.1 413").contains("RequestEntityTooLargeException"),
                a -> assertThat(a).doesNotStartWith("HTTP/1.1"));
    }

    @Test
    void manyUnsignedSixtyMegabyteUploadsDoNotGrowTheHeap() throws Exception {
        // eight uploads at once, each sending its body as fast as the server takes it: all refused, none buffered
        var threads = new java.util.ArrayList<Thread>();
        var answers = new java.util.concurrent.ConcurrentLinkedQueue<String>();
        Runtime rt = Runtime.getRuntime();
        System.gc();
        long before = rt.totalMemory() - rt.freeMemory();
        var peak = new java.util.concurrent.atomic.AtomicLong(before);
        for (int i = 0; i < 8; i++) {
            threads.add(Thread.ofVirtual().start(() -> {
                try (var s = new Socket()) {
                    s.connect(new InetSocketAddress("127.0.0.1", platform.port()));
                    s.setSoTimeout(10_000);
                    var out = s.getOutputStream();
                    out.write(post("/2015-03-31/functions", SIXTY_MB, null).getBytes(StandardCharsets.US_ASCII));
                    byte[] chunk = new byte[64 * 1024];
                    try {
                        for (long sent = 0; sent < SIXTY_MB; sent += chunk.length) {
                            out.write(chunk);
                            peak.accumulateAndGet(rt.totalMemory() - rt.freeMemory(), Math::max);
                        }
                    } catch (IOException closed) {
                        // the server closed the connection: what we want
                    }
                    answers.add(readAnswer(s.getInputStream()));
                } catch (IOException e) {
                    answers.add("closed: " + e);
                }
            }));
        }
        for (Thread t : threads) {
            t.join(30_000);
        }
        assertThat(answers).hasSize(8).allSatisfy(a -> assertThat(a).satisfiesAnyOf(
                x -> assertThat(x).startsWith("HTTP/1.1 403"), x -> assertThat(x).startsWith("closed: ")));
        assertThat(answers).anySatisfy(a -> assertThat(a).startsWith("HTTP/1.1 403"));
        assertThat(peak.get() - before).as("heap growth while 8 x 60 MB were offered").isLessThan(8 * SIXTY_MB / 4);
    }

    @Test
    void signatureScopedToAnotherRegionIsRefused() throws Exception {
        var r = signed("eu-west-3", "lambda", true);
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.headers().firstValue("x-amzn-ErrorType")).hasValue("InvalidSignatureException");
        assertThat(r.body()).contains("Credential should be scoped to a valid region");
    }

    @Test
    void signatureScopedToAnotherServiceIsRefused() throws Exception {
        var r = signed("us-east-1", "s3", true);
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.headers().firstValue("x-amzn-ErrorType")).hasValue("InvalidSignatureException");
        assertThat(r.body()).contains("Credential should be scoped to correct service: 'lambda'");
    }

    @Test
    void signatureThatDoesNotCoverTheHostIsRefused() throws Exception {
        var r = signed("us-east-1", "lambda", false);
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.headers().firstValue("x-amzn-ErrorType")).hasValue("InvalidSignatureException");
        assertThat(r.body()).contains("'Host' or ':authority' must be a 'SignedHeader'");
        // the same request with the host signed is a good one: only the scope and the host made the difference
        assertThat(signed("us-east-1", "lambda", true).statusCode()).isEqualTo(200);
    }

    /** ListFunctions, correctly signed with alice's secret over the given scope, with or without {@code host} signed. */
    HttpResponse<String> signed(String region, String service, boolean signHost) throws Exception {
        String path = "/2015-03-31/functions/";
        Instant now = Instant.now();
        String amzDate = AMZ_DATE.format(now);
        Map<String, String> headers = new TreeMap<>();
        headers.put("x-amz-date", amzDate);
        if (signHost) {
            headers.put("host", "127.0.0.1:" + platform.port());
        }
        String signedHeaders = String.join(";", headers.keySet());
        var canonical = new StringBuilder("GET\n" + path + "\n\n");
        headers.forEach((k, v) -> canonical.append(k).append(':').append(v).append('\n'));
        canonical.append('\n').append(signedHeaders).append('\n').append(hex(sha256(new byte[0])));
        String scope = amzDate.substring(0, 8) + "/" + region + "/" + service + "/aws4_request";
        String toSign = "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex(sha256(canonical.toString().getBytes(StandardCharsets.UTF_8)));
        byte[] k = hmac(("AWS4" + key.secretAccessKey()).getBytes(StandardCharsets.UTF_8), amzDate.substring(0, 8));
        for (String part : new String[] {region, service, "aws4_request"}) {
            k = hmac(k, part);
        }
        String auth = "AWS4-HMAC-SHA256 Credential=" + key.accessKeyId() + "/" + scope + ", SignedHeaders=" + signedHeaders
                + ", Signature=" + hex(hmac(k, toSign));
        var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + platform.port() + path)).GET()
                .header("X-Amz-Date", amzDate).header("Authorization", auth).build();
        try (var http = HttpClient.newHttpClient()) {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        }
    }

    static byte[] sha256(byte[] b) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(b);
    }

    static byte[] hmac(byte[] key, String data) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}

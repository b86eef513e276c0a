package dev.ignis.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The SigV4 fast path computes exactly the signature the AWS SDK's signer computes, for every
 * request it takes on; everything else it leaves to the SDK (returns null).
 */
class CanonicalRequestTest {
    static final String SECRET = "s3cr3t/with+odd=chars";
    static final String[] SEGMENTS = {"2015-03-31", "functions", "fn", "fn%3Alive", "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Afn",
            "a.b_c-d~e", "invocations", ".", "..", "", "caf%C3%A9", "x%20y", "sp ace", "a+b", "UPPER", "n:colon"};
    static final String[] VALUES = {"application/json", "Event", "RequestResponse", "  padded  ", "two  spaces", "a, b", "one space",
            "tab\there", "20261127T120000Z", "text/plain; charset=utf-8"};

    final SigV4Verifier verifier = new SigV4Verifier(id -> java.util.Optional.empty(), java.time.Clock.systemUTC());
    final CanonicalRequest fast = new CanonicalRequest();

    @Test
    void fastPathAgreesWithTheSdkSigner() {
        Random rnd = new Random(2026);
        int fastTaken = 0;
        for (int i = 0; i < 5000; i++) {
            ApiRequest r = request(rnd);
            String amzDate = String.format("202611%02dT%02d%02d%02dZ", 1 + rnd.nextInt(28), rnd.nextInt(24), rnd.nextInt(60), rnd.nextInt(60));
            String[] scope = {"AKIGTEST", amzDate.substring(0, 8), rnd.nextBoolean() ? "us-east-1" : "eu-west-3", "lambda", "aws4_request"};
            String signedHeaders = String.join(";", r.headers().keySet().stream().sorted().toList());
            String payloadHash = SigV4Verifier.payloadHash(r);
            String quick = fast.signature(r, SECRET, amzDate, scope, signedHeaders, payloadHash);
            if (quick == null) {
                continue;
            }
            fastTaken++;
            var caller = new SigV4Verifier.Caller("123456789012", "AKIGTEST", SECRET);
            String sdk = verifier.expectedSignature(r, caller, scope[2], scope[3], signedHeaders, SigV4Verifier.signedAt(amzDate), payloadHash);
            assertThat(quick).as("request %s %s headers %s", r.method(), r.rawPath(), r.headers()).isEqualTo(sdk);
        }
        assertThat(fastTaken).as("the fast path is exercised").isGreaterThan(500);
    }

    @Test
    void typicalInvokeTakesTheFastPath() {
        Map<String, List<String>> h = new LinkedHashMap<>();
        h.put("host", List.of("127.0.0.1:9000"));
        h.put("x-amz-content-sha256", List.of("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"));
        h.put("x-amz-date", List.of("20261127T120000Z"));
        var r = new ApiRequest("POST", "/2015-03-31/functions/fn/invocations", null, h, "{}".getBytes(StandardCharsets.UTF_8));
        assertThat(fast.signature(r, SECRET, "20261127T120000Z", new String[] {"AK", "20261127", "us-east-1", "lambda", "aws4_request"},
                "host;x-amz-content-sha256;x-amz-date", SigV4Verifier.payloadHash(r))).isNotNull();
    }

    static ApiRequest request(Random rnd) {
        String[] methods = {"GET", "POST", "PUT", "DELETE"};
        StringBuilder path = new StringBuilder();
        int n = 1 + rnd.nextInt(5);
        for (int i = 0; i < n; i++) {
            path.append('/').append(SEGMENTS[rnd.nextInt(SEGMENTS.length)]);
        }
        if (rnd.nextInt(8) == 0) {
            path.append('/');
        }
        String query = rnd.nextInt(6) == 0 ? "Qualifier=v" + rnd.nextInt(9) : null;
        Map<String, List<String>> headers = new LinkedHashMap<>();
        headers.put("host", new ArrayList<>(List.of("127.0.0.1:" + (9000 + rnd.nextInt(3)))));
        headers.put("x-amz-date", new ArrayList<>(List.of("20261127T120000Z")));
        int extra = rnd.nextInt(4);
        for (int i = 0; i < extra; i++) {
            String name = "x-amz-" + (char) ('a' + rnd.nextInt(5));
            headers.computeIfAbsent(name, k -> new ArrayList<>()).add(VALUES[rnd.nextInt(VALUES.length)]);
        }
        byte[] body = ("{\"n\":" + rnd.nextInt() + "}").getBytes(StandardCharsets.UTF_8);
        return new ApiRequest(methods[rnd.nextInt(methods.length)], path.toString(), query, headers, body);
    }

    @Test
    void manualDateParseMatchesTheFormatter() {
        var f = java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(java.time.ZoneOffset.UTC);
        Random rnd = new Random(1);
        for (int i = 0; i < 1000; i++) {
            Instant t = Instant.ofEpochSecond(rnd.nextLong(4_000_000_000L));
            assertThat(SigV4Verifier.signedAt(f.format(t))).isEqualTo(t);
        }
    }
}

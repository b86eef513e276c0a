package dev.ignis.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.common.LambdaException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * AWS's published SigV4 test vectors (the aws-sig-v4-test-suite cases as awslabs/aws-c-auth carries them,
 * committed under src/test/resources/aws-signing-test-suite with their source named in its README) run
 * against the verifier: for each case, the canonical request of both the fast path and the SDK path and
 * the string to sign equal the vector's, a request carrying the vector's Authorization verifies with the
 * suite's credentials at the suite's time, and the same request changed by one byte, or with one byte of
 * the signature changed, is refused.
 *
 * <p>Cases the frontend does not accept, and why, are listed in {@link #NOT_ACCEPTED}: the test checks
 * that they are refused, so the list cannot hide a case that would pass.
 */
class SigV4TestSuiteTest {
    static final String ID = "AKIDEXAMPLE";
    static final String SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    static final Instant SIGNED_AT = Instant.parse("2015-08-30T12:36:00Z");

    /**
     * The suite's {@code *-unnormalized} cases sign the path as sent ({@code "normalize": false}, S3's
     * rule); Lambda, like every AWS service but S3, signs the normalized path (the SDK path runs with
     * {@code normalizePath(true)}), so their signatures do not verify. The {@code get-space-*} cases put a
     * raw space in the path: it cannot reach the verifier (an HTTP/1.1 request line ends the target at a
     * space; a client sends {@code %20}, which Lambda's double encoding signs as {@code %2520}), and no
     * signer can build that URI: refused as a bad signature.
     */
    static final Map<String, String> NOT_ACCEPTED = Map.of(
            "get-space-normalized", "raw space in the path",
            "get-space-unnormalized", "raw space in the path",
            "get-relative-relative-unnormalized", "S3-style unnormalized path",
            "get-relative-unnormalized", "S3-style unnormalized path",
            "get-slash-dot-slash-unnormalized", "S3-style unnormalized path",
            "get-slash-pointless-dot-unnormalized", "S3-style unnormalized path",
            "get-slash-unnormalized", "S3-style unnormalized path",
            "get-slashes-unnormalized", "S3-style unnormalized path");

    static final Path SUITE = suite();

    final SigV4Verifier verifier = new SigV4Verifier(
            id -> id.equals(ID) ? Optional.of(new SigV4Verifier.Caller("123456789012", ID, SECRET)) : Optional.empty(),
            Clock.fixed(SIGNED_AT.plusSeconds(30), ZoneOffset.UTC), "us-east-1", "service");

    static Path suite() {
        try {
            return Path.of(SigV4TestSuiteTest.class.getResource("/aws-signing-test-suite/v4").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<String> cases() {
        try (Stream<Path> s = Files.list(SUITE)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String read(String name, String file) {
        try {
            return Files.readString(SUITE.resolve(name).resolve(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A signed request as an HTTP server hands it to the frontend: request line, header lines (names
     * lower-cased, a repeated name's values in order, a continuation line folded into the value before it
     * with its line break as a space, as RFC 9112 §5.2 lets a recipient do), a blank line, the body.
     */
    static ApiRequest parse(String raw) {
        String[] headAndBody = raw.split("\n\n", 2);
        String[] lines = headAndBody[0].split("\n");
        String[] requestLine = lines[0].split(" ");
        String target = String.join(" ", java.util.Arrays.copyOfRange(requestLine, 1, requestLine.length - 1));
        int q = target.indexOf('?');
        Map<String, List<String>> headers = new LinkedHashMap<>();
        String last = null;
        for (int i = 1; i < lines.length; i++) {
            String line = lines[i];
            if (line.startsWith(" ") || line.startsWith("\t")) {
                List<String> values = headers.get(last);
                values.set(values.size() - 1, values.getLast() + " " + line.strip());
                continue;
            }
            int colon = line.indexOf(':');
            last = line.substring(0, colon).toLowerCase(Locale.ROOT);
            headers.computeIfAbsent(last, k -> new ArrayList<>()).add(line.substring(colon + 1));
        }
        byte[] body = headAndBody.length > 1 ? headAndBody[1].getBytes(StandardCharsets.UTF_8) : new byte[0];
        return new ApiRequest(requestLine[0], q < 0 ? target : target.substring(0, q), q < 0 ? null : target.substring(q + 1), headers, body);
    }

    @Test
    void theSuiteIsThere() {
        assertThat(cases()).hasSize(38).hasSize(NOT_ACCEPTED.size() + 30).contains("get-vanilla", "post-x-www-form-urlencoded", "get-header-key-duplicate",
                "get-vanilla-query-order-key-case", "get-slash-dot-slash-normalized", "get-utf8");
    }

    @TestFactory
    Stream<DynamicTest> eachVectorCanonicalizesSignsAndVerifiesAsAwsPublished() {
        return cases().stream().filter(c -> !NOT_ACCEPTED.containsKey(c)).map(c -> DynamicTest.dynamicTest(c, () -> {
            ApiRequest r = parse(read(c, "header-signed-request.txt"));
            SigV4Verifier.Signed s = verifier.admit(r);
            String creq = read(c, "header-canonical-request.txt");
            String sts = read(c, "header-string-to-sign.txt");
            SigV4Verifier.Canonical canonical = verifier.canonical(s, r);
            assertThat(canonical.sdk()).as("SDK path's canonical request").isEqualTo(creq);
            if (canonical.fast() != null) {
                assertThat(canonical.fast()).as("fast path's canonical request").isEqualTo(creq);
            }
            assertThat(SigV4Verifier.stringToSign(s, canonical.sdk())).as("string to sign").isEqualTo(sts);
            assertThat(s.signature()).isEqualTo(read(c, "header-signature.txt").strip());
            assertThat(verifier.verify(r).accessKeyId()).isEqualTo(ID);

            // one byte of the signature changed
            String auth = r.header("authorization");
            char lastChar = auth.charAt(auth.length() - 1);
            ApiRequest forged = withHeader(r, "authorization", auth.substring(0, auth.length() - 1) + (lastChar == '0' ? '1' : '0'));
            assertThatThrownBy(() -> verifier.verify(forged)).isInstanceOfSatisfying(LambdaException.class,
                    e -> assertThat(e.type()).isEqualTo("InvalidSignatureException"));
            // the request changed after signing: the last signed header's value, or the body
            String[] signed = s.signedHeaders().split(";");
            String changedName = signed[signed.length - 1].equals("x-amz-date") ? signed[0] : signed[signed.length - 1];
            ApiRequest changed = withHeader(r, changedName, r.header(changedName) + "x");
            assertThatThrownBy(() -> verifier.verify(changed)).isInstanceOf(LambdaException.class);
            if (r.body().length > 0) {
                byte[] body = r.body().clone();
                body[0] ^= 1;
                ApiRequest otherBody = new ApiRequest(r.method(), r.rawPath(), r.rawQuery(), r.headers(), body);
                assertThatThrownBy(() -> verifier.verify(otherBody)).isInstanceOf(LambdaException.class);
            }
        }));
    }

    @TestFactory
    Stream<DynamicTest> theCasesLambdaDoesNotAcceptAreRefused() {
        return NOT_ACCEPTED.keySet().stream().sorted().map(c -> DynamicTest.dynamicTest(c, () -> {
            assertThat(cases()).contains(c);
            ApiRequest r = parse(read(c, "header-signed-request.txt"));
            assertThatThrownBy(() -> verifier.verify(r)).isInstanceOfSatisfying(LambdaException.class,
                    e -> assertThat(e.type()).isEqualTo("InvalidSignatureException"));
            if (!c.startsWith("get-space")) {
                assertThat(verifier.canonical(verifier.admit(r), r).sdk()).isNotEqualTo(read(c, "header-canonical-request.txt"));
            }
        }));
    }

    @Test
    void theLambdaVerifierRefusesTheSuitesServiceAndAWrongRegionOrTime() {
        ApiRequest r = parse(read("get-vanilla", "header-signed-request.txt"));
        var lookup = (SigV4Verifier.KeyLookup) id -> Optional.of(new SigV4Verifier.Caller("123456789012", ID, SECRET));
        assertThatThrownBy(() -> new SigV4Verifier(lookup, Clock.fixed(SIGNED_AT, ZoneOffset.UTC), "us-east-1").verify(r))
                .hasMessageContaining("correct service: 'lambda'");
        assertThatThrownBy(() -> new SigV4Verifier(lookup, Clock.fixed(SIGNED_AT, ZoneOffset.UTC), "eu-west-1", "service").verify(r))
                .hasMessageContaining("valid region");
        assertThatThrownBy(() -> new SigV4Verifier(lookup, Clock.fixed(SIGNED_AT.plusSeconds(301), ZoneOffset.UTC), "us-east-1", "service")
                .verify(r)).hasMessageContaining("Signature expired");
    }

    static ApiRequest withHeader(ApiRequest r, String name, String value) {
        Map<String, List<String>> h = new LinkedHashMap<>(r.headers());
        h.put(name, List.of(value));
        return new ApiRequest(r.method(), r.rawPath(), r.rawQuery(), h, r.body());
    }
}

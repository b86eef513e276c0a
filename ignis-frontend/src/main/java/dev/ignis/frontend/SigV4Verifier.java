package dev.ignis.frontend;

import dev.ignis.common.LambdaException;
import dev.ignis.config.Region;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.internal.signer.CredentialScope;
import software.amazon.awssdk.http.auth.aws.internal.signer.V4Properties;
import software.amazon.awssdk.http.auth.aws.internal.signer.V4RequestSigner;
import software.amazon.awssdk.http.auth.aws.internal.signer.V4RequestSigningResult;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * Verifies AWS Signature Version 4 (Authorization-header form) on every API request.
 *
 * <p>The expected signature is computed by the AWS SDK for Java v2's own V4 request signer over
 * exactly the headers the client says it signed, at the time the client says it signed, so
 * canonicalization (double-encoded paths, sorted query, trimmed header values) is AWS's, not ours.
 * We call the SDK's {@code V4RequestSigner} (an internal SDK class, pinned with the SDK version)
 * rather than {@code AwsV4HttpSigner}, because the latter always adds and signs
 * {@code x-amz-content-sha256}, which the AWS CLI does not send.
 *
 * <p>Verification has two steps, so that nothing of an unauthenticated request's body is read:
 * {@link #admit} judges the head alone (shape, scope, signed host, time, key) before the body is
 * read, {@link #verify(Signed, ApiRequest)} the signature once it is in.
 */
public final class SigV4Verifier {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SigV4Verifier.class);
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    private static final Duration MAX_SKEW = Duration.ofMinutes(5);
    /** Compiled once: {@code String.matches} compiled it on every request. */
    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");
    /** The signing name a credential scope must name (Lambda's); another only for AWS's test vectors. */
    private static final String SERVICE = "lambda";

    /** Who signed: the account and the key's secret. */
    public record Caller(String accountId, String accessKeyId, String secret) {}

    /** Finds an active key. */
    public interface KeyLookup {
        Optional<Caller> find(String accessKeyId);
    }

    private final KeyLookup keys;
    private final Clock clock;
    private final String region;
    private final String service;
    private final CanonicalRequest fast = new CanonicalRequest();

    /** Verifies signatures scoped to this installation's region ({@link Region#NAME}). */
    public SigV4Verifier(KeyLookup keys, Clock clock) {
        this(keys, clock, Region.NAME);
    }

    /** @param region the region a credential scope must name, as AWS accepts only its endpoint's region */
    public SigV4Verifier(KeyLookup keys, Clock clock, String region) {
        this(keys, clock, region, SERVICE);
    }

    /** @param service the service a credential scope must name: {@code lambda} but in tests over AWS's vectors */
    SigV4Verifier(KeyLookup keys, Clock clock, String region, String service) {
        this.keys = keys;
        this.clock = clock;
        this.region = region;
        this.service = service;
    }

    /**
     * A request's head, checked before its body is read: who signed it, and what the signature
     * covers. {@link #verify(Signed, ApiRequest)} checks the signature itself once the body is in.
     */
    public record Signed(Caller caller, String amzDate, String[] scope, String signedHeaders, String signature) {}

    /** Checks the head and the signature over the whole request (head and body). */
    public Caller verify(ApiRequest r) {
        return verify(admit(r), r);
    }

    /**
     * Everything that can be checked without the body, cheapest first: the Authorization header's
     * shape, the credential scope (this installation's region, the {@code lambda} service), that
     * {@code host} is signed (as AWS requires: without it a signature could be replayed against
     * another endpoint), the signing time, and that the access key exists. Reads no body byte.
     */
    public Signed admit(ApiRequest head) {
        String auth = head.header("authorization");
        if (auth == null || !auth.startsWith("AWS4-HMAC-SHA256 ")) {
            throw new LambdaException(403, "MissingAuthenticationTokenException", "Missing Authentication Token: sign the request with AWS Signature Version 4");
        }
        Map<String, String> parts = parseAuthorization(auth.substring("AWS4-HMAC-SHA256 ".length()));
        String[] scope = parts.getOrDefault("Credential", "").split("/");
        String signedHeaders = parts.get("SignedHeaders");
        String signature = parts.get("Signature");
        if (scope.length != 5 || signedHeaders == null || signature == null || !"aws4_request".equals(scope[4])) {
            throw new LambdaException(400, "IncompleteSignatureException", "Authorization header requires Credential, SignedHeaders and Signature");
        }
        if (!region.equals(scope[2])) {
            throw new LambdaException(403, "InvalidSignatureException", "Credential should be scoped to a valid region. ");
        }
        if (!service.equals(scope[3])) {
            throw new LambdaException(403, "InvalidSignatureException", "Credential should be scoped to correct service: '" + service + "'. ");
        }
        if (!signsHost(signedHeaders)) {
            throw new LambdaException(403, "InvalidSignatureException", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
        }
        String amzDate = head.header("x-amz-date");
        Instant signedAt = signedAt(amzDate);
        Instant now = clock.instant();
        if (Duration.between(signedAt, now).abs().compareTo(MAX_SKEW) > 0) {
            throw new LambdaException(403, "InvalidSignatureException", "Signature expired: " + AMZ_DATE.format(signedAt)
                    + " is now earlier than " + AMZ_DATE.format(now.minus(MAX_SKEW)) + " (" + AMZ_DATE.format(now) + " - 5 min.)"
                    + " or later than " + AMZ_DATE.format(now.plus(MAX_SKEW)) + ". Check your clock.");
        }
        if (!amzDate.startsWith(scope[1]) || scope[1].length() != 8) {
            throw invalidSignature();
        }
        Caller caller = keys.find(scope[0]).orElseThrow(() ->
                new LambdaException(403, "UnrecognizedClientException", "The security token included in the request is invalid."));
        return new Signed(caller, amzDate, scope, signedHeaders, signature);
    }

    /** The signature over the whole request, its head already admitted by {@link #admit}. */
    public Caller verify(Signed s, ApiRequest r) {
        String payloadHash = payloadHash(r);
        String expected = fast.signature(r, s.caller().secret(), s.amzDate(), s.scope(), s.signedHeaders(), payloadHash);
        if (expected == null) {
            expected = expectedSignature(r, s.caller(), s.scope()[2], s.scope()[3], s.signedHeaders(), signedAt(s.amzDate()), payloadHash);
        }
        if (!MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII), s.signature().getBytes(StandardCharsets.US_ASCII))) {
            throw invalidSignature();
        }
        return s.caller();
    }

    /**
     * The canonical requests both paths build for an admitted request (the fast one null where it
     * declines), and the string to sign over each: for the tests against AWS's published vectors.
     */
    record Canonical(String fast, String sdk) {}

    Canonical canonical(Signed s, ApiRequest r) {
        String payloadHash = payloadHash(r);
        String sdk = signWithSdk(r, s.caller(), s.scope()[2], s.scope()[3], s.signedHeaders(), signedAt(s.amzDate()), payloadHash)
                .getCanonicalRequest().getCanonicalRequestString();
        return new Canonical(fast.canonical(r, s.signedHeaders(), payloadHash), sdk);
    }

    static String stringToSign(Signed s, String canonical) {
        return CanonicalRequest.stringToSign(s.amzDate(), s.scope(), canonical);
    }

    /** {@code host} is one of the ';'-separated names (they are lower case in a valid signature). */
    private static boolean signsHost(String signedHeaders) {
        int from = 0;
        while (true) {
            int at = signedHeaders.indexOf("host", from);
            if (at < 0) {
                return false;
            }
            int end = at + 4;
            if ((at == 0 || signedHeaders.charAt(at - 1) == ';') && (end == signedHeaders.length() || signedHeaders.charAt(end) == ';')) {
                return true;
            }
            from = end;
        }
    }

    /** The general path: the AWS SDK's V4 signer over the headers the client signed. */
    String expectedSignature(ApiRequest r, Caller caller, String region, String service, String signedHeaders, Instant signedAt,
                             String payloadHash) {
        var result = signWithSdk(r, caller, region, service, signedHeaders, signedAt, payloadHash);
        if (LOG.isDebugEnabled()) {
            LOG.debug("canonical request:\n{}", result.getCanonicalRequest().getCanonicalRequestString());
        }
        return result.getSignature();
    }

    private static V4RequestSigningResult signWithSdk(ApiRequest r, Caller caller, String region, String service, String signedHeaders,
                                                      Instant signedAt, String payloadHash) {
        String host = r.header("host");
        if (host == null) {
            throw invalidSignature();
        }
        try {
            return signWithSdk(r, caller, region, service, signedHeaders, signedAt, payloadHash, host);
        } catch (IllegalArgumentException e) {
            // a path, host or query no URI can hold (a raw space, ...): no client can have signed it
            throw invalidSignature();
        }
    }

    private static V4RequestSigningResult signWithSdk(ApiRequest r, Caller caller, String region, String service, String signedHeaders,
                                                      Instant signedAt, String payloadHash, String host) {
        int colon = host.lastIndexOf(':');
        var b = SdkHttpRequest.builder()
                .method(SdkHttpMethod.fromValue(r.method()))
                .protocol("http")
                .host(colon > 0 ? host.substring(0, colon) : host)
                .port(colon > 0 ? Integer.parseInt(host.substring(colon + 1)) : 80)
                .encodedPath(r.rawPath());
        if (r.rawQuery() != null && !r.rawQuery().isEmpty()) {
            for (String pair : r.rawQuery().split("&")) {
                int eq = pair.indexOf('=');
                b.appendRawQueryParameter(decode(eq < 0 ? pair : pair.substring(0, eq)), eq < 0 ? "" : decode(pair.substring(eq + 1)));
            }
        }
        for (String name : signedHeaders.split(";")) {
            List<String> values = r.headers().get(name);
            if (values == null) {
                throw invalidSignature();
            }
            b.putHeader(name, values);
        }
        var properties = V4Properties.builder()
                .credentials(AwsCredentialsIdentity.create(caller.accessKeyId(), caller.secret()))
                .credentialScope(new CredentialScope(region, service, signedAt))
                .signingClock(Clock.fixed(signedAt, ZoneOffset.UTC))
                .doubleUrlEncode(true)
                .normalizePath(true)
                .build();
        return V4RequestSigner.create(properties, payloadHash).sign(b);
    }

    /** The client's declared payload hash if it signed one, else the hash of the body as received. */
    static String payloadHash(ApiRequest r) {
        String declared = r.header("x-amz-content-sha256");
        if (declared != null && HEX64.matcher(declared).matches()) {
            String actual = sha256Hex(r.body());
            if (!actual.equals(declared)) {
                throw new LambdaException(400, "InvalidSignatureException", "The provided x-amz-content-sha256 does not match the request body");
            }
            return actual;
        }
        return sha256Hex(r.body());
    }

    private static String sha256Hex(byte[] body) {
        return java.util.HexFormat.of().formatHex(CanonicalRequest.sha256(body));
    }

    /** Parses yyyyMMdd'T'HHmmss'Z' by hand: DateTimeFormatter was a sixth of the verification. */
    static Instant signedAt(String date) {
        if (date == null) {
            throw new LambdaException(400, "IncompleteSignatureException", "X-Amz-Date header is required");
        }
        try {
            if (date.length() != 16 || date.charAt(8) != 'T' || date.charAt(15) != 'Z') {
                throw new DateTimeParseException("shape", date, 0);
            }
            for (int i = 0; i < 15; i++) {
                if (i != 8 && !Character.isDigit(date.charAt(i))) {
                    throw new DateTimeParseException("digits", date, i);
                }
            }
            return java.time.LocalDateTime.of(num(date, 0, 4), num(date, 4, 6), num(date, 6, 8), num(date, 9, 11), num(date, 11, 13),
                    num(date, 13, 15)).toInstant(ZoneOffset.UTC);
        } catch (java.time.DateTimeException e) {
            throw new LambdaException(400, "IncompleteSignatureException", "X-Amz-Date must look like 20150830T123600Z");
        }
    }

    private static int num(String s, int from, int to) {
        int v = 0;
        for (int i = from; i < to; i++) {
            v = v * 10 + (s.charAt(i) - '0');
        }
        return v;
    }

    private static Map<String, String> parseAuthorization(String s) {
        var out = new java.util.HashMap<String, String>();
        for (String part : s.split(",")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                out.put(part.substring(0, eq).trim(), part.substring(eq + 1).trim());
            }
        }
        return out;
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static LambdaException invalidSignature() {
        return new LambdaException(403, "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.");
    }
}

package dev.ignis.frontend;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The fast path of SigV4 verification for the requests the invoke path sees all day: a plain
 * path, no query, header values without runs of whitespace. For those, the canonical request is
 * short enough to build directly, and the signing key (four HMACs) is derived once per secret,
 * day, region and service instead of once per request.
 *
 * <p>Design note: anything outside those conditions returns null and {@link SigV4Verifier} falls
 * back to the AWS SDK's own signer, which remains the reference: {@code CanonicalRequestTest} checks
 * that both give the same signature over randomized requests, so the fast path cannot quietly
 * accept what the SDK would refuse.
 */
final class CanonicalRequest {
    private static final HexFormat HEX = HexFormat.of();
    private static final int MAX_KEYS = 10_000;

    private record KeyScope(String secret, String date, String region, String service) {}

    /** Signing keys as initialized HMACs: a request clones one (copying its state) instead of looking up and keying a new Mac. */
    private final Map<KeyScope, Mac> signingKeys = new ConcurrentHashMap<>();
    private static final MessageDigest SHA256 = digest();

    /**
     * The expected signature, or null when the request needs the general (SDK) path.
     *
     * @param amzDate       the X-Amz-Date value ({@code yyyyMMdd'T'HHmmss'Z'})
     * @param scope         access key id, date, region, service, "aws4_request"
     * @param signedHeaders the client's SignedHeaders (lower case, sorted, ';'-separated)
     */
    String signature(ApiRequest r, String secret, String amzDate, String[] scope, String signedHeaders, String payloadHash) {
        String canonical = canonical(r, signedHeaders, payloadHash);
        if (canonical == null) {
            return null;
        }
        Mac key = copy(signingKey(secret, scope[1], scope[2], scope[3]));
        return HEX.formatHex(key.doFinal(stringToSign(amzDate, scope, canonical).getBytes(StandardCharsets.UTF_8)));
    }

    /** The canonical request, or null when the request needs the general (SDK) path. */
    String canonical(ApiRequest r, String signedHeaders, String payloadHash) {
        if (r.rawQuery() != null && !r.rawQuery().isEmpty()) {
            return null;
        }
        StringBuilder c = new StringBuilder(512).append(r.method()).append('\n');
        if (!appendCanonicalUri(c, r.rawPath())) {
            return null;
        }
        c.append("\n\n");
        String previous = "";
        int from = 0;
        while (from <= signedHeaders.length()) {
            int semi = signedHeaders.indexOf(';', from);
            String name = signedHeaders.substring(from, semi < 0 ? signedHeaders.length() : semi);
            if (name.isEmpty() || name.compareTo(previous) <= 0 || !isLowerToken(name)) {
                return null; // unsorted, duplicate or odd names: the SDK decides
            }
            List<String> values = r.headers().get(name);
            if (values == null || values.isEmpty()) {
                return null;
            }
            c.append(name).append(':');
            for (int i = 0; i < values.size(); i++) {
                String v = values.get(i);
                if (!isPlainValue(v)) {
                    return null;
                }
                c.append(i > 0 ? "," : "").append(v);
            }
            c.append('\n');
            previous = name;
            from = semi < 0 ? signedHeaders.length() + 1 : semi + 1;
        }
        c.append('\n').append(signedHeaders).append('\n').append(payloadHash);
        return c.toString();
    }

    /** The string to sign over a canonical request: algorithm, time, credential scope, the request's hash. */
    static String stringToSign(String amzDate, String[] scope, String canonical) {
        return "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope[1] + "/" + scope[2] + "/" + scope[3] + "/aws4_request\n"
                + HEX.formatHex(sha256(canonical.getBytes(StandardCharsets.UTF_8)));
    }

    private Mac signingKey(String secret, String date, String region, String service) {
        var id = new KeyScope(secret, date, region, service);
        Mac key = signingKeys.get(id);
        if (key == null) {
            key = mac(hmac(hmac(hmac(hmac(("AWS4" + secret).getBytes(StandardCharsets.UTF_8), date), region), service), "aws4_request"));
            if (signingKeys.size() >= MAX_KEYS) {
                signingKeys.clear(); // a new day, or churned keys: derive again
            }
            signingKeys.put(id, key);
        }
        return key;
    }

    /** A private copy of a keyed prototype (which is never used itself, so it stays in its initial state). */
    private static Mac copy(Mac prototype) {
        try {
            return (Mac) prototype.clone();
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("HmacSHA256 of this JDK cannot be cloned", e);
        }
    }

    /**
     * The SDK double-encodes the already percent-encoded path after normalizing it. For a path of
     * unreserved characters, '/', '%' and ':' without empty or dot segments, normalizing changes
     * nothing and encoding touches only '%' and ':'.
     */
    private static boolean appendCanonicalUri(StringBuilder c, String path) {
        if (path.isEmpty() || path.charAt(0) != '/' || path.contains("//")) {
            return false;
        }
        int segmentStart = 1;
        for (int i = 1; i <= path.length(); i++) {
            char ch = i < path.length() ? path.charAt(i) : '/';
            if (ch == '/') {
                String seg = path.substring(segmentStart, i);
                if (seg.equals(".") || seg.equals("..")) {
                    return false;
                }
                segmentStart = i + 1;
            } else if (!(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_' || ch == '.'
                    || ch == '~' || ch == '%' || ch == ':')) {
                return false;
            }
        }
        c.append('/');
        for (int i = 1; i < path.length(); i++) {
            char ch = path.charAt(i);
            switch (ch) {
                case '%' -> c.append("%25");
                case ':' -> c.append("%3A");
                default -> c.append(ch);
            }
        }
        return true;
    }

    private static boolean isLowerToken(String name) {
        for (int i = 0; i < name.length(); i++) {
            char ch = name.charAt(i);
            if (!(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_' || ch == '.')) {
                return false;
            }
        }
        return true;
    }

    /** Printable ASCII without leading, trailing or doubled spaces and without commas: the SDK would leave it unchanged. */
    private static boolean isPlainValue(String v) {
        if (v.isEmpty() || v.charAt(0) == ' ' || v.charAt(v.length() - 1) == ' ') {
            return false;
        }
        for (int i = 0; i < v.length(); i++) {
            char ch = v.charAt(i);
            if (ch < 0x20 || ch > 0x7e || ch == ',' || ch == ' ' && v.charAt(i - 1) == ' ') {
                return false;
            }
        }
        return true;
    }

    static byte[] sha256(byte[] data) {
        try {
            return ((MessageDigest) SHA256.clone()).digest(data);
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("SHA-256 of this JDK cannot be cloned", e);
        }
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Mac mac(byte[] key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] hmac(byte[] key, String data) {
        return mac(key).doFinal(data.getBytes(StandardCharsets.UTF_8));
    }
}

package dev.ignis.frontend;

import dev.ignis.common.LambdaException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * GetFunction's Code.Location: a URL that downloads the package without SigV4, valid for ten
 * minutes, like S3's presigned URLs. The token is an HMAC over (account, sha, expiry).
 */
final class CodeLinks {
    private static final Duration VALIDITY = Duration.ofMinutes(10);
    private final byte[] key;
    private final Clock clock;

    CodeLinks(byte[] key, Clock clock) {
        this.key = key.clone();
        this.clock = clock;
    }

    String link(String host, String account, String sha256Hex) {
        long expires = clock.instant().plus(VALIDITY).getEpochSecond();
        return "http://" + host + "/ignis/code/" + sha256Hex + ".zip?account=" + account + "&expires=" + expires
                + "&token=" + token(account, sha256Hex, expires);
    }

    /** Checks a download request; throws 403 AccessDeniedException on a bad or expired token. */
    void check(String sha256Hex, String account, String expires, String token) {
        long exp;
        try {
            exp = Long.parseLong(expires);
        } catch (NumberFormatException | NullPointerException e) {
            throw LambdaException.accessDenied("Request has expired or is not signed");
        }
        if (token == null || account == null || clock.instant().getEpochSecond() > exp
                || !MessageDigest.isEqual(token.getBytes(StandardCharsets.US_ASCII), token(account, sha256Hex, exp).getBytes(StandardCharsets.US_ASCII))) {
            throw LambdaException.accessDenied("Request has expired or is not signed");
        }
    }

    private String token(String account, String sha, long expires) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal((account + "/" + sha + "/" + expires).getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}

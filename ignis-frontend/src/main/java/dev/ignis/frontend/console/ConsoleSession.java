package dev.ignis.frontend.console;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The console's sign-in session: a cookie derived from the admin token, never the token itself.
 *
 * <p>Design note: the value is {@code <expiry epoch seconds>.<HMAC-SHA256(admin token, expiry)>}, so
 * the server keeps no session state, a stolen cookie is worth at most {@link #LIFETIME} and cannot be
 * turned back into the token, and changing the admin token ends every session. The cookie is
 * {@code HttpOnly} (no script reads it), {@code SameSite=Strict} (no other site's page sends it) and
 * scoped to the console's path.
 */
final class ConsoleSession {
    static final String COOKIE = "ignis_console";
    static final Duration LIFETIME = Duration.ofHours(8);
    private static final String PURPOSE = "ignis-console-session\n";
    private final SecretKeySpec key;

    ConsoleSession(String adminToken) {
        this.key = new SecretKeySpec(adminToken.getBytes(StandardCharsets.UTF_8), "HmacSHA256");
    }

    /** A {@code Set-Cookie} value for a session that starts at {@code now}. */
    String issue(Instant now, String path) {
        long expiry = now.plus(LIFETIME).getEpochSecond();
        return COOKIE + "=" + expiry + "." + mac(expiry) + "; Path=" + path + "; Max-Age=" + LIFETIME.toSeconds()
                + "; HttpOnly; SameSite=Strict";
    }

    /** A {@code Set-Cookie} value that ends the session in the browser. */
    static String clear(String path) {
        return COOKIE + "=; Path=" + path + "; Max-Age=0; HttpOnly; SameSite=Strict";
    }

    /** Whether a {@code Cookie} header carries a session that this token issued and that has not expired. */
    boolean valid(String cookieHeader, Instant now) {
        return session(cookieHeader, now) != null;
    }

    /**
     * What a console page must send back with each data request ({@code X-Ignis-Console}) in this session: a MAC
     * of the session, written into the page it was served. A script of another page of this origin (a function
     * URL's answer on the {@code /lambda-url/} path) sends the cookie too, but cannot read the page to learn it.
     */
    String pageToken(String session) {
        return mac("page\n" + session);
    }

    /** The session a {@code Cookie} header carries, when this token issued it and it has not expired; else null. */
    String session(String cookieHeader, Instant now) {
        if (cookieHeader == null || cookieHeader.length() > 8192) {
            return null;
        }
        for (String part : cookieHeader.split(";")) {
            String c = part.strip();
            if (!c.startsWith(COOKIE + "=")) {
                continue;
            }
            String value = c.substring(COOKIE.length() + 1);
            int dot = value.indexOf('.');
            if (dot < 1 || dot > 19) {
                continue;
            }
            long expiry;
            try {
                expiry = Long.parseLong(value.substring(0, dot));
            } catch (NumberFormatException e) {
                continue;
            }
            if (expiry > now.getEpochSecond() && expiry <= now.plus(LIFETIME).getEpochSecond()
                    && MessageDigest.isEqual(mac(expiry).getBytes(StandardCharsets.US_ASCII),
                    value.substring(dot + 1).getBytes(StandardCharsets.US_ASCII))) {
                return value;
            }
        }
        return null;
    }

    private String mac(long expiry) {
        return mac(PURPOSE + expiry);
    }

    private String mac(String text) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(text.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}

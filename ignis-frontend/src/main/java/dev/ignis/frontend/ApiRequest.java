package dev.ignis.frontend;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One HTTP request as the API sees it, independent of the HTTP server: raw (still percent-encoded)
 * path and query, because SigV4 signs those, header names lower-cased, and the whole body.
 *
 * @param bodySha256 the SHA-256 of exactly {@code body}, when the HTTP server computed it while reading
 *                   the body (it overlaps the network read); null: SigV4 verification hashes the body itself
 */
public record ApiRequest(String method, String rawPath, String rawQuery, Map<String, List<String>> headers, byte[] body,
                         byte[] bodySha256) {

    public ApiRequest(String method, String rawPath, String rawQuery, Map<String, List<String>> headers, byte[] body) {
        this(method, rawPath, rawQuery, headers, body, null);
    }

    public String header(String lowerCaseName) {
        List<String> v = headers.get(lowerCaseName);
        return v == null || v.isEmpty() ? null : v.getFirst();
    }

    /** Query parameters, decoded; the first value of each name. */
    public Map<String, String> query() {
        Map<String, String> out = new LinkedHashMap<>();
        if (rawQuery == null || rawQuery.isEmpty()) {
            return out;
        }
        for (String pair : rawQuery.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String k = decode(eq < 0 ? pair : pair.substring(0, eq));
            String v = eq < 0 ? "" : decode(pair.substring(eq + 1));
            out.putIfAbsent(k, v);
        }
        return out;
    }

    static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }
}

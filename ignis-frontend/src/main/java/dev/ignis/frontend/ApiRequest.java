package dev.ignis.frontend;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One HTTP request as the API sees it, independent of the HTTP server: raw (still percent-encoded)
 * path and query, because SigV4 signs those, header names lower-cased, and the whole body.
 */
public record ApiRequest(String method, String rawPath, String rawQuery, Map<String, List<String>> headers, byte[] body) {

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

    /** Every value of a repeated query parameter (e.g. UntagResource's {@code tagKeys}), decoded, in order. */
    public List<String> queryAll(String name) {
        List<String> out = new java.util.ArrayList<>();
        if (rawQuery == null || rawQuery.isEmpty()) {
            return out;
        }
        for (String pair : rawQuery.split("&")) {
            int eq = pair.indexOf('=');
            if (!pair.isEmpty() && decode(eq < 0 ? pair : pair.substring(0, eq)).equals(name)) {
                out.add(eq < 0 ? "" : decode(pair.substring(eq + 1)));
            }
        }
        return out;
    }

    static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }
}

package dev.ignis.frontend;

import dev.ignis.config.FunctionUrl;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * CORS for a function URL with a {@code Cors} configuration, answered by the platform as Lambda
 * answers it: a preflight ({@code OPTIONS} with {@code Origin} and
 * {@code Access-Control-Request-Method}) never reaches the function, and on every other answer the
 * platform's CORS headers replace any the function set. A disallowed origin or method gets a
 * preflight without CORS headers, which the browser treats as a refusal. Only configured values
 * (checked as visible ASCII at CreateFunctionUrlConfig) and the request's own {@code Origin} (one
 * that matched the configuration) are echoed.
 */
final class UrlCors {
    private UrlCors() {}

    static boolean isPreflight(ApiRequest r) {
        return "OPTIONS".equals(r.method()) && r.header("origin") != null && r.header("access-control-request-method") != null;
    }

    static ApiResponse preflight(FunctionUrl.Cors cors, ApiRequest r) {
        Map<String, String> h = new LinkedHashMap<>();
        String origin = r.header("origin");
        String method = r.header("access-control-request-method");
        h.put("vary", "Origin");
        if (originAllowed(cors, origin) && (cors.allowMethods().contains("*") || cors.allowMethods().contains(method))) {
            h.put("access-control-allow-origin", allowOrigin(cors, origin));
            h.put("access-control-allow-methods", String.join(",", cors.allowMethods()));
            if (!cors.allowHeaders().isEmpty()) {
                h.put("access-control-allow-headers", String.join(",", cors.allowHeaders()));
            }
            if (Boolean.TRUE.equals(cors.allowCredentials())) {
                h.put("access-control-allow-credentials", "true");
            }
            if (cors.maxAge() != null) {
                h.put("access-control-max-age", cors.maxAge().toString());
            }
        }
        return new ApiResponse(200, h, new byte[0]);
    }

    /** The function's answer with the platform's CORS headers in place of any it set. */
    static ApiResponse decorate(FunctionUrl.Cors cors, ApiRequest r, ApiResponse out) {
        Map<String, String> h = new LinkedHashMap<>();
        out.headers().forEach((k, v) -> {
            if (!k.toLowerCase(Locale.ROOT).startsWith("access-control-")) {
                h.put(k, v);
            }
        });
        String origin = r.header("origin");
        if (origin != null && originAllowed(cors, origin)) {
            h.put("access-control-allow-origin", allowOrigin(cors, origin));
            if (!cors.exposeHeaders().isEmpty()) {
                h.put("access-control-expose-headers", String.join(",", cors.exposeHeaders()));
            }
            if (Boolean.TRUE.equals(cors.allowCredentials())) {
                h.put("access-control-allow-credentials", "true");
            }
            h.put("vary", "Origin");
        }
        return out.withHeaders(h);
    }

    private static boolean originAllowed(FunctionUrl.Cors cors, String origin) {
        return origin != null && (cors.allowOrigins().contains("*") || cors.allowOrigins().stream().anyMatch(o -> o.equalsIgnoreCase(origin)));
    }

    /** {@code *} when any origin is allowed without credentials; else the request's origin, which matched one configured. */
    private static String allowOrigin(FunctionUrl.Cors cors, String origin) {
        boolean any = cors.allowOrigins().contains("*");
        return any && !Boolean.TRUE.equals(cors.allowCredentials()) ? "*" : origin;
    }
}

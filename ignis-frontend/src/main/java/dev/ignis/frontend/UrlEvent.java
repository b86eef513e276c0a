package dev.ignis.frontend;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.ignis.common.Json;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The event a function URL hands its function: Lambda's payload format 2.0 (API Gateway HTTP API's),
 * built from the request as received. Header names are lower case, repeated headers and query
 * parameters are joined with commas, the {@code cookie} header becomes {@code cookies}, and a body
 * is passed as text only when it is declared textual and is valid UTF-8 (else base64, with
 * {@code isBase64Encoded}): every byte the client sent reaches the function unchanged.
 */
final class UrlEvent {
    /** Set by {@link FrontendServer} from the connection (a client's own header of that name is dropped first). */
    static final String SOURCE_IP = "x-ignis-source-ip";
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT).withZone(ZoneOffset.UTC);

    /** Who signed an AWS_IAM request (null for NONE). */
    record Iam(String accessKey, String accountId) {}

    private UrlEvent() {}

    static byte[] build(ApiRequest r, String path, String urlId, String ownerAccount, String host, Iam iam, String requestId, Instant now) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("version", "2.0");
        e.put("routeKey", "$default");
        e.put("rawPath", path);
        e.put("rawQueryString", r.rawQuery() == null ? "" : r.rawQuery());
        List<String> cookies = new ArrayList<>();
        Map<String, String> headers = new LinkedHashMap<>();
        r.headers().forEach((name, values) -> {
            if (name.equals("cookie")) {
                values.forEach(v -> {
                    for (String c : v.split(";")) {
                        if (!c.isBlank()) {
                            cookies.add(c.strip());
                        }
                    }
                });
            } else if (!name.equals(SOURCE_IP)) {
                headers.put(name, String.join(",", values));
            }
        });
        // as Lambda's front end adds them: the client's address appended to any chain it sent, and how it came
        String ip = r.header(SOURCE_IP) == null ? "" : r.header(SOURCE_IP);
        headers.merge("x-forwarded-for", ip, (chain, mine) -> chain + ", " + mine);
        headers.put("x-forwarded-proto", "http");
        if (!cookies.isEmpty()) {
            e.put("cookies", cookies);
        }
        e.put("headers", headers);
        Map<String, String> query = queryParameters(r);
        if (!query.isEmpty()) {
            e.put("queryStringParameters", query);
        }
        Map<String, Object> http = new LinkedHashMap<>();
        http.put("method", r.method());
        http.put("path", path);
        http.put("protocol", "HTTP/1.1");
        http.put("sourceIp", ip);
        http.put("userAgent", r.header("user-agent") == null ? "" : r.header("user-agent"));
        Map<String, Object> context = new LinkedHashMap<>();
        context.put("accountId", iam == null ? "anonymous" : iam.accountId());
        context.put("apiId", urlId);
        if (iam != null) {
            Map<String, Object> who = new LinkedHashMap<>();
            who.put("accessKey", iam.accessKey());
            who.put("accountId", iam.accountId());
            who.put("callerId", iam.accessKey());
            who.put("userArn", "arn:aws:iam::" + iam.accountId() + ":root");
            who.put("userId", iam.accountId());
            context.put("authorizer", Map.of("iam", who));
        }
        context.put("domainName", host == null ? "" : stripPort(host));
        context.put("domainPrefix", urlId);
        context.put("http", http);
        context.put("requestId", requestId);
        context.put("routeKey", "$default");
        context.put("stage", "$default");
        context.put("time", TIME.format(now));
        context.put("timeEpoch", now.toEpochMilli());
        e.put("requestContext", context);
        boolean base64 = false;
        if (r.body().length > 0) {
            String text = textual(r.header("content-type"), r.body());
            base64 = text == null;
            e.put("body", base64 ? Base64.getEncoder().encodeToString(r.body()) : text);
        }
        e.put("isBase64Encoded", base64);
        try {
            return Json.mapper().writeValueAsBytes(e);
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException(ex);
        }
    }

    private static Map<String, String> queryParameters(ApiRequest r) {
        Map<String, String> out = new LinkedHashMap<>();
        if (r.rawQuery() == null || r.rawQuery().isEmpty()) {
            return out;
        }
        for (String pair : r.rawQuery().split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String k;
            String v;
            try {
                k = ApiRequest.decode(eq < 0 ? pair : pair.substring(0, eq));
                v = eq < 0 ? "" : ApiRequest.decode(pair.substring(eq + 1));
            } catch (IllegalArgumentException bad) { // a stray '%': the function still has rawQueryString
                continue;
            }
            out.merge(k, v, (a, b) -> a + "," + b);
        }
        return out;
    }

    /** The body as text when its type is textual (or absent) and it is valid UTF-8; else null (base64). */
    private static String textual(String contentType, byte[] body) {
        if (contentType != null && !isTextType(contentType.toLowerCase(Locale.ROOT))) {
            return null;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static boolean isTextType(String type) {
        String t = type.split(";", 2)[0].strip();
        return t.startsWith("text/") || t.equals("application/json") || t.endsWith("+json") || t.equals("application/xml")
                || t.endsWith("+xml") || t.equals("application/javascript") || t.equals("application/x-www-form-urlencoded")
                || t.equals("application/graphql");
    }

    private static String stripPort(String host) {
        int colon = host.lastIndexOf(':');
        return colon > 0 && host.indexOf(']') < colon ? host.substring(0, colon) : host;
    }
}

package dev.ignis.frontend;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ignis.common.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Maps what a function returned to the HTTP answer of its function URL, as Lambda does (payload
 * format 2.0): an object with {@code statusCode} is an HTTP response ({@code headers},
 * {@code cookies}, {@code body}, {@code isBase64Encoded}); any other JSON is a 200
 * {@code application/json} whose body is that JSON (a JSON string: its text); anything that is not
 * JSON, or a response that breaks the shape, is a 502, the function's bytes never reaching the
 * client as headers. The function is hostile too: header names must be tokens, values may hold no
 * control character (no response splitting), and framing headers are the platform's own.
 */
final class UrlResponse {
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}");
    private static final Pattern VALUE = Pattern.compile("[\\t\\x20-\\x7e\\x80-\\xff]*");
    /** Framing and connection headers: the platform's, never the function's. */
    private static final Set<String> HOP = Set.of("content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te",
            "trailer", "proxy-connection");

    private UrlResponse() {}

    /** Thrown for a response Lambda would answer 502 for; the message goes to the log, not the client. */
    static final class BadResponse extends RuntimeException {
        BadResponse(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * The metadata prelude of a streamed answer in {@code application/vnd.awslambda.http-integration-response}
     * ({@code HttpResponseStream.from}): JSON {@code statusCode} (default 200), {@code headers}, {@code cookies}, checked
     * as a buffered answer's are. The body is the stream after the prelude; its content type defaults to
     * {@code application/octet-stream}.
     */
    static ApiResponse prelude(byte[] json) {
        JsonNode root;
        try {
            root = Json.mapper().readTree(json);
        } catch (IOException e) {
            throw new BadResponse("the streamed response's prelude is not JSON");
        }
        if (root == null || !root.isObject()) {
            throw new BadResponse("the streamed response's prelude must be a JSON object");
        }
        var node = (com.fasterxml.jackson.databind.node.ObjectNode) root;
        node.remove("body");
        node.remove("isBase64Encoded");
        if (!node.has("statusCode")) {
            node.put("statusCode", 200);
        }
        boolean typed = false;
        for (var e : node.path("headers").properties()) {
            typed |= e.getKey().equalsIgnoreCase("content-type");
        }
        ApiResponse out = map(node.toString().getBytes(StandardCharsets.UTF_8));
        return typed ? out : out.withHeader("content-type", "application/octet-stream");
    }

    static ApiResponse map(byte[] payload) {
        JsonNode root;
        try {
            root = Json.mapper().readTree(payload);
        } catch (IOException e) {
            throw new BadResponse("the function's response is not JSON");
        }
        if (root == null || root.isMissingNode()) {
            throw new BadResponse("the function returned nothing");
        }
        if (!root.isObject() || !root.has("statusCode")) {
            byte[] body = root.isTextual() ? root.textValue().getBytes(StandardCharsets.UTF_8) : payload;
            return new ApiResponse(200, Map.of("content-type", "application/json"), body);
        }
        JsonNode status = root.get("statusCode");
        if (!status.isIntegralNumber() || status.intValue() < 200 || status.intValue() > 599) {
            throw new BadResponse("statusCode must be an integer from 200 to 599");
        }
        Map<String, String> headers = new LinkedHashMap<>();
        JsonNode h = root.path("headers");
        if (!h.isMissingNode() && !h.isNull()) {
            if (!h.isObject()) {
                throw new BadResponse("headers must be an object");
            }
            for (var e : h.properties()) {
                String name = e.getKey().toLowerCase(Locale.ROOT);
                JsonNode v = e.getValue();
                if (!v.isValueNode() || v.isNull()) {
                    throw new BadResponse("header " + name + " must be a string");
                }
                String value = v.asText();
                if (!TOKEN.matcher(name).matches() || !VALUE.matcher(value).matches()) {
                    throw new BadResponse("header " + name + " has a name or value HTTP cannot carry");
                }
                if (!HOP.contains(name)) {
                    headers.put(name, value);
                }
            }
        }
        headers.putIfAbsent("content-type", "application/json");
        List<String> cookies = new ArrayList<>();
        JsonNode c = root.path("cookies");
        if (!c.isMissingNode() && !c.isNull()) {
            if (!c.isArray()) {
                throw new BadResponse("cookies must be a list of strings");
            }
            for (JsonNode cookie : c) {
                if (!cookie.isTextual() || !VALUE.matcher(cookie.textValue()).matches()) {
                    throw new BadResponse("cookies must be strings HTTP can carry");
                }
                cookies.add(cookie.textValue());
            }
        }
        byte[] body = new byte[0];
        JsonNode b = root.path("body");
        if (!b.isMissingNode() && !b.isNull()) {
            String text = b.isTextual() ? b.textValue() : b.toString();
            if (root.path("isBase64Encoded").asBoolean(false)) {
                try {
                    body = Base64.getDecoder().decode(text);
                } catch (IllegalArgumentException e) {
                    throw new BadResponse("body is not valid base64 though isBase64Encoded is true");
                }
            } else {
                body = text.getBytes(StandardCharsets.UTF_8);
            }
        }
        int code = status.intValue();
        if (code == 204 || code == 304) {
            body = new byte[0]; // HTTP forbids a body on these
        }
        return new ApiResponse(code, headers, body, cookies);
    }
}

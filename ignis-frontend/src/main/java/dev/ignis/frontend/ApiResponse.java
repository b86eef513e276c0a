package dev.ignis.frontend;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.ignis.common.Json;
import dev.ignis.common.LambdaException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the API answers: status, headers and body, and {@code Set-Cookie} values (each its own
 * header line; only function URLs set them). A streamed answer (InvokeWithResponseStream, a streaming
 * function URL) has a {@link Streamer} instead of a body: it writes the body as it comes, flushing each piece.
 */
public record ApiResponse(int status, Map<String, String> headers, byte[] body, java.util.List<String> cookies, Streamer stream) {

    /** Writes a streamed body; each flush of {@code out} sends what was written (chunked transfer encoding). */
    @FunctionalInterface
    public interface Streamer {
        void writeTo(java.io.OutputStream out) throws java.io.IOException;
    }

    public ApiResponse {
        cookies = cookies == null ? java.util.List.of() : java.util.List.copyOf(cookies);
    }

    public ApiResponse(int status, Map<String, String> headers, byte[] body, java.util.List<String> cookies) {
        this(status, headers, body, cookies, null);
    }

    public ApiResponse(int status, Map<String, String> headers, byte[] body) {
        this(status, headers, body, java.util.List.of());
    }

    /** A streamed answer. */
    public static ApiResponse streamed(int status, Map<String, String> headers, java.util.List<String> cookies, Streamer stream) {
        return new ApiResponse(status, headers, new byte[0], cookies, stream);
    }

    /** This answer with other headers (the body, cookies and stream kept). */
    public ApiResponse withHeaders(Map<String, String> replaced) {
        return new ApiResponse(status, replaced, body, cookies, stream);
    }

    public static ApiResponse json(int status, Object value) {
        try {
            return new ApiResponse(status, Map.of("Content-Type", "application/json"), Json.mapper().writeValueAsBytes(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static ApiResponse empty(int status) {
        return new ApiResponse(status, Map.of(), new byte[0]);
    }

    /**
     * The errors whose shape in botocore's model spells the member {@code Message}, as Lambda sends it;
     * the others spell it {@code message} (BotocoreShapesIT checks both against the model).
     */
    private static final java.util.Set<String> CAPITAL_MESSAGE = java.util.Set.of("ResourceNotFoundException", "ServiceException",
            "CodeSigningConfigNotFoundException", "InvalidZipFileException", "InvalidRuntimeException", "ResourceInUseException",
            "InvalidCodeSignatureException", "CodeVerificationFailedException", "NoPublishedVersionException", "RecursiveInvocationException");

    /** AWS's error shape: x-amzn-ErrorType header, JSON body with Type and message (or Message, per the model; and e.g. Reason). */
    public static ApiResponse error(LambdaException e, String requestId) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("Type", e.userFault() ? "User" : "Service");
        body.put(CAPITAL_MESSAGE.contains(e.type()) ? "Message" : "message", e.getMessage());
        body.putAll(e.extra());
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Type", "application/json");
        headers.put("x-amzn-ErrorType", e.type());
        headers.put("x-amzn-RequestId", requestId);
        if (e.status() == 429) {
            headers.put("Retry-After", "1");
        }
        try {
            return new ApiResponse(e.status(), headers, Json.mapper().writeValueAsBytes(body));
        } catch (JsonProcessingException ex) {
            return new ApiResponse(e.status(), headers, e.getMessage().getBytes(StandardCharsets.UTF_8));
        }
    }

    public ApiResponse withHeader(String name, String value) {
        var h = new LinkedHashMap<>(headers);
        h.put(name, value);
        return new ApiResponse(status, h, body, cookies, stream);
    }
}

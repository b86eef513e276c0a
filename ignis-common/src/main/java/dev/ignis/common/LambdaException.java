package dev.ignis.common;

import java.util.Map;

/**
 * A user-visible failure with the AWS Lambda error shape: HTTP status, the error type sent in
 * {@code x-amzn-ErrorType} (e.g. {@code ResourceNotFoundException}), whether it is the caller's
 * fault ({@code User}) or ours ({@code Service}), a message that says what to do, and optional
 * extra members of the error body (e.g. {@code Reason} of a throttle).
 */
public final class LambdaException extends RuntimeException {
    private final int status;
    private final String type;
    private final boolean userFault;
    private final Map<String, String> extra;

    public LambdaException(int status, String type, String message) {
        this(status, type, message, status < 500, Map.of());
    }

    public LambdaException(int status, String type, String message, boolean userFault, Map<String, String> extra) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.userFault = userFault;
        this.extra = Map.copyOf(extra);
    }

    public int status() { return status; }
    public String type() { return type; }
    public boolean userFault() { return userFault; }
    public Map<String, String> extra() { return extra; }

    public static LambdaException invalidParameter(String message) {
        return new LambdaException(400, "InvalidParameterValueException", message);
    }
    public static LambdaException notFound(String message) {
        return new LambdaException(404, "ResourceNotFoundException", message);
    }
    public static LambdaException conflict(String message) {
        return new LambdaException(409, "ResourceConflictException", message);
    }
    public static LambdaException preconditionFailed(String message) {
        return new LambdaException(412, "PreconditionFailedException", message);
    }
    public static LambdaException invalidRequestContent(String message) {
        return new LambdaException(400, "InvalidRequestContentException", message);
    }
    public static LambdaException tooLarge(String message) {
        return new LambdaException(413, "RequestTooLargeException", message);
    }
    public static LambdaException accessDenied(String message) {
        return new LambdaException(403, "AccessDeniedException", message);
    }
    public static LambdaException service(String message) {
        return new LambdaException(500, "ServiceException", message, false, Map.of());
    }
    public static LambdaException throttled(String reason, String message) {
        return new LambdaException(429, "TooManyRequestsException", message, true, Map.of("Reason", reason));
    }
}

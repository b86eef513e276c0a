package dev.ignis.worker;

import java.time.Duration;

/**
 * What came back from a sandbox.
 *
 * @param payload          the function's response, or an AWS-shaped error body {errorMessage, errorType, stackTrace}
 * @param logTail          base64 of the last 4 KB of this invoke's log when the request asked for it, else null
 * @param sandboxReusable  false when the sandbox died or was killed (timeout, OOM, crash); the caller must not reuse it
 * @param initDuration     the sandbox's Init Duration when this was its first invoke (a cold start, as the REPORT line
 *                         says), else null
 */
public record InvokeOutcome(
        Status status,
        byte[] payload,
        String logTail,
        boolean sandboxReusable,
        Duration duration,
        Duration initDuration) {

    public enum Status {
        /** /response posted. */
        SUCCESS,
        /** /error posted by the runtime (handled inside the function's runtime). */
        FUNCTION_ERROR,
        /** killed at the deadline: errorType Sandbox.Timeout, message "Task timed out after N.NN seconds". */
        TIMEOUT,
        /** the runtime process exited (Runtime.ExitError) or was OOM-killed (Runtime.OutOfMemory). */
        EXIT_ERROR,
        /** response over 6 MB: Function.ResponseSizeTooLarge. */
        RESPONSE_TOO_LARGE,
        /** init failed (/init/error or exit during init); payload is the init error body. */
        INIT_ERROR
    }

    /** An outcome without a cold-start record (e.g. one relayed from a remote worker that does not carry it). */
    public InvokeOutcome(Status status, byte[] payload, String logTail, boolean sandboxReusable, Duration duration) {
        this(status, payload, logTail, sandboxReusable, duration, null);
    }

    public boolean isFunctionError() {
        return status != Status.SUCCESS;
    }
}

package dev.ignis.worker.runtimeapi;

import java.util.concurrent.CompletableFuture;

/**
 * One invoke as the Runtime API sees it: what /next hands out and the future that /response or
 * /error completes. The worker completes it too when the sandbox dies or times out.
 *
 * @param stream where a {@code streaming} /response's bytes go as they arrive (InvokeWithResponseStream, a streaming
 *               function URL), or null: the response is read whole, at most 6 MB, as for Invoke
 */
public record Invocation(String requestId, byte[] payload, long deadlineEpochMs, String invokedFunctionArn,
                         String traceId, String clientContext, String cognitoIdentity,
                         CompletableFuture<RuntimeEvent> result, ResponseStream stream) {

    /** An invocation whose response is read whole. */
    public Invocation(String requestId, byte[] payload, long deadlineEpochMs, String invokedFunctionArn, String traceId,
                      String clientContext, String cognitoIdentity, CompletableFuture<RuntimeEvent> result) {
        this(requestId, payload, deadlineEpochMs, invokedFunctionArn, traceId, clientContext, cognitoIdentity, result, null);
    }
}

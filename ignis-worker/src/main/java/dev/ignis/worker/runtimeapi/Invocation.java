package dev.ignis.worker.runtimeapi;

import java.util.concurrent.CompletableFuture;

/**
 * One invoke as the Runtime API sees it: what /next hands out and the future that /response or
 * /error completes. The worker completes it too when the sandbox dies or times out.
 */
public record Invocation(String requestId, byte[] payload, long deadlineEpochMs, String invokedFunctionArn,
                         String traceId, String clientContext, String cognitoIdentity,
                         CompletableFuture<RuntimeEvent> result) {}

package dev.ignis.worker;

/**
 * One invoke handed to a sandbox.
 *
 * @param clientContext     decoded X-Amz-Client-Context JSON, or null
 * @param cognitoIdentity   JSON, or null
 * @param tailLog           true when the caller asked for LogType=Tail
 */
public record InvokeRequest(
        String requestId,
        byte[] payload,
        String invokedFunctionArn,
        String clientContext,
        String cognitoIdentity,
        boolean tailLog) {}

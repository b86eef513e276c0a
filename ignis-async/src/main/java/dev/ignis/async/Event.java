package dev.ignis.async;

/**
 * One queued asynchronous invoke.
 *
 * @param requestId      stable across retries, so functions can deduplicate
 * @param attempts       invokes started so far (the invocation record's approximateInvokeCount)
 * @param retriesUsed    retries spent on function errors (throttles and platform errors do not count)
 * @param nextAttemptAt  epoch millis before which the event is not run
 * @param lastError      the error payload of the last failed attempt, or null
 */
public record Event(String requestId, String accountId, String functionName, String qualifier, byte[] payload,
                    long enqueuedAt, int attempts, int retriesUsed, long nextAttemptAt, String lastError) {

    /** The key event-invoke config is looked up by: the qualifier, or $LATEST. */
    public ConfigKey configKey() {
        return new ConfigKey(accountId, functionName, qualifier == null ? "$LATEST" : qualifier);
    }

    Event attempted(long now) {
        return new Event(requestId, accountId, functionName, qualifier, payload, enqueuedAt, attempts + 1, retriesUsed, nextAttemptAt, lastError);
    }

    Event retryAt(long at, String error, boolean countsAsRetry) {
        return new Event(requestId, accountId, functionName, qualifier, payload, enqueuedAt, attempts,
                retriesUsed + (countsAsRetry ? 1 : 0), at, error);
    }

    /** Key of an event-invoke config. */
    public record ConfigKey(String accountId, String functionName, String qualifier) {}
}

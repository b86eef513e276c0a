package dev.ignis.async;

/**
 * How asynchronous invokes of one function (and qualifier) are retried and where their results go.
 *
 * @param onSuccess a function ARN that receives an invocation record after a success, or null
 * @param onFailure a function ARN that receives an invocation record after the last failure, or null
 */
public record EventInvokeConfig(int maximumRetryAttempts, int maximumEventAgeInSeconds, String onSuccess, String onFailure,
                                long lastModifiedEpochMillis) {
    public static final int DEFAULT_RETRIES = 2;
    public static final int DEFAULT_MAX_AGE = 21_600;

    public static EventInvokeConfig defaults() {
        return new EventInvokeConfig(DEFAULT_RETRIES, DEFAULT_MAX_AGE, null, null, 0);
    }
}

package dev.ignis.async;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/**
 * A change to the async queue as written to its journal. Every value is chosen before the append,
 * so replaying the log rebuilds the same queue on restart (at least once: an event that was being
 * invoked when the process died is still pending and runs again).
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "t")
@JsonSubTypes({
        @JsonSubTypes.Type(value = AsyncRecord.Enqueued.class, name = "enqueued"),
        @JsonSubTypes.Type(value = AsyncRecord.Attempted.class, name = "attempted"),
        @JsonSubTypes.Type(value = AsyncRecord.RetryScheduled.class, name = "retry"),
        @JsonSubTypes.Type(value = AsyncRecord.Finished.class, name = "finished"),
        @JsonSubTypes.Type(value = AsyncRecord.DeadLettered.class, name = "dead"),
        @JsonSubTypes.Type(value = AsyncRecord.Redriven.class, name = "redriven"),
        @JsonSubTypes.Type(value = AsyncRecord.ConfigPut.class, name = "config"),
        @JsonSubTypes.Type(value = AsyncRecord.ConfigRemoved.class, name = "config-"),
})
public sealed interface AsyncRecord {
    record Enqueued(Event event) implements AsyncRecord {}

    /** An invoke of the event starts (counted even if the process dies during it). */
    record Attempted(String requestId, long at) implements AsyncRecord {}

    /** @param countsAsRetry true for a function error (spends one of MaximumRetryAttempts) */
    record RetryScheduled(String requestId, long nextAttemptAt, String error, boolean countsAsRetry) implements AsyncRecord {}

    /** The event left the queue: succeeded, or failed and went to its OnFailure destination. */
    record Finished(String requestId, String condition) implements AsyncRecord {}

    record DeadLettered(String requestId, String condition, long at) implements AsyncRecord {}

    /** A dead-lettered event goes back to the queue with fresh retries and age. */
    record Redriven(String requestId, long at) implements AsyncRecord {}

    record ConfigPut(Event.ConfigKey key, EventInvokeConfig config) implements AsyncRecord {}

    record ConfigRemoved(Event.ConfigKey key) implements AsyncRecord {}
}

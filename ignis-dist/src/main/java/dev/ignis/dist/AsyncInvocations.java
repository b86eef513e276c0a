package dev.ignis.dist;

import dev.ignis.async.Event;
import dev.ignis.async.EventQueue;
import dev.ignis.common.LambdaException;
import dev.ignis.frontend.InvokePath;

/** Connects the async pollers to the synchronous invoke path, mapping its failures to retry classes. */
final class AsyncInvocations {
    private AsyncInvocations() {}

    static EventQueue.Result run(InvokePath path, Event event) {
        path.metrics().asyncAttempt(event.accountId(), event.functionName(),
                java.time.Duration.ofMillis(java.time.Clock.systemUTC().millis() - event.enqueuedAt()));
        try {
            var e = path.execute(event.accountId(), event.functionName(), event.qualifier(), event.payload(), event.requestId());
            var kind = e.outcome().isFunctionError() ? EventQueue.Kind.FUNCTION_ERROR : EventQueue.Kind.SUCCESS;
            return new EventQueue.Result(kind, e.outcome().payload(), e.executedVersion());
        } catch (LambdaException e) {
            var kind = switch (e.status()) {
                case 429 -> EventQueue.Kind.THROTTLED;
                case 404 -> EventQueue.Kind.FUNCTION_NOT_FOUND;
                default -> EventQueue.Kind.PLATFORM_ERROR;
            };
            return new EventQueue.Result(kind, null, null);
        } catch (RuntimeException e) {
            return new EventQueue.Result(EventQueue.Kind.PLATFORM_ERROR, null, null);
        }
    }
}

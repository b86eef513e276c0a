package dev.ignis.async;

/**
 * An event whose retries or age ran out and that had no OnFailure destination: kept for a user to
 * inspect and redrive.
 *
 * @param condition RetriesExhausted, EventAgeExceeded or FunctionNotFound
 */
public record DeadLetter(Event event, String condition, long failedAt) {}

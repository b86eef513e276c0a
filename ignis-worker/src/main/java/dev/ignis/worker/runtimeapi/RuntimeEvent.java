package dev.ignis.worker.runtimeapi;

/** What the runtime reported for one invocation, or for init, through the Runtime API. */
public sealed interface RuntimeEvent {
    /** {@code POST /runtime/invocation/{id}/response}. */
    record Response(byte[] body) implements RuntimeEvent {}

    /** {@code POST /runtime/invocation/{id}/error} or {@code /runtime/init/error}. */
    record Error(byte[] body, String errorType) implements RuntimeEvent {}

    /** A /response or /error body over the 6 MB limit; the runtime got 413. */
    record TooLarge(long limit) implements RuntimeEvent {}

    /** The runtime's process tree ended (reported by the worker, not the runtime). */
    record Exited(int exitValue, boolean outOfMemory) implements RuntimeEvent {}

    /** The invoke's deadline passed first (reported by the worker's deadline watch, not the runtime). */
    record TimedOut() implements RuntimeEvent {}

    /** Init finished: the runtime called /next for the first time. */
    record Ready() implements RuntimeEvent {}
}

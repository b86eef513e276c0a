package dev.ignis.worker;

import dev.ignis.worker.runtimeapi.ResponseStream;
import java.util.Collection;

/**
 * The talk's worker: holds sandboxes on one host and passes invokes to them.
 * One invoke at a time per sandbox; the caller (assignment) guarantees that.
 */
public interface Worker extends AutoCloseable {

    String workerId();

    /**
     * Cold start: starts a sandbox and runs the function's init phase. Returns once the runtime
     * waits on /runtime/invocation/next. If init fails, the outcome of the first invoke is
     * INIT_ERROR; implementations report that through {@link #invoke} so the frontend answers
     * the invoke as AWS does (200 + X-Amz-Function-Error).
     */
    SandboxHandle createSandbox(SandboxSpec spec);

    /** Runs one invoke on an idle sandbox and blocks until it ends (response, error, timeout, crash). */
    InvokeOutcome invoke(String sandboxId, InvokeRequest request);

    /**
     * As {@link #invoke(String, InvokeRequest)}, and the response's bytes go to {@code stream} as the runtime sends them
     * ({@code Lambda-Runtime-Function-Response-Mode: streaming}), or as one chunk when it answers with a whole body. The
     * caller closes the stream once this returns; the outcome's payload is then empty on success (its bytes went to the
     * stream) and the error body otherwise. A {@link SandboxGoneException} leaves the stream untouched (nothing ran).
     * Only a worker whose {@link #streamsResponses()} is true implements it.
     */
    default InvokeOutcome invoke(String sandboxId, InvokeRequest request, ResponseStream stream) {
        throw new UnsupportedOperationException("worker " + workerId() + " does not stream responses");
    }

    /** Whether {@link #invoke(String, InvokeRequest, ResponseStream)} is served (a remote worker does not, yet). */
    default boolean streamsResponses() {
        return false;
    }

    /** Stops the sandbox and frees its resources (process tree, cgroup, network namespace, /tmp). */
    void retire(String sandboxId);

    Collection<SandboxHandle> sandboxes();

    @Override
    void close();
}

package dev.ignis.worker;

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

    /** Stops the sandbox and frees its resources (process tree, cgroup, network namespace, /tmp). */
    void retire(String sandboxId);

    Collection<SandboxHandle> sandboxes();

    @Override
    void close();
}

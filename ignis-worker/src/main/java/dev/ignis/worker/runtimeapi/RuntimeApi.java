package dev.ignis.worker.runtimeapi;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The Runtime API 2018-06-01 state machine of one sandbox: init, then one invocation at a time.
 *
 * <p>Transitions: INIT --/next--> IDLE --{@link #offer}--> (queued) --/next--> BUSY
 * --/response|/error--> IDLE. {@code /init/error} is only valid during init. The worker calls
 * {@link #close} when the sandbox dies; a blocked /next then returns and its connection closes.
 * Request ids that were already answered get 403 InvalidStateTransition; ids never handed out get
 * 400 InvalidRequestID, as AWS's runtime interface emulator does.
 */
public final class RuntimeApi {
    /** 6 MB response limit plus the 100 bytes of slack AWS allows. */
    public static final int MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition workArrived = lock.newCondition();
    private final CompletableFuture<RuntimeEvent> init = new CompletableFuture<>();
    private Invocation queued;
    private Invocation current;
    private String lastAnswered;
    private String lastDelivered;
    private boolean closed;

    /** Completes with Ready, Error (init error) — or exceptionally when the sandbox died during init. */
    public CompletableFuture<RuntimeEvent> init() {
        return init;
    }

    /** Hands an invocation to the runtime (now if it waits on /next, else when it next asks). */
    public void offer(Invocation inv) {
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("sandbox is gone");
            }
            if (queued != null || current != null) {
                throw new IllegalStateException("sandbox is busy: one invoke at a time");
            }
            queued = inv;
            workArrived.signal();
        } finally {
            lock.unlock();
        }
    }

    /** The sandbox is gone: wakes /next waiters; pending futures are completed by the caller. */
    public void close(Throwable reason) {
        lock.lock();
        try {
            closed = true;
            workArrived.signalAll();
        } finally {
            lock.unlock();
        }
        init.completeExceptionally(reason);
    }

    /** True once the runtime has taken this invocation through /next: from then on, its code may have run. */
    public boolean delivered(String requestId) {
        lock.lock();
        try {
            return requestId.equals(lastDelivered);
        } finally {
            lock.unlock();
        }
    }

    /** Clears the finished invocation after the worker gave up on it (timeout or death). */
    public void abandon(Invocation inv) {
        lock.lock();
        try {
            if (current == inv) {
                lastAnswered = inv.requestId();
                current = null;
            }
            if (queued == inv) {
                queued = null;
            }
        } finally {
            lock.unlock();
        }
    }

    /** A reply to send: status, body, and extra headers (name, value pairs). */
    record Reply(int status, byte[] body, String... headers) {
        static Reply json(int status, String errorType, String message) {
            String body = "{\"errorMessage\":\"" + message + "\",\"errorType\":\"" + errorType + "\"}";
            return new Reply(status, body.getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json");
        }
    }

    static final Reply ACCEPTED = new Reply(202, "{\"status\":\"OK\"}".getBytes(StandardCharsets.UTF_8),
            "Content-Type", "application/json");

    /** Blocks until work arrives (or the sandbox closes: returns null); throws IllegalStateException while busy. */
    Invocation next() throws InterruptedException {
        init.complete(new RuntimeEvent.Ready());
        lock.lock();
        try {
            if (current != null) {
                throw new IllegalStateException("an invocation is unanswered"); // caller answers 403
            }
            while (queued == null && !closed) {
                workArrived.await();
            }
            if (closed) {
                return null;
            }
            current = queued;
            queued = null;
            lastDelivered = current.requestId();
            return current;
        } finally {
            lock.unlock();
        }
    }

    /** /response or /error for {@code requestId}. */
    Reply answer(String requestId, RuntimeEvent event) {
        Invocation inv;
        lock.lock();
        try {
            if (current != null && current.requestId().equals(requestId)) {
                inv = current;
                current = null;
                lastAnswered = requestId;
            } else if (requestId.equals(lastAnswered)) {
                return Reply.json(403, "InvalidStateTransition",
                        "State transition from ResponseSent to InvocationResponse failed for runtime. "
                                + "Error: State transition is not allowed");
            } else {
                return Reply.json(400, "InvalidRequestID", "Invalid request ID");
            }
        } finally {
            lock.unlock();
        }
        inv.result().complete(event);
        if (event instanceof RuntimeEvent.TooLarge t) {
            return Reply.json(413, "RequestEntityTooLarge",
                    "Exceeded maximum allowed payload size (" + t.limit() + " bytes).");
        }
        return ACCEPTED;
    }

    /** /init/error: valid only before the first /next. */
    Reply initError(RuntimeEvent.Error error) {
        if (init.isDone()) {
            return Reply.json(403, "InvalidStateTransition",
                    "State transition from Ready to InitError failed for runtime. Error: State transition is not allowed");
        }
        init.complete(error);
        return ACCEPTED;
    }
}

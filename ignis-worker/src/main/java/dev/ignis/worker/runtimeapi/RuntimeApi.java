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
 * {@link #close} when the sandbox dies; a waiting /next then returns {@link Next.Gone} and its connection closes.
 * Request ids that were already answered get 403 InvalidStateTransition; ids never handed out get
 * 400 InvalidRequestID, as AWS's runtime interface emulator does.
 *
 * <p>It also keeps which of the runtime's connections wait at {@code GET /next} ({@link RuntimeConnection.State}),
 * under the same lock: an invoke finding exactly one such connection takes it over ({@link #offerToDrive}).
 * Outcomes are values ({@link Offer}, {@link Next}), never exceptions.
 */
public final class RuntimeApi {
    /** 6 MB response limit plus the 100 bytes of slack AWS allows. */
    public static final int MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;

    /** What offering an invocation came to. */
    public sealed interface Offer {
        /**
         * The runtime's parked {@code GET /next} on {@code connection} takes it: the invocation is delivered (its
         * code may run from now on), and the caller writes it there and serves the connection until the answer is in
         * ({@link RuntimeConnection#drive}).
         */
        record Delivered(RuntimeConnection connection) implements Offer {}

        /** Queued: a connection's own thread hands it out at the runtime's (next) {@code GET /next}. */
        record Queued() implements Offer {}

        /** An invocation is queued or unanswered: one at a time. Nothing changed. */
        record Busy() implements Offer {}

        /** The sandbox is gone (its runtime exited, or it was retired). Nothing changed. */
        record Gone() implements Offer {}
    }

    private static final Offer QUEUED = new Offer.Queued();
    private static final Offer BUSY = new Offer.Busy();
    private static final Offer GONE = new Offer.Gone();

    /** What a connection's {@code GET /next} came to, on the connection's own thread. */
    sealed interface Next {
        /** Write this invocation as the answer. */
        record Work(Invocation invocation) implements Next {}

        /** An invoking thread answered this /next itself, served the connection and handed it back: read on. */
        record Resumed() implements Next {}

        /** An invocation is unanswered: 403, and the connection closes. */
        record Busy() implements Next {}

        /** The sandbox is gone: the connection closes. */
        record Gone() implements Next {}
    }

    private static final Next RESUMED = new Next.Resumed();
    private static final Next NEXT_BUSY = new Next.Busy();
    private static final Next NEXT_GONE = new Next.Gone();

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition workArrived = lock.newCondition();
    /** Connections in {@link RuntimeConnection.State#PARKED}, and the latest of them (null once it left that state). */
    private int parkedCount;
    private RuntimeConnection parked;
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

    /** Queues an invocation for the runtime (a connection's own thread hands it out at /next). */
    public Offer offer(Invocation inv) {
        lock.lock();
        try {
            Offer refused = refusal();
            if (refused != null) {
                return refused;
            }
            enqueue(inv);
            return QUEUED;
        } finally {
            lock.unlock();
        }
    }

    /**
     * As {@link #offer}, but when exactly one connection's {@code GET /next} is parked, the invocation is delivered on
     * it by the caller instead of by that connection's thread ({@link Offer.Delivered}): no other thread is woken.
     */
    public Offer offerToDrive(Invocation inv) {
        lock.lock();
        try {
            Offer refused = refusal();
            if (refused != null) {
                return refused;
            }
            if (parkedCount == 1 && parked != null) {
                RuntimeConnection c = parked;
                setState(c, RuntimeConnection.State.DRIVEN);
                deliver(inv);
                return new Offer.Delivered(c);
            }
            enqueue(inv);
            return QUEUED;
        } finally {
            lock.unlock();
        }
    }

    private void enqueue(Invocation inv) {
        queued = inv;
        workArrived.signalAll();
    }

    /** The invocation is the runtime's from now on: its code may run (caller holds the lock). */
    private void deliver(Invocation inv) {
        current = inv;
        lastDelivered = inv.requestId();
    }

    /** Why an invocation cannot be offered now, or null (caller holds the lock). */
    private Offer refusal() {
        if (closed) {
            return GONE;
        }
        return queued != null || current != null ? BUSY : null;
    }

    /** What a driven connection's next {@code GET /next} came to ({@link #repark}). */
    enum Repark {
        /** Parked for its own thread, which still waits for it: the driving thread returns. */
        PARKED,
        /** The current invocation is unanswered: 403, and the connection closes. */
        BUSY,
        /** The sandbox is closed: the connection closes. */
        GONE
    }

    /** A driven connection asks for the next event again: it is parked, as its own thread's /next would be. */
    Repark repark(RuntimeConnection c) {
        init.complete(new RuntimeEvent.Ready());
        lock.lock();
        try {
            if (current != null) {
                return Repark.BUSY;
            }
            if (closed) {
                return Repark.GONE;
            }
            setState(c, RuntimeConnection.State.PARKED);
            if (queued != null) {
                workArrived.signalAll(); // not while one invoke is in flight, but never leave work unseen
            }
            return Repark.PARKED;
        } finally {
            lock.unlock();
        }
    }

    /** The invoking thread is done with a driven connection: its own thread reads it again. */
    void handBack(RuntimeConnection c) {
        lock.lock();
        try {
            setState(c, RuntimeConnection.State.READING);
            workArrived.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Connections whose GET /next waits for work now (their own threads wait for it): tests synchronize on it. */
    int parkedCount() {
        lock.lock();
        try {
            return parkedCount;
        } finally {
            lock.unlock();
        }
    }

    /** Moves a connection to {@code next}, keeping the count of parked ones (caller holds the lock). */
    private void setState(RuntimeConnection c, RuntimeConnection.State next) {
        if (c.state == RuntimeConnection.State.PARKED && next != RuntimeConnection.State.PARKED) {
            parkedCount--;
            if (parked == c) {
                parked = null;
            }
        } else if (c.state != RuntimeConnection.State.PARKED && next == RuntimeConnection.State.PARKED) {
            parkedCount++;
            parked = c;
        }
        c.state = next;
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

    /**
     * A connection's GET /next, on its own thread: parks the connection and waits until work arrives
     * ({@link Next.Work}), the sandbox closes ({@code Gone}), or an invoking thread answered this /next itself and
     * handed the connection back ({@code Resumed}: read on, answer nothing). {@code Busy} while an invocation is
     * unanswered.
     */
    Next next(RuntimeConnection c) throws InterruptedException {
        init.complete(new RuntimeEvent.Ready());
        lock.lock();
        try {
            if (current != null) {
                return NEXT_BUSY;
            }
            setState(c, RuntimeConnection.State.PARKED);
            while (true) {
                if (closed) {
                    setState(c, RuntimeConnection.State.READING);
                    return NEXT_GONE;
                }
                if (c.state == RuntimeConnection.State.READING) {
                    return RESUMED; // handed back by the thread that drove it
                }
                if (c.state == RuntimeConnection.State.PARKED && queued != null) {
                    setState(c, RuntimeConnection.State.READING);
                    deliver(queued);
                    queued = null;
                    return new Next.Work(current);
                }
                workArrived.await();
            }
        } catch (InterruptedException e) {
            setState(c, RuntimeConnection.State.READING);
            throw e;
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

    /** The stream of the invocation in flight with id {@code requestId}, or null (none in flight, or read whole). */
    ResponseStream streamFor(String requestId) {
        lock.lock();
        try {
            return current != null && current.requestId().equals(requestId) ? current.stream() : null;
        } finally {
            lock.unlock();
        }
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

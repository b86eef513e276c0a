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

    /**
     * A connection of the runtime's, as this state machine sees it (the server owns the socket).
     * Its serving thread waits in {@link #next(Link)} while the connection's {@code GET /next} is
     * parked; an invoke may take the parked request over ({@link #offerToDrive}).
     */
    public static final class Link {
        /** The server's connection object (set once by the server, before the link is used). */
        Object connection;
        /** Its GET /next waits for work and has not been answered (guarded by the lock). */
        private boolean parkedAtNext;
        /** Handed back after an invoking thread drove it: its serving thread reads it again (guarded by the lock). */
        private boolean resumed;

        Link() {}
    }

    /** What {@link #next(Link)} returns when an invoking thread answered the parked /next and handed the connection back. */
    static final Invocation RESUME = new Invocation("", new byte[0], 0, "", "", null, null, new CompletableFuture<>());

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition workArrived = lock.newCondition();
    /** Connections whose GET /next is parked, and the latest of them (null once it is unparked). */
    private int parkedCount;
    private Link parked;
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
            checkOpenAndIdle();
            enqueue(inv);
        } finally {
            lock.unlock();
        }
    }

    /**
     * As {@link #offer}, but when exactly one connection's {@code GET /next} is parked, the
     * invocation is delivered on it by the caller instead of by that connection's thread: this
     * returns the link, the invocation is already current (delivered), and the caller must write
     * the /next answer and then serve the connection ({@code RuntimeApiServer.drive}) — no other
     * thread is woken. Returns null when the invocation was queued as {@link #offer} queues it.
     */
    public Link offerToDrive(Invocation inv) {
        lock.lock();
        try {
            checkOpenAndIdle();
            if (parkedCount == 1 && parked != null) {
                Link l = parked;
                unpark(l);
                deliver(inv);
                return l;
            }
            enqueue(inv);
            return null;
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

    /** An invocation may be offered: the sandbox is open and has none queued or in flight (caller holds the lock). */
    private void checkOpenAndIdle() {
        if (closed) {
            throw new IllegalStateException("sandbox is gone");
        }
        if (queued != null || current != null) {
            throw new IllegalStateException("sandbox is busy: one invoke at a time");
        }
    }

    /**
     * A driven connection asks for the next event again: it is parked as its serving thread's
     * /next would be (that thread still waits for it). Throws IllegalStateException while the
     * current invocation is unanswered (the caller answers 403, as for {@link #next(Link)}); returns
     * false when the sandbox is closed.
     */
    boolean repark(Link link) {
        init.complete(new RuntimeEvent.Ready());
        lock.lock();
        try {
            if (current != null) {
                throw new IllegalStateException("an invocation is unanswered");
            }
            if (closed) {
                return false;
            }
            park(link);
            if (queued != null) {
                workArrived.signalAll(); // not while one invoke is in flight, but never leave work unseen
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** The invoking thread is done with a driven connection: its serving thread reads it again. */
    void handBack(Link link) {
        lock.lock();
        try {
            link.resumed = true;
            workArrived.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Connections whose GET /next waits for work now (their serving threads wait for it): tests synchronize on it. */
    int parkedCount() {
        lock.lock();
        try {
            return parkedCount;
        } finally {
            lock.unlock();
        }
    }

    private void park(Link l) {
        if (!l.parkedAtNext) {
            l.parkedAtNext = true;
            parkedCount++;
            parked = l;
        }
    }

    private void unpark(Link l) {
        if (l.parkedAtNext) {
            l.parkedAtNext = false;
            parkedCount--;
            if (parked == l) {
                parked = null;
            }
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

    /** {@link #next(Link)} for a connection that is never driven (tests). */
    Invocation next() throws InterruptedException {
        return next(new Link());
    }

    /**
     * A connection's GET /next: blocks until work arrives (returns it), the sandbox closes (returns
     * null), or an invoking thread answered this /next itself and handed the connection back (returns
     * {@link #RESUME}: read on, answer nothing). Throws IllegalStateException while busy.
     */
    Invocation next(Link link) throws InterruptedException {
        init.complete(new RuntimeEvent.Ready());
        lock.lock();
        try {
            if (current != null) {
                throw new IllegalStateException("an invocation is unanswered"); // caller answers 403
            }
            park(link);
            while (true) {
                if (closed) {
                    unpark(link);
                    return null;
                }
                if (link.resumed) {
                    link.resumed = false;
                    return RESUME;
                }
                if (link.parkedAtNext && queued != null) {
                    unpark(link);
                    deliver(queued);
                    queued = null;
                    return current;
                }
                workArrived.await();
            }
        } catch (InterruptedException e) {
            unpark(link);
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

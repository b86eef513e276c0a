package dev.ignis.worker.runtimeapi;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves one sandbox's Runtime API on a listening socket that the sandbox's driver opened where the
 * runtime's 127.0.0.1:9001 reaches (the process driver: inside the sandbox's network namespace) and
 * handed to the worker ({@code SandboxDriver.RuntimeApiEndpoint}); this server owns and closes it.
 * One virtual thread accepts; one virtual thread serves each connection (normally one keep-alive
 * connection per runtime, or one per {@code curl} call).
 *
 * <p>Bounds against a hostile runtime: {@link #MAX_CONNECTIONS} connections, each with a 16 KB read
 * buffer and a head of at most 64 KB; request bodies grown as their bytes arrive and held in the
 * worker-wide {@link BodyBudget}, at most {@link #SANDBOX_BODY_BYTES} of it per sandbox; a request
 * that is not here whole within the read timeout once it has started is closed (see {@link HttpConnection}).
 * Each connection is a {@link RuntimeConnection}, which serves it (and, on the warm path, lets an invoking thread
 * drive it); this class only accepts, counts and closes.
 */
public final class RuntimeApiServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RuntimeApiServer.class);
    /**
     * Open connections allowed per sandbox. Runtimes use one or two (a curl bootstrap one per call, the
     * last one's close not always seen yet); the bound stops a hostile runtime from tying up worker
     * threads and buffers.
     */
    static final int MAX_CONNECTIONS = 8;
    /**
     * What one sandbox's request bodies may hold at once: a largest response while its array grows
     * (4 MB and the 6 MB it doubles to), and room besides; a hostile runtime's eight connections
     * cannot take more of the worker's body budget than this.
     */
    static final long SANDBOX_BODY_BYTES = 2L * RuntimeApi.MAX_RESPONSE_BYTES;

    private final ServerSocketChannel listener;
    private final RuntimeApi api;
    private final String name;
    private final Set<SocketChannel> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong requests = new AtomicLong();
    private final BodyBudget budget;
    private final int readTimeoutMs;
    private volatile boolean closed;
    private final Thread acceptor;

    /** A server with a budget of its own and the default limits (benchmarks, tests). */
    public RuntimeApiServer(ServerSocketChannel listener, RuntimeApi api, String name) {
        this(listener, api, name, RuntimeApiLimits.defaults());
    }

    private RuntimeApiServer(ServerSocketChannel listener, RuntimeApi api, String name, RuntimeApiLimits limits) {
        this(listener, api, name, new BodyBudget(limits.bodyBudgetBytes()), limits.readTimeout());
    }

    /**
     * @param budget      the worker's budget for request bodies, shared by all its sandboxes' servers (each
     *                    draws at most {@link #SANDBOX_BODY_BYTES} of it)
     * @param readTimeout how long a started request may take to arrive whole ({@link RuntimeApiLimits#readTimeout})
     */
    public RuntimeApiServer(ServerSocketChannel listener, RuntimeApi api, String name, BodyBudget budget, Duration readTimeout) {
        this.listener = listener;
        this.api = api;
        this.name = name;
        this.budget = budget.child(SANDBOX_BODY_BYTES);
        this.readTimeoutMs = Math.toIntExact(Math.max(1, readTimeout.toMillis()));
        this.acceptor = Thread.ofVirtual().name("runtime-api-accept-" + name).start(this::acceptLoop);
    }

    public RuntimeApi api() {
        return api;
    }

    /** Requests served so far (for tests and diagnostics). */
    public long requestCount() {
        return requests.get();
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                SocketChannel ch = listener.accept();
                if (connections.size() >= MAX_CONNECTIONS) {
                    ch.close();
                    continue;
                }
                connections.add(ch);
                Thread.ofVirtual().name("runtime-api-" + name).start(() -> serve(ch));
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closed) {
                    LOG.warn("runtime API accept failed for sandbox {}", name, e);
                }
                return;
            }
        }
    }

    private void serve(SocketChannel ch) {
        try {
            new RuntimeConnection(ch, api, budget, readTimeoutMs, requests).serve(() -> closed);
        } catch (IOException e) {
            closeQuietly(ch); // the runtime hung up before its connection was set up
        } finally {
            connections.remove(ch);
        }
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    /**
     * Closes the listener and every connection. Returns only once the accepting thread has left
     * accept(): NIO defers the real close of a channel until its blocked thread is released, and the
     * network namespace (with its port 9001) is handed to the next sandbox right after this.
     */
    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        try {
            acceptor.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (SocketChannel c : connections) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }
}

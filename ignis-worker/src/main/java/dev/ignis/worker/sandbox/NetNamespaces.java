package dev.ignis.worker.sandbox;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A pool of network namespaces, one per live sandbox, each holding nothing but an up loopback.
 *
 * <p>Design note (see docs/sandbox-process.md): the sandbox's Runtime API must be reachable from
 * inside the sandbox and nothing else of the host may be. Rather than a relay process per sandbox,
 * the worker opens the Runtime API's listening socket <em>inside</em> the sandbox's namespace: one
 * dedicated platform thread calls {@code setns(2)} (through the FFM API) into the namespace, creates
 * and binds the socket, and switches back. A socket belongs to the namespace it was created in, so
 * the runtime connects to {@code 127.0.0.1:9001} in its own namespace and reaches the worker with
 * zero hops, while the host's loopback and every other sandbox's listener stay out of reach.
 * Only that one thread ever changes namespace; a failure to switch back kills it (and the pool).
 */
public final class NetNamespaces implements AutoCloseable {
    private static final int CLONE_NEWNET = 0x40000000;
    private static final int O_RDONLY_CLOEXEC = 0x80000; // O_RDONLY | O_CLOEXEC
    private static final Path NETNS_DIR = Path.of("/run/netns");

    private static final MethodHandle OPEN = Libc.downcall("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SETNS = Libc.downcall("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle CLOSE = Libc.downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    /** One namespace, named {@code <prefix><n>}, mounted at /run/netns/&lt;name&gt;. */
    public record Netns(String name) {
        public Path path() {
            return NETNS_DIR.resolve(name);
        }
    }

    private final String prefix;
    private final Deque<Netns> free = new ArrayDeque<>();
    private final List<Netns> all = new ArrayList<>();
    private final ExecutorService switcher;
    private final int hostNetnsFd;
    private int next;

    /** Deletes namespaces an earlier run with the same prefix left behind, then pre-creates {@code warm}. */
    public NetNamespaces(String prefix, int warm) {
        if (!prefix.matches("[A-Za-z0-9_.-]{1,40}")) {
            throw new IllegalArgumentException("bad netns prefix: " + prefix);
        }
        this.prefix = prefix;
        this.switcher = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "ignis-netns-switcher");
            t.setDaemon(true);
            return t;
        });
        this.hostNetnsFd = onSwitcher(() -> openFd("/proc/thread-self/ns/net"));
        removeStale();
        for (int i = 0; i < warm; i++) {
            free.push(createNamespace());
        }
    }

    /** Takes a namespace from the pool or creates one. */
    public synchronized Netns acquire() {
        Netns n = free.poll();
        return n != null ? n : createNamespace();
    }

    /** Returns a namespace whose sandbox is gone (all its processes and sockets closed). */
    public synchronized void release(Netns ns) {
        if (all.contains(ns) && !free.contains(ns)) {
            free.push(ns);
        }
    }

    /** Opens a listening TCP socket on 127.0.0.1:{@code port} inside {@code ns}. */
    public ServerSocketChannel openLoopbackListener(Netns ns, int port) {
        return onSwitcher(() -> {
            int fd = openFd(ns.path().toString());
            try {
                setns(fd);
                try {
                    ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.INET);
                    try {
                        ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                        bindWithRetry(ch, port);
                        return ch;
                    } catch (IOException | RuntimeException e) {
                        ch.close();
                        throw e;
                    }
                } finally {
                    setnsBackOrDie();
                }
            } finally {
                closeFd(fd);
            }
        });
    }

    /** A previous sandbox's listener may still be closing (bounded wait: 1 s). */
    private static void bindWithRetry(ServerSocketChannel ch, int port) throws IOException {
        for (int attempt = 0; ; attempt++) {
            try {
                ch.bind(new InetSocketAddress("127.0.0.1", port), 16);
                return;
            } catch (java.net.BindException e) {
                if (attempt >= 100) {
                    throw e;
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /** Number of namespaces this pool created and still owns. */
    public synchronized int size() {
        return all.size();
    }

    @Override
    public synchronized void close() {
        for (Netns n : all) {
            run("ip", "netns", "delete", n.name());
        }
        all.clear();
        free.clear();
        switcher.shutdownNow();
    }

    private synchronized Netns createNamespace() {
        Netns n = new Netns(prefix + (next++));
        run("ip", "netns", "add", n.name());
        try {
            run("ip", "-n", n.name(), "link", "set", "lo", "up");
        } catch (RuntimeException e) {
            run("ip", "netns", "delete", n.name());
            throw e;
        }
        all.add(n);
        return n;
    }

    private void removeStale() {
        removeAll(prefix);
    }

    /** Deletes every namespace named {@code <prefix><n>} (a dead worker's, or this worker's predecessor's). */
    public static void removeAll(String prefix) {
        if (!Files.isDirectory(NETNS_DIR)) {
            return;
        }
        try (var s = Files.list(NETNS_DIR)) {
            for (Path p : s.toList()) {
                String name = p.getFileName().toString();
                if (name.startsWith(prefix) && name.substring(prefix.length()).matches("\\d+")) {
                    run("ip", "netns", "delete", name);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void setnsBackOrDie() {
        try {
            setns(hostNetnsFd);
        } catch (IOException e) {
            // this thread is now stuck in a sandbox's namespace: never let it open another host socket
            switcher.shutdownNow();
            throw new Error("could not switch back to the host network namespace", e);
        }
    }

    private interface IoCall<T> {
        T call() throws IOException;
    }

    private <T> T onSwitcher(IoCall<T> c) {
        try {
            return switcher.submit(c::call).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw new UncheckedIOException(io);
            }
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        }
    }

    private static int openFd(String path) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(Libc.CALL_STATE);
            int fd = (int) OPEN.invokeExact(state, a.allocateFrom(path), O_RDONLY_CLOEXEC);
            if (fd < 0) {
                throw new IOException("open(" + path + ") failed, errno " + Libc.errno(state));
            }
            return fd;
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static void setns(int fd) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(Libc.CALL_STATE);
            int rc = (int) SETNS.invokeExact(state, fd, CLONE_NEWNET);
            if (rc != 0) {
                throw new IOException("setns failed, errno " + Libc.errno(state));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static void closeFd(int fd) {
        try (Arena a = Arena.ofConfined()) {
            int ignored = (int) CLOSE.invokeExact(a.allocate(Libc.CALL_STATE), fd);
        } catch (Throwable ignored) {
            // nothing useful to do about a failed close of a read-only ns fd
        }
    }

    static void run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (p.waitFor() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out.trim());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + String.join(" ", cmd), e);
        }
    }
}

package dev.ignis.worker.microvm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A network namespace of the driver's own (loopback only) where every microVM's Runtime API listener lives, and from
 * which the relay connects to it. No process of the host's network namespace can reach those listeners; a sandbox
 * cannot either: its only way out is its own virtio-serial port. One platform thread enters the namespace once and
 * creates every socket there (a socket keeps the namespace it was made in).
 */
final class RelayNamespace implements AutoCloseable {
    private static final int CLONE_NEWNET = 0x40000000;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle SETNS = LINKER.downcallHandle(LINKER.defaultLookup().find("setns").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle OPEN = LINKER.downcallHandle(LINKER.defaultLookup().find("open").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle CLOSE = LINKER.downcallHandle(LINKER.defaultLookup().find("close").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final int O_RDONLY_CLOEXEC = 0x80000;

    private final String name;
    private final ExecutorService inside;

    /** Creates {@code /run/netns/<name>} (removing one an earlier run left) with loopback up. */
    RelayNamespace(String name) {
        if (!name.matches("[A-Za-z0-9_.-]{1,40}")) {
            throw new IllegalArgumentException("bad netns name: " + name);
        }
        this.name = name;
        remove(name);
        run("ip", "netns", "add", name);
        run("ip", "-n", name, "link", "set", "lo", "up");
        this.inside = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "ignis-microvm-relay-netns");
            t.setDaemon(true);
            return t;
        });
        call(() -> {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment path = a.allocateFrom("/run/netns/" + name);
                int fd = (int) OPEN.invokeExact(path, O_RDONLY_CLOEXEC);
                if (fd < 0) {
                    throw new IOException("cannot open /run/netns/" + name);
                }
                int rc = (int) SETNS.invokeExact(fd, CLONE_NEWNET);
                int ignored = (int) CLOSE.invokeExact(fd);
                if (rc != 0) {
                    throw new IOException("setns into " + name + " failed");
                }
            } catch (IOException e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
            return null;
        });
    }

    /** A listener on 127.0.0.1 (an ephemeral port) inside the namespace. */
    ServerSocketChannel listen() {
        return call(() -> {
            ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.INET);
            try {
                ch.bind(new InetSocketAddress("127.0.0.1", 0), 16);
                return ch;
            } catch (IOException e) {
                ch.close();
                throw e;
            }
        });
    }

    /** An unconnected TCP socket inside the namespace. */
    SocketChannel socket() {
        return call(() -> SocketChannel.open(StandardProtocolFamily.INET));
    }

    @Override
    public void close() {
        inside.shutdownNow();
        remove(name);
    }

    static void remove(String name) {
        if (Files.exists(Path.of("/run/netns", name))) {
            run("ip", "netns", "delete", name);
        }
    }

    private <T> T call(Callable<T> c) {
        try {
            return inside.submit(c).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw new UncheckedIOException(io);
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    private static void run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out.strip());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + String.join(" ", cmd), e);
        }
    }
}

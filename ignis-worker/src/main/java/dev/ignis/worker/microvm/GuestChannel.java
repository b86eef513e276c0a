package dev.ignis.worker.microvm;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host side of one guest agent's mux port (the frame protocol in {@code ignis-guest-agent.c}): answers HELLO with
 * the start's CONFIG, and relays each connection the runtime opens to the guest's {@code 127.0.0.1:9001} as a TCP
 * connection to the worker's Runtime API listener ({@code target}, inside the {@link RelayNamespace}). Everything the
 * guest sends is hostile: a frame that breaks the protocol ends the channel, which ends the VM.
 */
final class GuestChannel implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GuestChannel.class);
    static final int HELLO = 1, CONFIG = 2, OPEN = 3, DATA = 4, CLOSE = 5, STARTED = 6, EXIT = 7, STATS = 8, RESUME = 9;
    /** Bytes of fresh host entropy a RESUME carries (the agent adds them to the guest's pool and reseeds). */
    static final int RESUME_ENTROPY = 64;
    static final int MAX_CONNECTIONS = 8;
    private static final int MAX_PAYLOAD = 65535;

    /** The guest's report when its runtime ended: a wait(2) status, the guest cgroup's OOM kills and peak memory. */
    record GuestExit(int waitStatus, long oomKills, long peakMemoryBytes) {
        /** As {@link Process#exitValue()} reports it: the exit code, or 128 + the signal. */
        int exitValue() {
            int sig = waitStatus & 0x7f;
            return sig == 0 ? (waitStatus >> 8) & 0xff : 128 + sig;
        }
    }

    private final SocketChannel mux;
    private final RelayNamespace ns;
    private final SocketAddress target;
    private final byte[] config;
    private final Object writeLock = new Object();
    private final Conn[] slots = new Conn[MAX_CONNECTIONS];
    final CompletableFuture<Long> agentUptimeMs = new CompletableFuture<>();
    final CompletableFuture<Long> runtimeExecUptimeMs = new CompletableFuture<>();
    final CompletableFuture<GuestExit> exit = new CompletableFuture<>();
    /** Completes when the channel ends (the VM died, or the guest broke the protocol: then with the reason). */
    final CompletableFuture<String> ended = new CompletableFuture<>();
    private volatile boolean configSent;
    /** The runtime cgroup's memory.peak and OOM kills as of the guest's last STATS (0 until one came). */
    volatile long peakMemoryBytes;
    volatile long oomKills;

    private static final class Conn {
        final SocketChannel ch;
        boolean sentClose;

        Conn(SocketChannel ch) {
            this.ch = ch;
        }
    }

    GuestChannel(SocketChannel mux, RelayNamespace ns, SocketAddress target, byte[] config) {
        this.mux = mux;
        this.ns = ns;
        this.target = target;
        this.config = config;
        Thread.ofVirtual().name("ignis-microvm-mux").start(this::readLoop);
    }

    /**
     * The host side of a VM restored from a snapshot: the agent is past its HELLO and CONFIG, so this side speaks
     * first: RESUME with fresh entropy, after which the agent reopens the connections whose requests were unanswered
     * when the snapshot was taken (the runtime's first /next) and sends those requests again.
     */
    static GuestChannel resumed(SocketChannel mux, RelayNamespace ns, SocketAddress target) throws IOException {
        GuestChannel c = new GuestChannel(mux, ns, target, new byte[0], true);
        byte[] entropy = new byte[RESUME_ENTROPY];
        new java.security.SecureRandom().nextBytes(entropy);
        c.send(RESUME, 0, ByteBuffer.wrap(entropy));
        Thread.ofVirtual().name("ignis-microvm-mux").start(c::readLoop);
        return c;
    }

    private GuestChannel(SocketChannel mux, RelayNamespace ns, SocketAddress target, byte[] config, boolean resumed) {
        this.mux = mux;
        this.ns = ns;
        this.target = target;
        this.config = config;
        this.configSent = resumed;
    }

    /** The CONFIG fields: NUL-terminated strings, in the order the agent reads them. */
    static byte[] config(long memoryBytes, long tmpBytes, int pidsMax, List<String[]> mounts, List<String[]> binds,
                         List<String> argv, java.util.Map<String, String> env) {
        StringBuilder b = new StringBuilder();
        java.util.function.Consumer<String> f = s -> b.append(s).append('\0');
        f.accept(Long.toString(memoryBytes));
        f.accept(Long.toString(tmpBytes));
        f.accept(Integer.toString(pidsMax));
        f.accept(Integer.toString(mounts.size()));
        for (String[] m : mounts) {
            f.accept(m[0]);
            f.accept(m[1]);
        }
        f.accept(Integer.toString(binds.size()));
        for (String[] bind : binds) {
            f.accept(bind[0]);
            f.accept(bind[1]);
        }
        f.accept(Integer.toString(argv.size()));
        argv.forEach(f);
        env.forEach((k, v) -> f.accept(k + "=" + v));
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    private void readLoop() {
        ByteBuffer head = ByteBuffer.allocate(4);
        ByteBuffer body = ByteBuffer.allocate(MAX_PAYLOAD);
        try {
            while (true) {
                head.clear();
                if (!readFully(head)) {
                    end("the guest's channel closed");
                    return;
                }
                int type = head.get(0) & 0xff;
                int conn = head.get(1) & 0xff;
                int len = ((head.get(2) & 0xff) << 8) | (head.get(3) & 0xff);
                body.clear().limit(len);
                if (!readFully(body)) {
                    end("the guest's channel closed");
                    return;
                }
                body.flip();
                if (!handle(type, conn, body)) {
                    return;
                }
            }
        } catch (IOException e) {
            end("the guest's channel failed: " + e.getMessage());
        } catch (RuntimeException e) {
            LOG.warn("guest channel reader failed", e);
            end("the guest's channel failed: " + e);
        }
    }

    private boolean handle(int type, int conn, ByteBuffer body) throws IOException {
        if (type != HELLO && type != STARTED && type != EXIT && type != STATS && conn >= MAX_CONNECTIONS) {
            return violation("connection " + conn);
        }
        switch (type) {
            case HELLO -> {
                agentUptimeMs.complete(lastNumber(text(body)));
                if (!configSent) {
                    configSent = true;
                    for (int off = 0; off < config.length; off += MAX_PAYLOAD) {
                        send(CONFIG, 0, ByteBuffer.wrap(config, off, Math.min(MAX_PAYLOAD, config.length - off)));
                    }
                    send(CONFIG, 0, ByteBuffer.allocate(0));
                }
            }
            case STARTED -> runtimeExecUptimeMs.complete(lastNumber(text(body)));
            case STATS -> {
                String[] f = text(body).trim().split(" ");
                try {
                    peakMemoryBytes = Math.max(peakMemoryBytes, Math.max(0, Long.parseLong(f[0])));
                    oomKills = Math.max(oomKills, f.length > 1 ? Math.max(0, Long.parseLong(f[1])) : 0);
                } catch (NumberFormatException e) {
                    return violation("STATS");
                }
            }
            case EXIT -> {
                String[] f = text(body).trim().split(" ");
                if (f.length != 3) {
                    return violation("EXIT " + text(body));
                }
                try {
                    exit.complete(new GuestExit(Integer.parseInt(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2])));
                } catch (NumberFormatException e) {
                    return violation("EXIT " + text(body.rewind()));
                }
            }
            case OPEN -> {
                if (slots[conn] != null) {
                    return violation("OPEN of open connection " + conn);
                }
                SocketChannel ch = ns.socket();
                try {
                    ch.connect(target);
                    ch.socket().setTcpNoDelay(true);
                } catch (IOException e) {
                    ch.close();
                    send(CLOSE, conn, ByteBuffer.allocate(0)); // the worker's server is gone: refuse like a closed port
                    Conn refused = new Conn(ch);
                    refused.sentClose = true;
                    slots[conn] = refused;
                    return true;
                }
                Conn c = new Conn(ch);
                slots[conn] = c;
                Thread.ofVirtual().name("ignis-microvm-relay").start(() -> pump(c, conn));
            }
            case DATA -> {
                Conn c = slots[conn];
                if (c == null) {
                    return violation("DATA on closed connection " + conn);
                }
                try {
                    while (body.hasRemaining() && c.ch.isOpen()) {
                        c.ch.write(body);
                    }
                } catch (IOException e) {
                    c.ch.close(); // the worker closed it; the pump sends CLOSE
                }
            }
            case CLOSE -> {
                Conn c = slots[conn];
                if (c == null) {
                    return violation("CLOSE of closed connection " + conn);
                }
                synchronized (c) {
                    c.ch.close();
                    if (!c.sentClose) {
                        c.sentClose = true;
                        send(CLOSE, conn, ByteBuffer.allocate(0));
                    }
                }
                slots[conn] = null;
            }
            default -> {
                return violation("frame type " + type);
            }
        }
        return true;
    }

    /** Worker → guest: the worker's bytes of one connection, then CLOSE when the worker ends it. */
    private void pump(Conn c, int conn) {
        ByteBuffer buf = ByteBuffer.allocate(MAX_PAYLOAD);
        try {
            while (true) {
                buf.clear();
                int n = c.ch.read(buf);
                if (n < 0) {
                    break;
                }
                buf.flip();
                synchronized (c) {
                    if (c.sentClose) {
                        return;
                    }
                    send(DATA, conn, buf);
                }
            }
        } catch (IOException e) {
            // closed by the guest's CLOSE or the worker: fall through to CLOSE
        }
        synchronized (c) {
            if (!c.sentClose) {
                c.sentClose = true;
                try {
                    send(CLOSE, conn, ByteBuffer.allocate(0));
                } catch (IOException e) {
                    end("the guest's channel failed: " + e.getMessage());
                }
            }
        }
    }

    private void send(int type, int conn, ByteBuffer payload) throws IOException {
        ByteBuffer head = ByteBuffer.allocate(4);
        head.put((byte) type).put((byte) conn).putShort((short) payload.remaining()).flip();
        synchronized (writeLock) {
            mux.write(new ByteBuffer[] {head, payload});
            while (head.hasRemaining() || payload.hasRemaining()) {
                mux.write(new ByteBuffer[] {head, payload});
            }
        }
    }

    private boolean readFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (mux.read(b) < 0) {
                return false;
            }
        }
        return true;
    }

    private boolean violation(String what) {
        LOG.warn("guest broke the channel protocol ({}); ending it", what);
        end("the guest broke the channel protocol: " + what);
        return false;
    }

    private static String text(ByteBuffer b) {
        return StandardCharsets.UTF_8.decode(b).toString();
    }

    private static long lastNumber(String s) {
        String[] f = s.trim().split(" ");
        try {
            return Long.parseLong(f[f.length - 1]);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private void end(String why) {
        ended.complete(why);
        close();
    }

    @Override
    public void close() {
        try {
            mux.close();
        } catch (IOException ignored) {
            // closing
        }
        for (int i = 0; i < MAX_CONNECTIONS; i++) {
            Conn c = slots[i];
            if (c != null) {
                try {
                    c.ch.close();
                } catch (IOException ignored) {
                    // closing
                }
            }
        }
        ended.complete("closed");
    }
}

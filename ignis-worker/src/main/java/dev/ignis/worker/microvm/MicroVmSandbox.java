package dev.ignis.worker.microvm;

import dev.ignis.worker.SandboxDriver;
import dev.ignis.worker.runtimeapi.RuntimeEvent;
import dev.ignis.worker.sandbox.Cgroups;
import java.io.IOException;
import java.io.InputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One microVM: its jailed QEMU process, cgroup, uid, socket directory and guest channel. It is gone when QEMU is:
 * the guest agent reports the runtime's end over the mux port (exit status, the guest cgroup's OOM kills), the
 * driver then kills QEMU, and {@link #exit()} completes when QEMU's process has ended, whatever ended it.
 */
final class MicroVmSandbox implements SandboxDriver.Sandbox {
    private static final Logger LOG = LoggerFactory.getLogger(MicroVmSandbox.class);
    private final MicroVmDriver driver;
    private final String id;
    private final int uid;
    private final Path dir;
    private final Cgroups.Group group;
    private final Process qemu;
    private final long started;
    private final CompletableFuture<RuntimeEvent.Exited> exit = new CompletableFuture<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile GuestChannel channel;
    private volatile SocketChannel log;
    private volatile InputStream output = InputStream.nullInputStream();

    private final int guestMemoryMb;
    private final int vcpus;
    private final boolean snapshottable;
    private final java.util.List<QemuCommand.Drive> drives;
    private Qmp qmp;

    MicroVmSandbox(MicroVmDriver driver, String id, int uid, Path dir, Cgroups.Group group, Process qemu, long started,
                   int guestMemoryMb, int vcpus, boolean snapshottable, java.util.List<QemuCommand.Drive> drives) {
        this.guestMemoryMb = guestMemoryMb;
        this.vcpus = vcpus;
        this.snapshottable = snapshottable;
        this.drives = java.util.List.copyOf(drives);
        this.driver = driver;
        this.id = id;
        this.uid = uid;
        this.dir = dir;
        this.group = group;
        this.qemu = qemu;
        this.started = started;
        qemu.onExit().thenRun(this::qemuEnded);
    }

    /** Connects to one of QEMU's socket chardevs, waiting (bounded) for QEMU to create it. */
    SocketChannel connect(String name) throws IOException, InterruptedException, TimeoutException {
        Path socket = dir.resolve(name);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            if (Files.exists(socket)) {
                try {
                    return SocketChannel.open(UnixDomainSocketAddress.of(socket));
                } catch (IOException e) {
                    // created but not listening yet
                }
            }
            if (!qemu.isAlive()) {
                throw new IOException("QEMU exited with " + qemu.exitValue() + ": " + tail(dir.resolve("qemu.out")));
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("QEMU did not open " + socket + " within 30 s");
            }
            Thread.sleep(2);
        }
    }

    /** This VM's QMP connection (opened on first use, closed with the VM). */
    synchronized Qmp qmp() throws IOException, InterruptedException, TimeoutException {
        if (qmp == null) {
            Path socket = dir.resolve("qmp");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) {
                if (Files.exists(socket)) {
                    try {
                        qmp = Qmp.connect(socket);
                        break;
                    } catch (IOException e) {
                        if (System.nanoTime() > deadline) {
                            throw e;
                        }
                    }
                }
                if (!qemu.isAlive()) {
                    throw new IOException("QEMU exited with " + qemu.exitValue() + ": " + tail(dir.resolve("qemu.out")));
                }
                if (System.nanoTime() > deadline) {
                    throw new TimeoutException("QEMU did not open " + socket + " within 30 s");
                }
                Thread.sleep(2);
            }
        }
        return qmp;
    }

    Path dir() {
        return dir;
    }

    int uid() {
        return uid;
    }

    int vcpus() {
        return vcpus;
    }

    boolean snapshottable() {
        return snapshottable;
    }

    java.util.List<QemuCommand.Drive> drives() {
        return drives;
    }

    void attach(GuestChannel channel, SocketChannel log) {
        this.channel = channel;
        this.log = log;
        this.output = Channels.newInputStream(log);
        // the runtime ended: the VM's work is done, once QEMU has passed on what the runtime wrote last (its log port and
        // the mux are two queues: killed at EXIT, a crashing runtime's last lines were lost — SandboxContract found it)
        channel.exit.thenRun(() -> CompletableFuture.delayedExecutor(LOG_GRACE_MS, TimeUnit.MILLISECONDS).execute(this::kill));
        channel.ended.thenAccept(why -> {
            if (!exit.isDone() && !why.equals("closed") && !killed) {
                boolean died = qemu.onExit().completeOnTimeout(null, 1, TimeUnit.SECONDS).join() != null;
                LOG.info("microVM {}: {}; stopping it{}", id, why, died
                        ? " (QEMU exited with " + qemu.exitValue() + ": " + tail(dir.resolve("qemu.out")) + ")" : "");
                kill();
            }
        });
    }

    private void qemuEnded() {
        GuestChannel c = channel;
        GuestChannel.GuestExit g = c == null ? null : c.exit.getNow(null);
        long hostOoms = group.oomKills();
        if (g != null) {
            exit.complete(new RuntimeEvent.Exited(g.exitValue(), g.oomKills() > 0 || hostOoms > 0));
        } else {
            if (!killed) {
                LOG.warn("microVM {}: QEMU exited with {} before its runtime ended: {} / console: {}", id, qemu.exitValue(),
                        tail(dir.resolve("qemu.out")), tail(dir.resolve("console")));
            }
            exit.complete(new RuntimeEvent.Exited(qemu.exitValue() == 0 ? 1 : qemu.exitValue(), hostOoms > 0));
        }
        try {
            SocketChannel l = log;
            if (l != null) {
                // the log socket ends with QEMU; closing it here too bounds a reader that lost the EOF
                l.shutdownInput();
            }
        } catch (IOException ignored) {
            // already closed
        }
    }

    /** How long QEMU may run on after the runtime's EXIT, to hand over the log port's last bytes. */
    static final long LOG_GRACE_MS = 250;

    private volatile boolean killed;

    private void kill() {
        killed = true;
        qemu.destroyForcibly();
        group.killAll();
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public long runtimeStartedNanos() {
        return started;
    }

    @Override
    public InputStream output() {
        return output;
    }

    @Override
    public CompletableFuture<RuntimeEvent.Exited> exit() {
        return exit;
    }

    @Override
    public SandboxDriver.Stats stats() {
        GuestChannel c = channel;
        if (c == null) {
            return new SandboxDriver.Stats(0, 0);
        }
        GuestChannel.GuestExit g = c.exit.getNow(null);
        long peak = Math.max(c.peakMemoryBytes, g == null ? 0 : g.peakMemoryBytes());
        long ooms = Math.max(c.oomKills, g == null ? 0 : g.oomKills());
        return new SandboxDriver.Stats(peak, ooms);
    }

    /** Guest uptime (ms) when the agent started and when it started the runtime, once known. */
    long[] bootTimings() {
        GuestChannel c = channel;
        return c == null ? new long[] {-1, -1}
                : new long[] {c.agentUptimeMs.getNow(-1L), c.runtimeExecUptimeMs.getNow(-1L)};
    }

    int guestMemoryMb() {
        return guestMemoryMb;
    }

    /** The QEMU process (measurements: its RSS/PSS). */
    Process qemu() {
        return qemu;
    }

    @Override
    public void stop() {
        kill();
        try {
            exit.get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.warn("microVM {} did not end within 10 s of its kill", id);
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        GuestChannel c = channel;
        if (c != null) {
            c.close();
        }
        synchronized (this) {
            if (qmp != null) {
                qmp.close();
            }
        }
        try {
            SocketChannel l = log;
            if (l != null) {
                l.close();
            }
        } catch (IOException ignored) {
            // closing
        }
        group.remove();
        driver.forget(id);
        MicroVmDriver.deleteQuietly(dir);
        driver.releaseUid(uid);
    }

    static String tail(Path file) {
        try {
            byte[] b = Files.readAllBytes(file);
            int from = Math.max(0, b.length - 2000);
            return new String(b, from, b.length - from, java.nio.charset.StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return "(no output)";
        }
    }
}

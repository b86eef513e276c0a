package dev.ignis.worker.microvm;

import dev.ignis.runtimes.RuntimeDefinition;
import dev.ignis.worker.SandboxDriver;
import dev.ignis.worker.SandboxSpec;
import dev.ignis.worker.WorkerAtCapacityException;
import dev.ignis.worker.WorkerConfig;
import dev.ignis.worker.sandbox.Cgroups;
import dev.ignis.worker.sandbox.SandboxReach;
import dev.ignis.worker.sandbox.UidRanges;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code microvm} sandbox driver: every sandbox is its own Linux kernel under QEMU's {@code microvm} machine
 * (Firecracker's design: no PCI, virtio-mmio, direct kernel boot), KVM where the host has it, TCG otherwise. See
 * docs/sandbox-microvm.md. The guest ({@link GuestImage}) is Debian's kernel and an initramfs whose {@code /init} is
 * the guest agent; the runtime's host directories and the function's code reach the guest read-only over virtio-9p;
 * the runtime's {@code 127.0.0.1:9001} is relayed over a virtio-serial port ({@link GuestChannel}) to a listener in
 * the driver's own network namespace ({@link RelayNamespace}) that the worker's Runtime API server serves; stdout and
 * stderr come over a second port. QEMU runs jailed ({@link QemuCommand}). A function's first VM can be snapshotted once
 * its init is done and later ones restored from it ({@link MicroVmSnapshots}, docs/snapshots.md).
 *
 * <p>Over 400 lines: the start sequence (jail, cgroup, relay, guest files, boot or restore) is one piece of work that
 * undoes itself on failure; splitting it would spread that undo over several classes.
 */
public final class MicroVmDriver implements SandboxDriver {
    private static final Logger LOG = LoggerFactory.getLogger(MicroVmDriver.class);
    /** Guest memory beyond MemorySize: the guest kernel, the agent, 9p buffers (the runtime's cgroup holds MemorySize). */
    public static final int GUEST_OVERHEAD_MB = 96;
    /** Host memory of one QEMU beyond guest memory (TCG translation cache, QEMU's heap, 9p): the VM cgroup adds it. */
    public static final int QEMU_OVERHEAD_MB = 128;
    /** Threads of one QEMU (vCPUs, RCU, 9p's worker pool, ...): the VM cgroup's pids limit. */
    static final int QEMU_PIDS = 256;
    /** Where VMs' socket directories live: short paths (a Unix socket path has at most 107 bytes). */
    static final Path RUN = Path.of("/run/ignis-microvm");

    final WorkerConfig config;
    final GuestImage image;
    final Accel accel;
    final Cgroups cgroups;
    final RelayNamespace relayNs;
    final Path vmRoot;
    final MicroVmSnapshots snapshots;
    private final UidRanges.Claim uids;
    private final BitSet uidsInUse = new BitSet();
    /** Every QEMU is spawned from this long-lived thread (bwrap's --die-with-parent is tied to the forking thread). */
    final ExecutorService owner;

    private final java.util.Map<String, MicroVmSandbox> live = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * What the driver knows of one live VM (diagnostics and measurements).
     *
     * @param qemuPid            the QEMU process (its PSS is the VM's host memory), -1 once it is gone
     * @param guestMemoryMb      the guest's RAM
     * @param agentStartMs       guest uptime when the agent (PID 1) started: the kernel's boot; -1 until known
     * @param runtimeExecMs      guest uptime when the agent started the runtime; -1 until known
     */
    public record VmInfo(long qemuPid, int guestMemoryMb, long agentStartMs, long runtimeExecMs) {}

    /** The live VM of {@code sandboxId}, if this driver runs it. */
    public java.util.Optional<VmInfo> info(String sandboxId) {
        MicroVmSandbox vm = live.get(sandboxId);
        if (vm == null) {
            return java.util.Optional.empty();
        }
        long[] t = vm.bootTimings();
        // the process started is the jail (sh -> setpriv -> bwrap, one pid); QEMU is bwrap's child in its pid namespace
        long qemuPid = vm.qemu().descendants().filter(h -> h.info().command().map(c -> c.equals(QemuCommand.QEMU.toString()))
                .orElse(false)).mapToLong(ProcessHandle::pid).findFirst().orElse(-1);
        return java.util.Optional.of(new VmInfo(qemuPid, vm.guestMemoryMb(), t[0], t[1]));
    }

    void forget(String sandboxId) {
        live.remove(sandboxId);
    }

    /** Uses the guest image in {@link #defaultCacheDir()}, fetching and building it if missing. */
    public MicroVmDriver(WorkerConfig config) {
        this(config, GuestImage.prepare(defaultCacheDir()));
    }

    public MicroVmDriver(WorkerConfig config, GuestImage image) {
        if (probeHost(image) instanceof Availability.Unavailable(String why)) {
            throw new IllegalStateException("the microvm sandbox driver cannot run here: " + why);
        }
        this.config = config;
        this.image = image;
        this.accel = Accel.detect();
        try {
            Files.createDirectories(RUN);
            Files.setPosixFilePermissions(RUN, PosixFilePermissions.fromString("rwx--x--x"));
            this.vmRoot = RUN.resolve(config.workerId());
            GuestImage.deleteTree(vmRoot); // an earlier run of this worker
            Files.createDirectories(vmRoot);
            Files.setPosixFilePermissions(vmRoot, PosixFilePermissions.fromString("rwx--x--x"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + RUN, e);
        }
        SandboxReach.requireTraversable(image.kernel().getParent(), "the microVM kernel");
        SandboxReach.requireTraversable(image.initramfs().getParent(), "the microVM initramfs");
        this.cgroups = Cgroups.detect("ignis-mvm-" + config.workerId());
        cgroups.removeStale();
        cgroups.limitAll(config.capacity().memoryMb() * 1024 * 1024, config.capacity().pids());
        this.relayNs = new RelayNamespace("ignis-mvm-" + config.workerId());
        try {
            this.snapshots = new MicroVmSnapshots(vmRoot);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the snapshot directories in " + vmRoot, e);
        }
        this.uids = UidRanges.claim(config.uidBase(), config.uidCount());
        this.owner = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "ignis-microvm-owner-" + config.workerId());
            t.setDaemon(true);
            return t;
        });
        LOG.info("worker {}: microvm sandbox driver, {} ({}), kernel {}, {}", config.workerId(), accel.name(), accel.why(),
                image.version(), cgroups.describe());
    }

    /**
     * Init bound of microVM sandboxes: Lambda's 10 s holds the guest kernel's boot too here, which takes seconds under
     * TCG; {@link #withBootTime} raises a worker's init timeout to this (docs/sandbox-microvm.md).
     */
    public static final java.time.Duration INIT_TIMEOUT = java.time.Duration.ofSeconds(120);

    /** {@code config} with its init timeout raised to at least {@link #INIT_TIMEOUT} (a worker on this driver). */
    public static WorkerConfig withBootTime(WorkerConfig config) {
        return new WorkerConfig(config.workerId(), config.dataDir(), config.runtimes(), config.clock(), config.uidBase(),
                config.uidCount(), config.pidsMax(),
                config.initTimeout().compareTo(INIT_TIMEOUT) < 0 ? INIT_TIMEOUT : config.initTimeout(),
                config.logFileMaxBytes(), config.logFilesKept(), config.warmNetns(), config.runtimeApi(), config.capacity());
    }

    /** {@code -Dignis.microvm.cache}, else {@code /var/cache/ignis/microvm}: shared by the host's workers. */
    public static Path defaultCacheDir() {
        return Path.of(System.getProperty("ignis.microvm.cache", "/var/cache/ignis/microvm"));
    }

    /** Whether this host can run microVM sandboxes (no side effects). */
    public static Availability probeHost(GuestImage image) {
        if (!"root".equals(System.getProperty("user.name"))) {
            return new Availability.Unavailable("the microvm sandbox driver must run as root (cgroups, uid drop, network namespace)");
        }
        for (Path p : List.of(QemuCommand.QEMU, QemuCommand.BWRAP, QemuCommand.SETPRIV)) {
            if (!Files.isExecutable(p)) {
                return new Availability.Unavailable(p + " is required by the microvm sandbox driver "
                        + "(apt-get install qemu-system-x86 bubblewrap util-linux)");
            }
        }
        if (image == null) {
            return new Availability.Unavailable("no guest image in " + defaultCacheDir()
                    + ": the driver fetches Debian's linux-image-amd64 and builds the initramfs when it starts "
                    + "(needs apt-get, dpkg-deb and gcc with a static libc: libc6-dev)");
        }
        return new Availability.Available();
    }

    @Override
    public String name() {
        return "microvm";
    }

    @Override
    public Availability probe() {
        Availability a = probeHost(image);
        return a instanceof Availability.Available && !Files.isRegularFile(image.initramfs())
                ? new Availability.Unavailable(image.initramfs() + " is gone") : a;
    }

    /** {@code kvm} or {@code tcg}, and why. */
    public Accel accel() {
        return accel;
    }

    /** Snapshots taken by this driver (docs/snapshots.md). */
    @Override
    public boolean canSnapshot() {
        return true;
    }

    @Override
    public long pidsInUse() {
        return cgroups.pidsInUse();
    }

    @Override
    public Sandbox start(Start start) {
        return launch(start, new Launch.Boot(false));
    }

    @Override
    public Sandbox startSnapshottable(Start start) {
        return launch(start, new Launch.Boot(true));
    }

    @Override
    public boolean hasSnapshot(String key) {
        return snapshots.has(key);
    }

    /** Saves {@code sandbox}; nothing when it could not be booted snapshottable (its start logged why). */
    @Override
    public void snapshot(Sandbox sandbox, String key) {
        MicroVmSandbox vm = (MicroVmSandbox) sandbox;
        if (vm.snapshottable()) {
            snapshots.take(vm, key);
        }
    }

    @Override
    public Sandbox restore(Start start, String key) {
        MicroVmSnapshots.Snapshot s = snapshots.get(key);
        if (s == null) {
            throw new IllegalStateException("no snapshot " + key + " on this worker");
        }
        return launch(start, new Launch.Restore(s));
    }

    /** The files of snapshot {@code key} ({@code state}, {@code mem}), if this driver holds it (tests, diagnostics). */
    public java.util.Optional<List<Path>> snapshotFiles(String key) {
        return java.util.Optional.ofNullable(snapshots.get(key)).map(s -> List.of(s.state(), s.mem()));
    }

    @Override
    public void dropSnapshot(String key) {
        snapshots.drop(key);
    }

    /** How a VM comes up: booted (snapshottable or not), or restored from a snapshot. */
    sealed interface Launch {
        record Boot(boolean snapshottable) implements Launch {}

        record Restore(MicroVmSnapshots.Snapshot from) implements Launch {}
    }

    private Sandbox launch(Start start, Launch how) {
        SandboxSpec spec = start.spec();
        String id = "sb-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
        int uid = allocateUid();
        Path vmDir = vmRoot.resolve(id);
        Cgroups.Group group = null;
        MicroVmSandbox vm = null;
        boolean listening = false;
        try {
            long t0 = System.nanoTime();
            Files.createDirectory(vmDir);
            Files.setPosixFilePermissions(vmDir, PosixFilePermissions.fromString("rwx------"));
            Files.setAttribute(vmDir, "unix:uid", uid);
            Files.setAttribute(vmDir, "unix:gid", uid);
            int guestMb = spec.memoryMb() + GUEST_OVERHEAD_MB;
            int vcpus = Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(),
                    (spec.memoryMb() + Cgroups.MB_PER_VCPU - 1) / Cgroups.MB_PER_VCPU));
            if (how instanceof Launch.Restore(var from)) {
                guestMb = from.guestMemoryMb();
                vcpus = from.vcpus();
            }
            Cgroups.Limits vmLimits = Cgroups.Limits.forMemory(guestMb + QEMU_OVERHEAD_MB, QEMU_PIDS);
            // CPU: the VM's vCPUs in full (not the process driver's MemorySize/1769 share): the guest kernel's boot
            // is not the function's work, and under TCG every guest instruction costs tens of host ones
            group = cgroups.create(id, new Cgroups.Limits(vmLimits.memoryBytes(),
                    vcpus * Cgroups.CPU_PERIOD_MICROS, Cgroups.CPU_PERIOD_MICROS, QEMU_PIDS));
            ServerSocketChannel listener = relayNs.listen();
            start.runtimeApi().listen(listener);
            listening = true;
            List<QemuCommand.Share> shares = List.of();
            List<QemuCommand.Drive> drives = List.of();
            byte[] guestConfig = null;
            QemuCommand.Params params;
            Path mem = vmDir.resolve("mem");
            Integer kvmGid = accel.kvm() ? kvmGid() : null;
            boolean snapshottableVm = false;
            switch (how) {
                case Launch.Boot(boolean wanted) -> {
                    GuestFiles guest = guestFiles(start.runtime(), spec.codeDirectory());
                    List<String[]> mounts;
                    if (wanted) {
                        try {
                            List<QemuCommand.Drive> d = new ArrayList<>();
                            for (QemuCommand.Share sh : guest.shares()) {
                                d.add(snapshots.images().drive(sh));
                            }
                            drives = List.copyOf(d);
                        } catch (DiskImages.TooLarge e) {
                            LOG.info("microVM {}: booted without a snapshot: {}", id, e.getMessage());
                        }
                    }
                    boolean snapshottable = !drives.isEmpty();
                    if (snapshottable) {
                        mounts = drives.stream().map(x -> new String[] {"blk:" + x.tag(), x.guestPath()}).toList();
                    } else {
                        shares = guest.shares();
                        mounts = shares.stream().map(x -> new String[] {x.tag(), x.guestPath()}).toList();
                    }
                    guestConfig = GuestChannel.config(start.memoryBytes(), start.ephemeralStorageBytes(), config.pidsMax(),
                            mounts, guest.binds(), start.runtime().command(), start.environment());
                    snapshottableVm = snapshottable;
                    params = new QemuCommand.Params(group.procsFiles(), uid, kvmGid, accel, image, vmDir, guestMb, vcpus,
                            shares, drives, snapshottable ? new QemuCommand.Memory.SharedFile(mem)
                                    : new QemuCommand.Memory.Anonymous(), false, null);
                }
                case Launch.Restore(var from) -> {
                    drives = from.drives();
                    snapshots.materialize(from, mem, uid, group.procsFiles());
                    params = new QemuCommand.Params(group.procsFiles(), uid, kvmGid, accel, image, vmDir, guestMb, vcpus,
                            shares, drives, new QemuCommand.Memory.SharedFile(mem), true,
                            MicroVmSnapshots.VMGENID ? java.util.UUID.randomUUID().toString() : null);
                }
            }
            List<String> cmd = QemuCommand.of(params);
            if (how instanceof Launch.Boot) {
                // a boot's Init Duration starts at QEMU's spawn, as before snapshots: building a disk image is once per
                // content, not per start. A restore's counts from the start of the launch: its RAM copy is per restore
                t0 = System.nanoTime();
            }
            Process qemu = owner.submit(() -> new ProcessBuilder(cmd)
                    .redirectOutput(vmDir.resolve("qemu.out").toFile()).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start()).get();
            vm = new MicroVmSandbox(this, id, uid, vmDir, group, qemu, t0, guestMb, vcpus, snapshottableVm, drives);
            live.put(id, vm);
            SocketChannel mux = vm.connect("mux");
            SocketChannel log = vm.connect("log");
            if (how instanceof Launch.Restore(var from)) {
                vm.attach(GuestChannel.resumed(mux, relayNs, listener.getLocalAddress()), log);
                snapshots.resume(vm, from);
            } else {
                vm.attach(new GuestChannel(mux, relayNs, listener.getLocalAddress(), guestConfig), log);
            }
            return vm;
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            if (vm != null) {
                vm.stop();
            }
            // QEMU's own words (a device-state stream it could not load): the restore's failure line names them
            String qemuSays = vm != null && how instanceof Launch.Restore
                    ? " (QEMU: " + MicroVmSandbox.tail(vmDir.resolve("qemu.out")).replace('\n', ' ') + ")" : "";
            if (listening) {
                start.runtimeApi().close();
            }
            if (vm != null) {
                vm.close();
            } else {
                if (group != null) {
                    group.remove();
                }
                deleteQuietly(vmDir);
                releaseUid(uid);
            }
            Throwable cause = e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e;
            throw new IllegalStateException("could not " + (how instanceof Launch.Restore ? "restore" : "start")
                    + " a microVM for " + spec.functionArn() + ": " + cause.getMessage() + qemuSays, cause);
        }
    }

    /**
     * What the guest sees of the host: 9p exports of the runtime's host directories at their own paths, its library
     * binds, /var/runtime and /var/task; and the single files among its host paths (an interpreter, a CA bundle),
     * which 9p cannot export: copied once per set into a directory of this worker's ({@code files-<hash>}), exported
     * as one share at {@link #FILES_IN_GUEST} and bound by the agent onto their own paths, read-only.
     */
    record GuestFiles(List<QemuCommand.Share> shares, List<String[]> binds) {}

    static final String FILES_IN_GUEST = "/.ignis-files";

    GuestFiles guestFiles(RuntimeDefinition rt, Path code) throws IOException {
        List<QemuCommand.Share> s = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        int i = 0;
        for (Path p : new java.util.LinkedHashSet<>(rt.hostReadOnlyPaths())) {
            if (Files.isDirectory(p)) {
                s.add(new QemuCommand.Share("h" + i++, p.toString(), p.toRealPath()));
            } else if (Files.isRegularFile(p)) {
                files.add(p);
            }
        }
        for (var b : rt.directoryBinds().entrySet()) {
            s.add(new QemuCommand.Share("h" + i++, b.getKey().toString(), b.getValue()));
        }
        if (rt.runtimeDirectory() != null) {
            s.add(new QemuCommand.Share("runtime", "/var/runtime", rt.runtimeDirectory()));
        }
        s.add(new QemuCommand.Share("task", "/var/task", code));
        List<String[]> binds = new ArrayList<>();
        if (!files.isEmpty()) {
            s.add(new QemuCommand.Share("files", FILES_IN_GUEST, stageFiles(files)));
            for (Path f : files) {
                binds.add(new String[] {FILES_IN_GUEST + f, f.toString()});
            }
        }
        s.sort(java.util.Comparator.comparing(QemuCommand.Share::guestPath)); // a parent is mounted before its children
        for (QemuCommand.Share x : s) {
            String h = x.hostPath().toString();
            if (h.indexOf(',') >= 0 || h.indexOf('\0') >= 0 || x.guestPath().indexOf('\0') >= 0) {
                throw new IllegalStateException("a path QEMU cannot take (comma): " + h);
            }
        }
        return new GuestFiles(s, binds);
    }

    /** A world-readable copy of {@code files} at their own paths below one directory, made once per set and version. */
    private synchronized Path stageFiles(List<Path> files) throws IOException {
        StringBuilder key = new StringBuilder();
        for (Path f : files) {
            key.append(f).append('\0').append(Files.size(f)).append('\0').append(Files.getLastModifiedTime(f)).append('\0');
        }
        Path dir = vmRoot.resolve("files-" + Integer.toHexString(key.toString().hashCode()));
        if (Files.isDirectory(dir)) {
            return dir;
        }
        Path tmp = Files.createTempDirectory(vmRoot, "files-");
        for (Path f : files) {
            Path to = tmp.resolve(f.toString().substring(1));
            Files.createDirectories(to.getParent());
            Files.copy(f, to, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
            Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("r-xr-xr-x"));
        }
        try (var walk = Files.walk(tmp)) {
            for (Path d : walk.filter(Files::isDirectory).toList()) {
                Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        }
        Files.move(tmp, dir, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return dir;
    }

    private static Integer kvmGid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/dev/kvm"), "unix:gid");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    synchronized int allocateUid() {
        int i = uidsInUse.nextClearBit(0);
        if (i >= uids.range().count()) {
            throw new WorkerAtCapacityException(config.workerId(), "all " + config.uidCount() + " of its sandbox uids are in use");
        }
        uidsInUse.set(i);
        return uids.range().first() + i;
    }

    synchronized void releaseUid(int uid) {
        uidsInUse.clear(uid - uids.range().first());
    }

    static void deleteQuietly(Path dir) {
        try {
            GuestImage.deleteTree(dir);
        } catch (IOException e) {
            LOG.warn("could not remove {}: {}", dir, e.toString());
        }
    }

    @Override
    public void close() {
        owner.shutdownNow();
        cgroups.removeAll();
        relayNs.close();
        deleteQuietly(vmRoot);
        uids.close();
    }
}

package dev.ignis.worker.microvm;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The microVM driver's snapshots (docs/snapshots.md): one per function configuration, taken from the function's
 * first VM once its runtime asked for its first event, and restored into every later VM of that configuration.
 *
 * <ul>
 *   <li><b>Take</b>: the VM's RAM is a file in its own directory ({@code memory-backend-file,share=on}); QMP
 *       {@code stop}, then the device state is migrated with {@code x-ignore-shared} (the RAM is not in the stream)
 *       over a Unix socket the driver listens on in the VM's directory (QEMU 7.2 has no {@code file:} migration and
 *       {@code -sandbox spawn=deny} forbids {@code exec:}), the RAM file is copied (sparse: only the pages the guest
 *       touched), and QMP {@code cont} lets the VM serve the invoke that is waiting: the first cold start pays the
 *       snapshot's pause, not a second boot.</li>
 *   <li><b>Restore</b>: the snapshot's RAM is copied (sparse, in the VM's cgroups) into the new VM's own directory and
 *       mapped from there (the guest's writes land in its own copy; no QEMU ever maps the snapshot), QEMU starts with
 *       {@code -incoming defer}, the device state is streamed into {@code migrate-incoming} over a Unix socket QEMU
 *       listens on, and the VM runs on from the pause. The mux port's host side is new: {@link GuestChannel#resumed}
 *       sends RESUME (fresh entropy); the agent reseeds and resends the runtime's pending /next.</li>
 * </ul>
 * Snapshots live in {@code /run/ignis-microvm/<worker>/snapshots/<key>} (root, 0700): no QEMU's jail binds that
 * directory, so no VM, of this function or another, can read or write a snapshot; each restored VM gets its own copy.
 */
final class MicroVmSnapshots {
    private static final Logger LOG = LoggerFactory.getLogger(MicroVmSnapshots.class);
    /**
     * Whether restores add QEMU's {@code vmgenid} device: off, because QEMU 7.2's {@code microvm} machine builds no
     * ACPI table for it (the guest sees no VM generation id); the agent's reseed is what makes clones differ.
     */
    static final boolean VMGENID = Boolean.getBoolean("ignis.microvm.vmgenid");
    /** Bound on a device-state stream (it is some hundred KB; RAM is not in it). */
    private static final long MAX_STATE_BYTES = 256L << 20;
    private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(60);

    /**
     * One snapshot: its directory ({@code state}: QEMU's device state; {@code mem}: guest RAM, sparse) and what a
     * restore must recreate identically (RAM size, vCPUs, the same disks in the same order).
     */
    record Snapshot(String key, Path dir, int guestMemoryMb, int vcpus, List<QemuCommand.Drive> drives) {
        Path state() {
            return dir.resolve("state");
        }

        Path mem() {
            return dir.resolve("mem");
        }
    }

    /**
     * Snapshots one driver keeps ({@code -Dignis.microvm.snapshots}, default 16): each holds the RAM its guest touched
     * (about 100 MB for python) in the driver's tmpfs, so the least recently used one goes when a new one would pass
     * this. Garbage collection by age and the chunk store's tiers are the snapshot issue's next steps.
     */
    static final int MAX_SNAPSHOTS = Integer.getInteger("ignis.microvm.snapshots", 16);
    private final Path root;
    private final DiskImages images;
    private final Map<String, Snapshot> snapshots = new ConcurrentHashMap<>();
    private final Map<String, Long> lastUsed = new ConcurrentHashMap<>();

    MicroVmSnapshots(Path vmRoot) throws IOException {
        this.root = vmRoot.resolve("snapshots");
        Files.createDirectories(root);
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
        this.images = new DiskImages(vmRoot.resolve("images"));
    }

    DiskImages images() {
        return images;
    }

    boolean has(String key) {
        return snapshots.containsKey(key);
    }

    Snapshot get(String key) {
        Snapshot s = snapshots.get(key);
        if (s != null) {
            lastUsed.put(key, System.nanoTime());
        }
        return s;
    }

    void drop(String key) {
        lastUsed.remove(key);
        Snapshot s = snapshots.remove(key);
        if (s != null) {
            MicroVmDriver.deleteQuietly(s.dir());
        }
    }

    /** Snapshots {@code vm} (paused for the duration) under {@code key}; the VM runs on whether or not this worked. */
    void take(MicroVmSandbox vm, String key) {
        if (!vm.snapshottable()) {
            throw new IllegalStateException("microVM " + vm.id() + " was not started snapshottable");
        }
        if (!key.matches("[0-9a-f]{1,64}")) {
            throw new IllegalArgumentException("a snapshot key is hex: " + key);
        }
        long t0 = System.nanoTime();
        Path tmp = null;
        try {
            Qmp q = vm.qmp();
            tmp = Files.createTempDirectory(root, "taking-");
            q.execute("stop");
            long paused = System.nanoTime();
            try {
                q.execute("migrate-set-capabilities", Map.of("capabilities",
                        List.of(Map.of("capability", "x-ignore-shared", "state", true))));
                Path sock = vm.dir().resolve("snapshot.sock");
                long stateBytes;
                try (ServerSocketChannel srv = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                    srv.bind(UnixDomainSocketAddress.of(sock));
                    // the VM's directory is QEMU's (its uid owns it): never follow a link it may have put there
                    Files.setAttribute(sock, "unix:uid", vm.uid(), java.nio.file.LinkOption.NOFOLLOW_LINKS);
                    q.execute("migrate", Map.of("uri", "unix:" + sock));
                    CompletableFuture<SocketChannel> accepted = CompletableFuture.supplyAsync(() -> {
                        try {
                            return srv.accept();
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }, r -> Thread.ofVirtual().start(r));
                    try (SocketChannel c = accepted.get(30, TimeUnit.SECONDS);
                         FileChannel out = FileChannel.open(tmp.resolve("state"), StandardOpenOption.CREATE_NEW,
                                 StandardOpenOption.WRITE)) {
                        requirePeer(c, vm.uid());
                        stateBytes = copy(c, out);
                    }
                } finally {
                    Files.deleteIfExists(sock);
                }
                awaitMigration(q, "query-migrate", "completed");
                long copied = System.nanoTime();
                copyRam(vm.dir().resolve("mem"), vm.uid(), vm.guestMemoryMb(), tmp.resolve("mem"));
                Path dir = root.resolve(key);
                Files.move(tmp, dir, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                tmp = null;
                snapshots.put(key, new Snapshot(key, dir, vm.guestMemoryMb(), vm.vcpus(), vm.drives()));
                lastUsed.put(key, System.nanoTime());
                while (snapshots.size() > MAX_SNAPSHOTS) {
                    lastUsed.entrySet().stream().min(Map.Entry.comparingByValue()).map(Map.Entry::getKey).ifPresent(this::drop);
                }
                LOG.info("microVM {}: snapshot {} taken in {} ms (device state {} KB in {} ms, RAM {} MB allocated of {} MB)",
                        vm.id(), key, ms(System.nanoTime() - t0), stateBytes / 1024, ms(copied - paused),
                        allocatedMb(dir.resolve("mem")), vm.guestMemoryMb());
            } finally {
                q.execute("cont"); // the original serves the invoke its /next is waiting for
            }
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("could not snapshot microVM " + vm.id() + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                MicroVmDriver.deleteQuietly(tmp);
            }
        }
    }

    /** The VM's own RAM file for a restore of {@code s}: a sparse copy, owned by the VM's uid (QEMU opens it rw). */
    void materialize(Snapshot s, Path mem, int uid, List<Path> cgroupProcs) throws IOException {
        // before QEMU starts: nothing but the driver writes the VM's directory yet. The copy runs in the VM's cgroups,
        // so its tmpfs pages (the guest's RAM from here on) count against the VM's memory limit, not the worker's
        List<String> cmd = new java.util.ArrayList<>(List.of("/bin/sh", "-c",
                "while [ \"$1\" != -- ]; do echo $$ > \"$1\" || exit 125; shift; done; shift; exec \"$@\"", "ignis-restore-copy"));
        cgroupProcs.forEach(p -> cmd.add(p.toString()));
        cmd.addAll(List.of("--", "cp", "--sparse=always", s.mem().toString(), mem.toString()));
        DiskImages.run(cmd.toArray(String[]::new));
        Files.setPosixFilePermissions(mem, PosixFilePermissions.fromString("rw-------"));
        Files.setAttribute(mem, "unix:uid", uid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(mem, "unix:gid", uid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    /** Streams {@code s}'s device state into {@code vm} (started with {@code -incoming defer}); returns once it runs. */
    void resume(MicroVmSandbox vm, Snapshot s) throws IOException, InterruptedException, java.util.concurrent.TimeoutException {
        Qmp q = vm.qmp();
        q.execute("migrate-set-capabilities", Map.of("capabilities",
                List.of(Map.of("capability", "x-ignore-shared", "state", true))));
        Path sock = vm.dir().resolve("restore.sock");
        q.execute("migrate-incoming", Map.of("uri", "unix:" + sock));
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(sock));
             FileChannel in = FileChannel.open(s.state(), StandardOpenOption.READ)) {
            requirePeer(c, vm.uid()); // the socket is in QEMU's directory: stream only to QEMU itself
            long size = in.size();
            for (long off = 0; off < size; ) {
                off += in.transferTo(off, size - off, c);
            }
        }
        // the stream carries the source's run state, paused (it was stopped for the snapshot): the VM stays paused
        // once the state is in, and runs from here
        awaitMigration(q, "query-migrate", "completed");
        q.execute("cont");
        awaitMigration(q, "query-status", "running");
    }

    /** Fails unless the other end of {@code c} runs as {@code uid} (the VM's QEMU, not whatever a link points at). */
    static void requirePeer(SocketChannel c, int uid) throws IOException {
        var peer = c.getOption(jdk.net.ExtendedSocketOptions.SO_PEERCRED).user();
        var vm = java.nio.file.FileSystems.getDefault().getUserPrincipalLookupService()
                .lookupPrincipalByName(Integer.toString(uid));
        if (!peer.equals(vm)) {
            throw new IOException("the migration socket's peer is " + peer.getName() + ", not the VM's uid " + uid);
        }
    }

    /**
     * Copies the VM's RAM file to {@code to}, sparse (all-zero 4 KiB pages stay holes). The file is in QEMU's
     * directory, so it is opened without following links and must be a regular file of the VM's uid and the guest's
     * RAM size: a QEMU that swapped in a link to a host file gets a refused snapshot, not that file's bytes.
     */
    static void copyRam(Path from, int uid, int guestMb, Path to) throws IOException {
        try (FileChannel in = FileChannel.open(from, StandardOpenOption.READ, java.nio.file.LinkOption.NOFOLLOW_LINKS);
             FileChannel out = FileChannel.open(to, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            var attrs = Files.readAttributes(from, java.nio.file.attribute.PosixFileAttributes.class,
                    java.nio.file.LinkOption.NOFOLLOW_LINKS);
            int owner = (Integer) Files.getAttribute(from, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS);
            long size = in.size();
            if (!attrs.isRegularFile() || owner != uid || size != guestMb * 1024L * 1024L) {
                throw new IOException(from + " is not the VM's RAM file (regular " + attrs.isRegularFile() + ", uid "
                        + owner + ", " + size + " bytes)");
            }
            ByteBuffer b = ByteBuffer.allocateDirect(1 << 20);
            long pos = 0;
            while (pos < size) {
                b.clear();
                int n = in.read(b, pos);
                if (n <= 0) {
                    break;
                }
                for (int page = 0; page < n; page += 4096) {
                    int end = Math.min(n, page + 4096);
                    if (!zero(b, page, end)) {
                        out.write(b.duplicate().position(page).limit(end), pos + page);
                    }
                }
                pos += n;
            }
            if (out.size() < size) {
                out.write(ByteBuffer.allocate(1), size - 1); // the file's full length, a hole before it
            }
        }
    }

    private static boolean zero(ByteBuffer b, int from, int to) {
        int i = from;
        for (; i + 8 <= to; i += 8) {
            if (b.getLong(i) != 0) {
                return false;
            }
        }
        for (; i < to; i++) {
            if (b.get(i) != 0) {
                return false;
            }
        }
        return true;
    }

    /** Polls {@code query} until its status is {@code want}; a failed migration or the timeout throws. */
    private static void awaitMigration(Qmp q, String query, String want) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        while (true) {
            JsonNode r = q.execute(query);
            String status = r.path("status").asText();
            if (status.equals(want)) {
                return;
            }
            if (status.equals("failed") || status.equals("cancelled") || status.equals("internal-error")
                    || status.equals("guest-panicked") || status.equals("shutdown")) {
                throw new IOException(query + ": " + status + " " + r.path("error-desc").asText(""));
            }
            if (System.nanoTime() > deadline) {
                throw new IOException(query + " still " + status + " after " + TIMEOUT_NANOS / 1_000_000_000L + " s");
            }
            Thread.sleep(2);
        }
    }

    private static long copy(SocketChannel from, FileChannel to) throws IOException {
        ByteBuffer b = ByteBuffer.allocateDirect(1 << 20);
        long n = 0;
        while (from.read(b) >= 0) {
            b.flip();
            n += b.remaining();
            if (n > MAX_STATE_BYTES) {
                throw new IOException("device state over " + (MAX_STATE_BYTES >> 20) + " MB");
            }
            while (b.hasRemaining()) {
                to.write(b);
            }
            b.clear();
        }
        return n;
    }

    /** Blocks the file system holds for {@code f} (a sparse file's real size), MB. */
    static long allocatedMb(Path f) {
        try {
            Process p = new ProcessBuilder("stat", "-c", "%b %B", f.toString()).redirectErrorStream(true).start();
            String[] out = new String(p.getInputStream().readAllBytes()).trim().split(" ");
            p.waitFor();
            return Long.parseLong(out[0]) * Long.parseLong(out[1]) >> 20;
        } catch (IOException | RuntimeException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }
}

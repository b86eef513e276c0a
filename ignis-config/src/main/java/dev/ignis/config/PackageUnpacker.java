package dev.ignis.config;

import dev.ignis.common.LambdaException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntSupplier;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Unpacks a deployment package (and, later, a layer) into a new directory, for a tenant who wrote
 * every byte of it. Design:
 *
 * <ul>
 *   <li>The package is checked on paper first ({@link ZipValidator}): names, sizes, duplicates, no
 *       entry below a symlink of the package, no symlink target through another symlink.
 *   <li>On disk nothing trusts the paper check: every entry is created one name at a time relative
 *       to a directory descriptor, opened with {@code openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)},
 *       files with {@code O_CREAT | O_EXCL | O_NOFOLLOW}, directories with {@code mkdirat}; a link
 *       already on disk (or anything not a directory) where a directory should be fails the call
 *       instead of being followed. Symlinks are made last, after every file and directory, so no
 *       entry is ever written through one.
 *   <li>Defence in depth: each of those calls runs with the thread's filesystem uid/gid switched
 *       ({@code setfsuid}/{@code setfsgid}, per thread, on a dedicated platform thread) to an
 *       unprivileged id that owns only the staging directory, itself inside a root-only 0700
 *       directory; a mistake above it can write only where that id may. The ids are switched around
 *       each call (its arguments' marshalling and the system call) and restored, so the JVM's own
 *       work on that thread (class loading, say) never runs under them.
 *   <li>The result is then handed to root (lchown, no link followed) and made read-only for all:
 *       directories 0555, files 0444 or 0555 — what sandboxes, each with its own uid, need to read
 *       it at /var/task. It is renamed into place in one step; a refused package leaves nothing.
 * </ul>
 *
 * Faults of the package (a name that exists twice on disk, a link in the way, a name too long)
 * are {@code InvalidParameterValueException}; faults of the host are {@code ServiceException}.
 */
public final class PackageUnpacker {
    /** Linux's "nobody"/"nogroup": outside every sandbox uid range (those start at 1000 and more). */
    public static final int DEFAULT_UID = 65534;
    private static final int DIR_CACHE = 64;
    private static final Set<Integer> PACKAGE_FAULTS = Set.of(17 /* EEXIST */, 20 /* ENOTDIR */, 21 /* EISDIR */,
            36 /* ENAMETOOLONG */, 40 /* ELOOP */, 18 /* EXDEV */);

    private final int uid;
    private final int gid;
    private final boolean root;

    /** @param uid the unprivileged uid (and gid) that writes the package's files while it is unpacked */
    public PackageUnpacker(int uid) {
        if (uid <= 0) {
            throw new IllegalArgumentException("the unpacking uid must be unprivileged: " + uid);
        }
        this.uid = uid;
        this.gid = uid;
        this.root = NativeFs.isRoot();
    }

    /**
     * Unpacks {@code zip} into {@code target}, which must not exist yet; returns once it is in place.
     * When another unpacker put the same directory in place first, its directory stands.
     *
     * @throws LambdaException InvalidParameterValueException for a package that cannot be unpacked
     *         safely (nothing is left behind)
     */
    public void unpack(byte[] zip, Path target) {
        unpack(zip, ZipValidator.validate(zip), target);
    }

    /** Unpacks with the listing given (tests hand it over unchecked to try the on-disk defences alone). */
    void unpack(byte[] zip, ZipValidator.Listing listing, Path target) {
        Path staging = target.resolveSibling(".staging");
        Path stage = staging.resolve(target.getFileName() + "." + UUID.randomUUID());
        try {
            Files.createDirectories(staging);
            Files.setPosixFilePermissions(staging, PosixFilePermissions.fromString("rwx------"));
            Files.createDirectory(stage);
            onPlatformThread(() -> extract(zip, listing, stage));
            handToRoot(stage);
            Files.move(stage, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            CodeStore.deleteTree(stage);
            if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                throw new UncheckedIOException(e);
            }
            // another unpacker (thread, or node on a shared store) put the same package in place first
        } catch (RuntimeException e) {
            CodeStore.deleteTree(stage);
            throw e;
        }
    }

    /** Runs the extraction on its own platform thread: the fs ids it switches belong to one OS thread. */
    private static void onPlatformThread(Runnable task) throws IOException {
        var failure = new AtomicReference<Throwable>();
        Thread t = Thread.ofPlatform().name("ignis-unpack").start(() -> {
            try {
                task.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        switch (failure.get()) {
            case null -> { }
            case RuntimeException e -> throw e;
            case Error e -> throw e;
            case Throwable e -> throw new IOException(e);
        }
    }

    private void extract(byte[] zip, ZipValidator.Listing listing, Path stage) {
        try (Arena arena = Arena.ofConfined(); var x = new Extraction(new NativeFs(arena), arena, stage)) {
            List<Map.Entry<List<String>, String>> links = new ArrayList<>();
            long total = 0;
            try (var in = new ZipInputStream(new ByteArrayInputStream(zip))) {
                ZipEntry e;
                while ((e = in.getNextEntry()) != null) {
                    List<String> path = ZipValidator.components(e.getName());
                    int mode = listing.modes().getOrDefault(e.getName(), 0);
                    if (ZipValidator.isSymlink(mode)) {
                        links.add(Map.entry(path, new String(in.readNBytes(ZipValidator.MAX_LINK_TARGET + 1), StandardCharsets.UTF_8)));
                    } else if (e.isDirectory()) {
                        x.directory(path);
                    } else {
                        total += x.file(path, in, (mode & 0111) != 0 || mode == 0 && path.getLast().equals("bootstrap"), total);
                    }
                }
            }
            for (var link : links) {
                List<String> path = link.getKey();
                int parent = x.directory(path.subList(0, path.size() - 1));
                x.check(x.unprivileged(() -> x.fs.symlinkat(link.getValue(), parent, path.getLast())), path);
            }
        } catch (IOException e) {
            throw ZipValidator.invalid("Could not unzip uploaded file. Please check your file, then try to upload again. (" + e.getMessage() + ")");
        }
    }

    /** Owner root (or whoever runs Ignis), no link followed; directories r-x for all. */
    private void handToRoot(Path stage) throws IOException {
        Files.walkFileTree(stage, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                own(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException failed) throws IOException {
                if (failed != null) {
                    throw failed;
                }
                own(dir);
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("r-xr-xr-x"));
                return FileVisitResult.CONTINUE;
            }

            private void own(Path p) throws IOException {
                if (root) {
                    Files.setAttribute(p, "unix:uid", 0, LinkOption.NOFOLLOW_LINKS);
                    Files.setAttribute(p, "unix:gid", 0, LinkOption.NOFOLLOW_LINKS);
                }
            }
        });
    }

    /** One extraction: the staging directory's descriptor and a small cache of its subdirectories' descriptors. */
    private final class Extraction implements AutoCloseable {
        final NativeFs fs;
        private final MemorySegment buffer;
        private final byte[] chunk = new byte[64 * 1024];
        private final int rootFd;
        private final Map<List<String>, Integer> dirs = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<List<String>, Integer> eldest) {
                if (size() > DIR_CACHE) {
                    fs.close(eldest.getValue());
                    return true;
                }
                return false;
            }
        };

        Extraction(NativeFs fs, Arena arena, Path stage) {
            this.fs = fs;
            this.buffer = arena.allocate(chunk.length);
            // opened as root (the parent is root's 0700), then given to the unprivileged id that writes beneath it
            int fd = fs.openDirectory(stage.toAbsolutePath().toString());
            if (fd < 0) {
                throw new UncheckedIOException(new IOException("cannot open the staging directory " + stage + ": errno " + -fd));
            }
            this.rootFd = fd;
            if (root && (fs.fchown(fd, uid, gid) < 0 || fs.fchmod(fd, 0700) < 0)) {
                fs.close(fd);
                throw new UncheckedIOException(new IOException("cannot hand the staging directory to uid " + uid));
            }
        }

        /** The descriptor of a directory of the package, made (as the unprivileged id) when missing. */
        int directory(List<String> path) {
            if (path.isEmpty()) {
                return rootFd;
            }
            Integer cached = dirs.get(path);
            if (cached != null) {
                return cached;
            }
            int parent = directory(path.subList(0, path.size() - 1));
            String name = path.getLast();
            int made = unprivileged(() -> fs.mkdirat(parent, name, 0755));
            if (made < 0 && made != -NativeFs.EEXIST) {
                check(made, path);
            }
            int fd = check(unprivileged(() -> fs.openBeneath(parent, name, NativeFs.O_RDONLY | NativeFs.O_DIRECTORY, 0)), path);
            dirs.put(List.copyOf(path), fd);
            return fd;
        }

        /** Creates a file that must not exist, copies the entry into it; returns its size. */
        long file(List<String> path, InputStream in, boolean executable, long unpackedSoFar) throws IOException {
            int parent = directory(path.subList(0, path.size() - 1));
            int fd = check(unprivileged(() -> fs.openBeneath(parent, path.getLast(),
                    NativeFs.O_WRONLY | NativeFs.O_CREAT | NativeFs.O_EXCL, 0600)), path);
            long size = 0;
            try {
                int n;
                while ((n = in.read(chunk)) > 0) {
                    size += n;
                    if (unpackedSoFar + size > ZipValidator.MAX_UNZIPPED) {
                        throw ZipValidator.invalid("Unzipped size must be smaller than " + ZipValidator.MAX_UNZIPPED + " bytes");
                    }
                    MemorySegment.copy(chunk, 0, buffer, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, n);
                    int written = fs.writeAll(fd, buffer, n);
                    if (written < 0) {
                        throw new IOException("write failed: errno " + -written);
                    }
                }
                check(fs.fchmod(fd, executable ? 0555 : 0444), path);
            } finally {
                fs.close(fd);
            }
            return size;
        }

        /** Runs one filesystem call as the unprivileged id (when Ignis runs as root). */
        int unprivileged(IntSupplier call) {
            return root ? fs.asUser(uid, gid, call) : call.getAsInt();
        }

        /** A failed call: the package's fault (InvalidParameterValue) or the host's. */
        int check(int result, List<String> path) {
            if (result >= 0) {
                return result;
            }
            String name = String.join("/", path);
            if (PACKAGE_FAULTS.contains(-result)) {
                throw ZipValidator.invalid("Zip entry " + name + " cannot be unpacked: it collides with another entry,"
                        + " a symlink of the package or a limit of the file system (errno " + -result + ")");
            }
            throw new UncheckedIOException(new IOException("unpacking " + name + " failed: errno " + -result));
        }

        @Override
        public void close() {
            dirs.values().forEach(fs::close);
            dirs.clear();
            fs.close(rootFd);
        }
    }
}

package dev.ignis.chunk.fuse;

import dev.ignis.chunk.ChunkIntegrityException;
import dev.ignis.chunk.ChunkedObjectReader;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.cryptomator.jfuse.api.DirFiller;
import org.cryptomator.jfuse.api.Errno;
import org.cryptomator.jfuse.api.FileInfo;
import org.cryptomator.jfuse.api.Fuse;
import org.cryptomator.jfuse.api.FuseBuilder;
import org.cryptomator.jfuse.api.FuseConfig;
import org.cryptomator.jfuse.api.FuseConnInfo;
import org.cryptomator.jfuse.api.FuseMountFailedException;
import org.cryptomator.jfuse.api.FuseOperations;
import org.cryptomator.jfuse.api.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sparse file system: a read-only FUSE mount (jfuse, on Java's FFM API) with one file per
 * consumer, {@code <mount>/<consumer>}, whose bytes are an object's plaintext fetched chunk by chunk
 * on first read through a {@link ChunkedObjectReader}.
 *
 * <p>Design notes. Each consumer (sandbox) gets its own file, hence its own inode and its own page
 * cache: no page is ever shared between two tenants, and a sandbox maps its file MAP_PRIVATE so its
 * writes stay copy-on-write private. Kernel read-ahead is capped at mount time
 * ({@code max_readahead}); left at the default, a restored VM's random page faults make the kernel
 * read far ahead of each fault and pull most of the image — the cold-start bug from the talk. Reads
 * are not direct I/O, so the page cache serves repeat faults and mmap works.
 */
public final class SparseFileMount implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SparseFileMount.class);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.\\-]{1,128}");

    private final Map<String, ChunkedObjectReader> files = new ConcurrentHashMap<>();
    private final Path mountPoint;
    private final Fuse fuse;

    private SparseFileMount(Path mountPoint, int maxReadaheadBytes) throws FuseMountFailedException {
        this.mountPoint = mountPoint;
        FuseBuilder builder = Fuse.builder();
        libfuse().ifPresent(builder::setLibraryPath);
        Errno errno = builder.errno();
        this.fuse = builder.build(new Ops(errno, maxReadaheadBytes));
        fuse.mount("ignis-chunk", mountPoint, "-s", "-oro", "-ofsname=ignis-chunk", "-odefault_permissions");
    }

    /**
     * Debian ships only {@code libfuse3.so.3} without the development symlink jfuse looks for
     * ({@code libfuse3.so}), so name the versioned library explicitly when it exists.
     */
    static java.util.Optional<String> libfuse() {
        for (String dir : new String[] {"/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib"}) {
            Path p = Path.of(dir, "libfuse3.so.3");
            if (java.nio.file.Files.exists(p)) {
                return java.util.Optional.of(p.toString());
            }
        }
        return java.util.Optional.empty();
    }

    /**
     * Mounts an empty sparse file system at {@code mountPoint} (an existing empty directory).
     *
     * @param maxReadaheadBytes kernel read-ahead cap; 0 means only the faulted page is read
     */
    public static SparseFileMount mount(Path mountPoint, int maxReadaheadBytes) throws FuseMountFailedException {
        return new SparseFileMount(mountPoint, maxReadaheadBytes);
    }

    /** Exposes {@code reader} as {@code <mount>/<consumer>}; the mount closes the reader on {@link #remove}. */
    public Path expose(String consumer, ChunkedObjectReader reader) {
        if (!NAME.matcher(consumer).matches()) {
            throw new IllegalArgumentException("invalid consumer name: " + consumer);
        }
        if (files.putIfAbsent(consumer, reader) != null) {
            throw new IllegalArgumentException("consumer already has a file: " + consumer);
        }
        return mountPoint.resolve(consumer);
    }

    /** Removes a consumer's file and closes its reader (which stores its page access log). */
    public void remove(String consumer) {
        ChunkedObjectReader r = files.remove(consumer);
        if (r != null) {
            r.close();
        }
    }

    public Path mountPoint() {
        return mountPoint;
    }

    @Override
    public void close() throws TimeoutException {
        try {
            fuse.close();
        } finally {
            files.keySet().forEach(this::remove);
        }
    }

    private final class Ops implements FuseOperations {
        private final Errno errno;
        private final int maxReadahead;

        Ops(Errno errno, int maxReadahead) {
            this.errno = errno;
            this.maxReadahead = maxReadahead;
        }

        @Override
        public Errno errno() {
            return errno;
        }

        @Override
        public Set<Operation> supportedOperations() {
            return EnumSet.of(Operation.INIT, Operation.GET_ATTR, Operation.OPEN, Operation.READ, Operation.RELEASE,
                    Operation.OPEN_DIR, Operation.READ_DIR, Operation.RELEASE_DIR);
        }

        @Override
        public void init(FuseConnInfo conn, FuseConfig cfg) {
            conn.setMaxReadahead(maxReadahead);
        }

        private ChunkedObjectReader lookup(String path) {
            return path.length() > 1 ? files.get(path.substring(1)) : null;
        }

        @Override
        public int getattr(String path, Stat stat, FileInfo fi) {
            if ("/".equals(path)) {
                stat.setMode(Stat.S_IFDIR | 0555);
                stat.setNLink((short) 2);
                return 0;
            }
            ChunkedObjectReader r = lookup(path);
            if (r == null) {
                return -errno.enoent();
            }
            stat.setMode(Stat.S_IFREG | 0444);
            stat.setNLink((short) 1);
            stat.setSize(r.size());
            return 0;
        }

        @Override
        public int open(String path, FileInfo fi) {
            if (lookup(path) == null) {
                return -errno.enoent();
            }
            if (fi.getOpenFlags().contains(java.nio.file.StandardOpenOption.WRITE)) {
                return -errno.erofs();
            }
            return 0;
        }

        @Override
        public int read(String path, ByteBuffer buf, long size, long offset, FileInfo fi) {
            ChunkedObjectReader r = lookup(path);
            if (r == null) {
                return -errno.enoent();
            }
            try {
                byte[] tmp = new byte[(int) Math.min(size, buf.remaining())];
                int n = r.read(offset, tmp, 0, tmp.length);
                if (n <= 0) {
                    return 0;
                }
                buf.put(tmp, 0, n);
                return n;
            } catch (ChunkIntegrityException e) {
                LOG.error("refusing to serve {} at {}: {}", path, offset, e.getMessage());
                return -errno.eio();
            } catch (RuntimeException e) {
                LOG.error("read of {} at {} failed", path, offset, e);
                return -errno.eio();
            }
        }

        @Override
        public int release(String path, FileInfo fi) {
            return 0;
        }

        @Override
        public int opendir(String path, FileInfo fi) {
            return "/".equals(path) ? 0 : -errno.enoent();
        }

        @Override
        public int readdir(String path, DirFiller filler, long offset, FileInfo fi, int flags) {
            if (!"/".equals(path)) {
                return -errno.enoent();
            }
            try {
                filler.fill(".");
                filler.fill("..");
                for (String name : files.keySet()) {
                    filler.fill(name);
                }
                return 0;
            } catch (java.io.IOException e) {
                return -errno.eio();
            }
        }

        @Override
        public int releasedir(String path, FileInfo fi) {
            return 0;
        }
    }
}

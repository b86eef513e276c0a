package dev.ignis.chunk;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.ignis.chunk.tier.ChunkSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Random-access reads of one object's plaintext for one consumer (one sandbox), fetched chunk by
 * chunk on first touch through the tiers. This is the API the sparse-file (FUSE) layer calls.
 *
 * <p>Each consumer gets its own reader and its own small plaintext cache, so no decrypted page is
 * shared between tenants. The reader records the order of first-touched chunks (the page access
 * log); {@link #close()} hands it to the store, which keeps the first one recorded per manifest.
 * When opened with prefetch, a background virtual thread walks a previous consumer's log in order;
 * demand reads never queue behind it (they fetch directly, and join a prefetch already in flight
 * for the same chunk instead of fetching twice).
 */
public final class ChunkedObjectReader implements AutoCloseable {
    private final ManifestId id;
    private final Manifest manifest;
    private final ChunkSource source;
    private final ChunkDecryptor decryptor;
    private final Cache<Integer, byte[]> plain;
    private final ConcurrentHashMap<Integer, CompletableFuture<byte[]>> loading = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Integer, Boolean> touched = new ConcurrentHashMap<>();
    private final List<Integer> touchOrder = new ArrayList<>();
    private final Consumer<PageAccessLog> onClose;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile Thread prefetcher;

    ChunkedObjectReader(ManifestId id, Manifest manifest, ChunkSource source, ChunkDecryptor decryptor,
                        long plaintextCacheBytes, Consumer<PageAccessLog> onClose) {
        this.id = id;
        this.manifest = manifest;
        this.source = source;
        this.decryptor = decryptor;
        this.onClose = onClose;
        this.plain = Caffeine.newBuilder().maximumWeight(Math.max(plaintextCacheBytes, manifest.chunkSize()))
                .weigher((Integer k, byte[] v) -> v.length).executor(Runnable::run).build();
    }

    public ManifestId manifestId() {
        return id;
    }

    public Manifest manifest() {
        return manifest;
    }

    /** Plaintext size of the object. */
    public long size() {
        return manifest.size();
    }

    /**
     * Reads up to {@code len} bytes at {@code position} into {@code dst}; returns the bytes read,
     * or -1 at end of object. Throws {@link ChunkIntegrityException} if a chunk fails authentication.
     */
    public int read(long position, byte[] dst, int off, int len) {
        if (position < 0 || off < 0 || len < 0 || off + len > dst.length) {
            throw new IndexOutOfBoundsException("bad read range");
        }
        if (position >= manifest.size()) {
            return -1;
        }
        int total = 0;
        while (total < len && position < manifest.size()) {
            int index = manifest.chunkIndex(position);
            int inChunk = (int) (position - (long) index * manifest.chunkSize());
            ChunkRef ref = manifest.chunks().get(index);
            int n = Math.min(len - total, ref.plainLength() - inChunk);
            recordTouch(index);
            if (ref.isZero()) {
                java.util.Arrays.fill(dst, off + total, off + total + n, (byte) 0);
            } else {
                System.arraycopy(chunk(index), inChunk, dst, off + total, n);
            }
            total += n;
            position += n;
        }
        return total;
    }

    /** Plaintext of one chunk, loading it if needed (coalesced with any load in flight). */
    byte[] chunk(int index) {
        byte[] hit = plain.getIfPresent(index);
        if (hit != null) {
            return hit;
        }
        CompletableFuture<byte[]> mine = new CompletableFuture<>();
        CompletableFuture<byte[]> other = loading.putIfAbsent(index, mine);
        if (other != null) {
            return other.join();
        }
        try {
            ChunkRef ref = manifest.chunks().get(index);
            byte[] ciphertext = source.get(ref.id()).orElseThrow(() -> new ChunkIntegrityException(
                    "chunk " + index + " (" + ref.id() + ") of manifest " + id + " is missing from every tier"));
            byte[] p = decryptor.decrypt(index, ref, ciphertext);
            if (p.length != ref.plainLength()) {
                throw new ChunkIntegrityException("chunk " + index + " decrypted to " + p.length + " bytes, manifest says "
                        + ref.plainLength());
            }
            plain.put(index, p);
            mine.complete(p);
            return p;
        } catch (RuntimeException e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            loading.remove(index, mine);
        }
    }

    private void recordTouch(int index) {
        if (touched.putIfAbsent(index, Boolean.TRUE) == null) {
            synchronized (touchOrder) {
                touchOrder.add(index);
            }
        }
    }

    /** The first-touch order recorded so far. */
    public PageAccessLog accessLog() {
        synchronized (touchOrder) {
            return new PageAccessLog(touchOrder);
        }
    }

    /**
     * Starts walking {@code log} in the background: chunks are requested in log order, at most
     * {@code parallelism} at a time, skipping zero chunks and chunks already loaded. Demand reads do
     * not wait for this queue; a demand read of a chunk being prefetched joins that fetch.
     */
    public void prefetch(PageAccessLog log, int parallelism) {
        if (parallelism < 1) {
            throw new IllegalArgumentException("prefetch parallelism must be at least 1");
        }
        java.util.concurrent.Semaphore slots = new java.util.concurrent.Semaphore(parallelism);
        prefetcher = Thread.ofVirtual().name("chunk-prefetch-" + id.hex().substring(0, 8)).start(() -> {
            List<Thread> workers = new ArrayList<>();
            try {
                for (int index : log.chunkOrder()) {
                    if (closed.get()) {
                        break;
                    }
                    if (manifest.chunks().get(index).isZero() || plain.getIfPresent(index) != null) {
                        continue;
                    }
                    slots.acquire();
                    workers.add(Thread.ofVirtual().start(() -> {
                        try {
                            chunk(index);
                        } catch (RuntimeException e) {
                            // the demand read of this chunk reports the error to the consumer
                        } finally {
                            slots.release();
                        }
                    }));
                }
                for (Thread w : workers) {
                    w.join();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    /** Waits for the background prefetch to finish (tests, benchmarks). */
    public void awaitPrefetch() throws InterruptedException {
        Thread t = prefetcher;
        if (t != null) {
            t.join();
        }
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            Thread t = prefetcher;
            if (t != null) {
                t.interrupt();
            }
            plain.invalidateAll();
            onClose.accept(accessLog());
        }
    }
}

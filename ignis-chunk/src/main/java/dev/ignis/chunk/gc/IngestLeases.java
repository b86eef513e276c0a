package dev.ignis.chunk.gc;

import dev.ignis.chunk.ChunkId;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps garbage collection from deleting chunks that an in-flight ingest relies on.
 *
 * <p>Design note (mark with leases): an ingest opens a lease and {@link Lease#protect protects}
 * every chunk id <em>before</em> it checks whether the origin already has it (dedupe) — otherwise
 * GC could delete a chunk the ingest decided not to upload. A closed lease stays registered until a
 * GC that began after it closed has finished, because that GC's root listing is the first one
 * guaranteed to see the lease's manifest. GC checks and deletes each candidate under the registry
 * lock, so a protect cannot slip between the check and the delete. Across processes the store adds a
 * grace period on the chunk's last-modified time.
 */
public final class IngestLeases {
    private final Object lock = new Object();
    private final List<Lease> leases = new ArrayList<>();
    private long clock;

    /** One ingest's claim on the chunks it references. */
    public final class Lease implements AutoCloseable {
        private final Set<ChunkId> chunks = ConcurrentHashMap.newKeySet();
        private long closedAt = Long.MAX_VALUE;

        public void protect(ChunkId id) {
            synchronized (lock) {
                chunks.add(id);
            }
        }

        @Override
        public void close() {
            synchronized (lock) {
                closedAt = ++clock;
            }
        }
    }

    public Lease open() {
        synchronized (lock) {
            Lease l = new Lease();
            leases.add(l);
            return l;
        }
    }

    /** Marks the start of a GC; returns a ticket for {@link #endGc}. */
    public long beginGc() {
        synchronized (lock) {
            return ++clock;
        }
    }

    /**
     * Runs {@code delete} for {@code id} unless a lease that was open at any time since the GC with
     * this ticket began protects it; true when deleted. Leases that closed before the GC began are
     * ignored: their manifests were visible to its root listing.
     */
    public boolean deleteUnlessProtected(long ticket, ChunkId id, Runnable delete) {
        synchronized (lock) {
            for (Lease l : leases) {
                if (l.closedAt > ticket && l.chunks.contains(id)) {
                    return false;
                }
            }
            delete.run();
            return true;
        }
    }

    /** Drops leases that closed before the GC with this ticket began (their manifests were roots). */
    public void endGc(long ticket) {
        synchronized (lock) {
            leases.removeIf(l -> l.closedAt < ticket);
        }
    }

    /** Leases still registered (tests). */
    public int registered() {
        synchronized (lock) {
            return leases.size();
        }
    }
}

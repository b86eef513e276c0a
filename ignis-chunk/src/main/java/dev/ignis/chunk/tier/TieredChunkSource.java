package dev.ignis.chunk.tier;

import dev.ignis.chunk.ChunkId;
import dev.ignis.chunk.ChunkIntegrityException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The tiers stacked top (fastest) to bottom (origin). A read tries each tier in order; the first
 * hit is checked against the chunk's name (SHA-256 of the ciphertext) and copied into every tier
 * above it. A tier that returns bytes that do not match the name is treated as corrupt: the entry
 * is dropped there and the read falls through; if no tier has a good copy the read fails with
 * {@link ChunkIntegrityException} — nothing unauthenticated is served.
 *
 * <p>Concurrent readers of the same missing chunk share one fetch (single flight): the first
 * caller fetches, the others wait on its future. Metrics per tier: {@code ignis.chunk.tier.hits},
 * {@code .misses}, {@code .bytes} (counters) and {@code ignis.chunk.tier.latency} (timer with
 * percentile histogram), tagged {@code tier=<name>}.
 *
 * <p>Filling the tiers above a hit: tiers that are {@link ChunkSource#cheapToFill() cheap to fill}
 * (memory) are filled before the read returns; the others (a file on the local disk, a memcached
 * set) are filled by one background thread, so the reader gets its verified chunk without waiting
 * for a file to be created, written and renamed (1–2 ms per 512 KiB chunk on the ext4 test disk,
 * more than verifying and decrypting it). At most {@value #FILL_QUEUE} chunks wait for a
 * background fill; when that queue is full a fill is dropped ({@code ignis.chunk.tier.fills.dropped})
 * — the chunk is simply fetched from below again next time. A queued fill also waits until
 * fetching pauses (at most {@code FILL_DEFER_NANOS} after it was queued), so a restore's chunks get
 * the CPU first. {@link #close()} finishes queued fills.
 */
public final class TieredChunkSource implements ChunkSource {
    /** Chunks (so at most this many ciphertexts held) waiting for a background fill. */
    static final int FILL_QUEUE = 64;
    /** Longest a background fill waits for fetching to pause (see {@link #yieldToFetches}). */
    static final long FILL_DEFER_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    /** Fetching has paused when nothing was in flight for this long. */
    static final long FILL_QUIET_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final List<ChunkSource> tiers;
    private final List<TierMeters> meters = new ArrayList<>();
    private final ConcurrentHashMap<ChunkId, CompletableFuture<Optional<byte[]>>> inFlight = new ConcurrentHashMap<>();
    private final ThreadPoolExecutor fills = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(FILL_QUEUE), r -> Thread.ofPlatform().daemon().name("chunk-tier-fill").unstarted(r));
    private final Counter fillsDropped;
    private final Object fillLock = new Object();
    private int pendingFills;
    private volatile boolean closing;
    private volatile long lastFetchDone = System.nanoTime();

    private record TierMeters(Counter hits, Counter misses, Counter bytes, Timer latency) {
    }

    public TieredChunkSource(List<ChunkSource> tiersTopDown, MeterRegistry registry) {
        if (tiersTopDown.isEmpty()) {
            throw new IllegalArgumentException("at least one tier (the origin) is required");
        }
        this.tiers = List.copyOf(tiersTopDown);
        for (ChunkSource t : tiers) {
            meters.add(new TierMeters(
                    Counter.builder("ignis.chunk.tier.hits").tag("tier", t.name()).register(registry),
                    Counter.builder("ignis.chunk.tier.misses").tag("tier", t.name()).register(registry),
                    Counter.builder("ignis.chunk.tier.bytes").baseUnit("bytes").tag("tier", t.name()).register(registry),
                    Timer.builder("ignis.chunk.tier.latency").tag("tier", t.name()).publishPercentileHistogram()
                            .register(registry)));
        }
        this.fillsDropped = Counter.builder("ignis.chunk.tier.fills.dropped").register(registry);
    }

    public List<ChunkSource> tiers() {
        return tiers;
    }

    @Override
    public String name() {
        return "tiered";
    }

    @Override
    public Optional<byte[]> get(ChunkId id) {
        CompletableFuture<Optional<byte[]>> mine = new CompletableFuture<>();
        CompletableFuture<Optional<byte[]>> existing = inFlight.putIfAbsent(id, mine);
        if (existing != null) {
            try {
                return existing.join();
            } catch (CompletionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : e;
            }
        }
        try {
            Optional<byte[]> result = fetch(id);
            mine.complete(result);
            return result;
        } catch (RuntimeException e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            inFlight.remove(id, mine);
            lastFetchDone = System.nanoTime();
        }
    }

    private Optional<byte[]> fetch(ChunkId id) {
        boolean corruptSeen = false;
        for (int i = 0; i < tiers.size(); i++) {
            ChunkSource tier = tiers.get(i);
            TierMeters m = meters.get(i);
            long start = System.nanoTime();
            Optional<byte[]> got = tier.get(id);
            m.latency().record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
            if (got.isEmpty()) {
                m.misses().increment();
                continue;
            }
            byte[] data = got.get();
            if (!id.matches(data)) {
                corruptSeen = true;
                m.misses().increment();
                if (i < tiers.size() - 1) {
                    tier.delete(id); // a corrupt cache copy must not be served again
                }
                continue;
            }
            m.hits().increment();
            m.bytes().increment(data.length);
            List<ChunkSource> slow = new ArrayList<>();
            for (int j = 0; j < i; j++) {
                ChunkSource upper = tiers.get(j);
                if (upper.cheapToFill()) {
                    upper.put(id, data);
                } else {
                    slow.add(upper);
                }
            }
            if (!slow.isEmpty()) {
                fillInBackground(slow, id, data);
            }
            return Optional.of(data);
        }
        if (corruptSeen) {
            throw new ChunkIntegrityException("chunk " + id + " failed authentication: stored bytes do not hash to its "
                    + "name (altered, or swapped with another chunk) and no tier holds a good copy");
        }
        return Optional.empty();
    }

    private void fillInBackground(List<ChunkSource> slow, ChunkId id, byte[] verified) {
        synchronized (fillLock) {
            pendingFills++;
        }
        long deferUntil = System.nanoTime() + FILL_DEFER_NANOS;
        try {
            fills.execute(() -> {
                try {
                    yieldToFetches(deferUntil);
                    for (ChunkSource t : slow) {
                        t.put(id, verified);
                    }
                } finally {
                    fillDone();
                }
            });
        } catch (RejectedExecutionException full) {
            fillDone();
            fillsDropped.increment();
        }
    }

    /**
     * Holds a fill back while this source is busy fetching — a fetch in flight, or one finished
     * less than {@code FILL_QUIET_NANOS} ago — until {@code deadline}. A 512 KiB file write costs
     * more CPU than verifying and decrypting the chunk (1–2 ms on the ext4 test disk, up to 9 ms on
     * a loaded machine), and during a restore on a small worker that CPU belongs to the chunks the
     * sandbox is waiting for: a lazy restore asks for its next chunk a few milliseconds after the
     * last, so "nothing in flight right now" alone would let every fill land in the middle of the
     * next fault. The deadline is fixed when the fill is queued, so under steady traffic fills are
     * late, never starved.
     */
    private void yieldToFetches(long deadline) {
        while (!closing) {
            long now = System.nanoTime();
            // sleep until fetching could have paused, not in short polls: on a busy worker every
            // wake-up of this thread takes a turn on the CPU from the restore it is yielding to
            long quietAt = inFlight.isEmpty() ? lastFetchDone + FILL_QUIET_NANOS : now + FILL_QUIET_NANOS;
            long wakeAt = quietAt - deadline < 0 ? quietAt : deadline;
            if (wakeAt - now <= 0) {
                return;
            }
            LockSupport.parkNanos(wakeAt - now);
        }
    }

    private void fillDone() {
        synchronized (fillLock) {
            if (--pendingFills == 0) {
                fillLock.notifyAll();
            }
        }
    }

    /** Chunk fetches in flight right now (tests). */
    int inFlight() {
        return inFlight.size();
    }

    /** Waits until every background fill queued so far has been written (tests, benchmarks). */
    public void awaitFills() throws InterruptedException {
        synchronized (fillLock) {
            while (pendingFills > 0) {
                fillLock.wait();
            }
        }
    }

    /** Writes through every tier, bottom first, so a chunk is durable before any cache advertises it. */
    @Override
    public void put(ChunkId id, byte[] ciphertext) {
        for (int i = tiers.size() - 1; i >= 0; i--) {
            tiers.get(i).put(id, ciphertext);
        }
    }

    @Override
    public void delete(ChunkId id) {
        for (ChunkSource t : tiers) {
            t.delete(id);
        }
    }

    /** Finishes the queued background fills (bounded wait), then closes every tier. */
    @Override
    public void close() {
        closing = true;
        fills.shutdown();
        try {
            fills.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        tiers.forEach(ChunkSource::close);
    }
}

package dev.ignis.chunk;

import dev.ignis.chunk.gc.IngestLeases;
import dev.ignis.chunk.origin.Origin;
import dev.ignis.chunk.tier.ChunkSource;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;

/**
 * Mark and sweep from roots. Roots are the manifests; every chunk a manifest names is reachable.
 * A manifest that fails authentication aborts the collection (its chunks cannot be known, so none
 * may be deleted). Unreachable chunks are deleted unless a lease protects them or they are younger
 * than the grace period.
 */
final class GarbageCollector {
    private final Origin origin;
    private final ChunkSource tiers;
    private final IngestLeases leases;
    private final ManifestCodec codec;
    private final Duration grace;

    GarbageCollector(Origin origin, ChunkSource tiers, IngestLeases leases, ManifestCodec codec, Duration grace) {
        this.origin = origin;
        this.tiers = tiers;
        this.leases = leases;
        this.codec = codec;
        this.grace = grace;
    }

    GcReport run() {
        long ticket = leases.beginGc();
        try {
            Set<String> roots = new HashSet<>();
            Set<ChunkId> reachable = new HashSet<>();
            Set<String> logs = new HashSet<>();
            for (Origin.Entry e : origin.list("manifests/")) {
                String name = e.key().substring("manifests/".length());
                if (name.endsWith(".pal")) {
                    logs.add(name.substring(0, name.length() - 4));
                    continue;
                }
                ManifestId id = new ManifestId(name);
                byte[] encoded = origin.get(e.key()).orElse(null);
                if (encoded == null) {
                    continue; // deleted meanwhile: no longer a root
                }
                Manifest m = codec.decode(id, encoded);
                roots.add(name);
                for (ChunkRef r : m.chunks()) {
                    if (!r.isZero()) {
                        reachable.add(r.id());
                    }
                }
            }
            Instant cutoff = Instant.now().minus(grace);
            int deleted = 0;
            int kept = 0;
            for (Origin.Entry e : origin.list("chunks/")) {
                ChunkId id = new ChunkId(e.key().substring("chunks/".length()));
                if (reachable.contains(id)) {
                    continue;
                }
                if (e.lastModified().isAfter(cutoff)) {
                    kept++;
                } else if (leases.deleteUnlessProtected(ticket, id, () -> tiers.delete(id))) {
                    deleted++;
                } else {
                    kept++;
                }
            }
            int deletedLogs = 0;
            for (String log : logs) {
                if (!roots.contains(log)) {
                    origin.delete("manifests/" + log + ".pal");
                    deletedLogs++;
                }
            }
            return new GcReport(roots.size(), reachable.size(), deleted, kept, deletedLogs);
        } finally {
            leases.endGc(ticket);
        }
    }
}

package dev.ignis.chunk.fuse;

import dev.ignis.chunk.ChunkStore;
import dev.ignis.chunk.ManifestId;
import dev.ignis.chunk.PageAccessLog;
import dev.ignis.chunk.Stats;
import dev.ignis.chunk.crypto.DeploymentKeys;
import dev.ignis.chunk.origin.Origin;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Restore-trace replay through FUSE: prefetch vs lazy from cold caches, alternating rounds, medians. */
@Tag("benchmark")
class ReplayBenchmark {
    @TempDir
    Path tmp;

    @Test
    void traceReplayPrefetchVersusLazy() throws Exception {
        for (int delay : new int[] {5, 20}) {
            Path dir = Files.createDirectories(tmp.resolve("d" + delay));
            DeploymentKeys keys = DeploymentKeys.random();
            Origin origin = RestoreTraceReplayTest.slowOrigin(dir.resolve("origin"), delay);
            long size = 64L * RestoreTraceReplayTest.CHUNK;
            RestoreTrace trace = new RestoreTrace(size, RestoreTraceReplayTest.CHUNK, 24, 200, 7);
            ManifestId id;
            try (ChunkStore s = RestoreTraceReplayTest.coldWorker(dir, "ingest", origin, keys)) {
                id = RestoreTrace.ingestSnapshot(s, dir, size, 3);
            }
            // warm-up: C2 needs several hundred chunk decrypts before GCM/SHA-256 run at speed; a
            // cold JIT makes every first touch CPU-bound and hides what prefetch does. It reads a
            // separate object: a reader stores its page access log on close, and a sequential
            // warm-up log on the measured snapshot would replace the recorded restore trace.
            try (ChunkStore w = RestoreTraceReplayTest.coldWorker(dir, "warm-jit",
                    new dev.ignis.chunk.origin.LocalDirectoryOrigin(dir.resolve("origin")), keys)) {
                Path warmDir = Files.createDirectories(dir.resolve("warm-object"));
                ManifestId warmId = RestoreTrace.ingestSnapshot(w, warmDir, size, 4);
                for (int i = 0; i < 20; i++) {
                    try (var reader = w.open(warmId, false)) {
                        for (int c = 0; c < 64; c++) {
                            reader.read((long) c * RestoreTraceReplayTest.CHUNK, new byte[16], 0, 16);
                        }
                    }
                }
            }
            int rounds = 5;
            double[] lazy = new double[rounds];
            double[] pre = new double[rounds];
            double[] warm = new double[rounds];
            try (SparseFileMount mount = SparseFileMount.mount(Files.createDirectories(dir.resolve("mnt")), 0)) {
                try (ChunkStore w = RestoreTraceReplayTest.coldWorker(dir, "rec", origin, keys)) {
                    trace.replay(mount, "record", w.open(id, false), null, dir);
                }
                PageAccessLog log;
                try (ChunkStore w = RestoreTraceReplayTest.coldWorker(dir, "log", origin, keys)) {
                    log = w.accessLog(id).orElseThrow();
                }
                // prefetch must walk the recorded restore trace, not some other reader's log
                if (!log.chunkOrder().equals(List.copyOf(trace.chunks))) {
                    throw new AssertionError("page access log " + log.chunkOrder() + " is not the recorded trace " + trace.chunks);
                }
                for (int r = 0; r < rounds; r++) {
                    try (ChunkStore w = RestoreTraceReplayTest.coldWorker(dir, "l" + r, origin, keys)) {
                        lazy[r] = trace.replay(mount, "lazy" + r, w.open(id, false), null, dir).nanos() / 1e6;
                    }
                    try (ChunkStore w = RestoreTraceReplayTest.coldWorker(dir, "p" + r, origin, keys)) {
                        pre[r] = trace.replay(mount, "pre" + r, w.open(id, false), log, dir).nanos() / 1e6;
                    }
                    // all chunks already in the reader: the pure cost of the page faults through FUSE
                    try (ChunkStore w = RestoreTraceReplayTest.coldWorker(dir, "w" + r, origin, keys)) {
                        var reader = w.open(id, false);
                        reader.prefetch(log, 24);
                        reader.awaitPrefetch();
                        warm[r] = trace.replay(mount, "warm" + r, reader, null, dir).nanos() / 1e6;
                    }
                }
            }
            Stats.report(String.format("restore replay via FUSE (200 page faults over 24 of 64 chunks, origin +%d ms/GET, "
                            + "read-ahead 0): lazy median %.0f ms, prefetch median %.0f ms -> %.2fx; chunks-resident fault cost "
                            + "median %.0f ms", delay, Stats.median(lazy), Stats.median(pre),
                    Stats.median(lazy) / Stats.median(pre), Stats.median(warm)));
        }
    }
}

package dev.ignis.chunk.fuse;

import dev.ignis.chunk.ChunkStore;
import dev.ignis.chunk.ChunkedObjectReader;
import dev.ignis.chunk.ManifestId;
import dev.ignis.chunk.PageAccessLog;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** A restore trace (random page offsets in a working set) and its replay through the FUSE mount. */
final class RestoreTrace {
    final List<Long> offsets;
    final Set<Integer> chunks = new LinkedHashSet<>();

    RestoreTrace(long size, int chunkSize, int workingSetChunks, int pages, long seed) {
        Random rnd = new Random(seed);
        int total = (int) (size / chunkSize);
        List<Integer> all = new ArrayList<>();
        for (int i = 0; i < total; i++) {
            all.add(i);
        }
        Collections.shuffle(all, rnd);
        List<Integer> ws = all.subList(0, workingSetChunks);
        offsets = new ArrayList<>();
        for (int i = 0; i < pages; i++) {
            int c = ws.get(rnd.nextInt(ws.size()));
            long off = (long) c * chunkSize + (long) rnd.nextInt(chunkSize / 4096) * 4096;
            offsets.add(off);
            chunks.add(c);
        }
    }

    /** Result of one replay: time inside the mapping process, and chunks the reader fetched. */
    record Run(long nanos, int chunksTouched) {
    }

    /**
     * Exposes {@code reader} as a fresh file (cold page cache), maps it in a child process and
     * replays the trace; when {@code log} is given, prefetch starts at the same instant as the replay.
     */
    Run replay(SparseFileMount mount, String consumer, ChunkedObjectReader reader, PageAccessLog log, Path work)
            throws IOException, InterruptedException {
        Path file = mount.expose(consumer, reader);
        Path traceFile = work.resolve(consumer + ".trace");
        Files.write(traceFile, offsets.stream().map(String::valueOf).toList());
        String cp = Path.of(MmapReplay.class.getProtectionDomain().getCodeSource().getLocation().getPath()).toString();
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", cp, MmapReplay.class.getName(), file.toString(), traceFile.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
             Writer in = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8)) {
            String ready = out.readLine();
            if (!"READY".equals(ready)) {
                throw new IOException("replay process did not start: " + ready);
            }
            if (log != null) {
                reader.prefetch(log, 24);
            }
            in.write("GO\n");
            in.flush();
            String result = out.readLine();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0 || result == null) {
                throw new IOException("replay process failed: " + result);
            }
            int touched = reader.accessLog().chunkOrder().size();
            return new Run(Long.parseLong(result.split(" ")[0]), touched);
        } finally {
            p.destroyForcibly().waitFor();
            mount.remove(consumer);
        }
    }

    static ManifestId ingestSnapshot(ChunkStore store, Path dir, long size, long seed) throws IOException {
        byte[] data = new byte[(int) size];
        new Random(seed).nextBytes(data);
        Path f = Files.write(dir.resolve("snapshot.mem"), data);
        return store.ingest(f, dev.ignis.chunk.Layer.RUNTIME, dev.ignis.chunk.Owner.SHARED);
    }
}

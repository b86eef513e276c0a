package dev.ignis.dist;

import dev.ignis.chunk.ChunkStore;
import dev.ignis.chunk.Layer;
import dev.ignis.chunk.ManifestId;
import dev.ignis.chunk.Owner;
import dev.ignis.chunk.fuse.SparseFileMount;
import dev.ignis.common.Json;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `ignis chunks ...`: the chunk store of a data directory (embedded local-directory origin). */
@Command(name = "chunks", description = "Content-addressed encrypted chunks: ingest, stat, mount, gc.",
        subcommands = {ChunksCommand.Ingest.class, ChunksCommand.Stat.class, ChunksCommand.Mount.class, ChunksCommand.Gc.class})
final class ChunksCommand {
    static ChunkStore open(DataDirOption dataDir) throws Exception {
        Path root = dataDir.get().resolve("chunks");
        Platform.createPrivateDir(dataDir.get());
        return ChunkStore.embedded(root);
    }

    static void print(Object o) throws Exception {
        System.out.println(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(o));
    }

    @Command(name = "ingest", description = "Cut a file into chunks, encrypt and store them; prints the manifest id.")
    static final class Ingest implements Callable<Integer> {
        @Mixin DataDirOption dataDir;
        @Parameters(paramLabel = "FILE") Path file;
        @Option(names = "--layer", required = true, description = "os, runtime (convergent, shared) or function (per-function key)") String layer;
        @Option(names = "--function", description = "Owning function ARN (required for --layer function)") String function;

        public Integer call() throws Exception {
            Layer l = Layer.parse(layer);
            if (!l.convergent() && function == null) {
                System.err.println("ignis: --function ARN is required for a function layer");
                return 2;
            }
            try (var store = open(dataDir)) {
                print(store.ingestWithReport(file, l, l.convergent() ? Owner.SHARED : Owner.ofArn(function)));
            }
            return 0;
        }
    }

    @Command(name = "stat", description = "What a manifest holds and how much of it is shared.")
    static final class Stat implements Callable<Integer> {
        @Mixin DataDirOption dataDir;
        @Parameters(paramLabel = "MANIFEST") String manifest;

        public Integer call() throws Exception {
            try (var store = open(dataDir)) {
                print(store.stat(new ManifestId(manifest)));
            }
            return 0;
        }
    }

    @Command(name = "mount", description = "Expose a manifest as a sparse file served on demand (FUSE) until interrupted.")
    static final class Mount implements Callable<Integer> {
        @Mixin DataDirOption dataDir;
        @Parameters(index = "0", paramLabel = "MANIFEST") String manifest;
        @Parameters(index = "1", paramLabel = "PATH") Path mountPoint;

        public Integer call() throws Exception {
            try (var store = open(dataDir)) {
                SparseFileMount mount = SparseFileMount.mount(mountPoint, 0);
                Path file = mount.expose("cli", store.open(new ManifestId(manifest), true));
                System.out.println("serving " + file + " (Ctrl-C to unmount)");
                CountDownLatch stop = new CountDownLatch(1);
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        mount.close();
                    } catch (Exception e) {
                        System.err.println("ignis: unmount failed: " + e.getMessage());
                    }
                    stop.countDown();
                }));
                stop.await();
            }
            return 0;
        }
    }

    @Command(name = "gc", description = "Delete chunks no manifest reaches.")
    static final class Gc implements Callable<Integer> {
        @Mixin DataDirOption dataDir;

        public Integer call() throws Exception {
            try (var store = open(dataDir)) {
                print(store.gc());
            }
            return 0;
        }
    }
}

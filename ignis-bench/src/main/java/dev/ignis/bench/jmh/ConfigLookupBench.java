package dev.ignis.bench.jmh;

import dev.ignis.config.CodeStore;
import dev.ignis.config.ConfigStore;
import dev.ignis.config.FunctionConfig;
import dev.ignis.config.FunctionKey;
import dev.ignis.config.FunctionRequests;
import dev.ignis.config.SecretSealer;
import dev.ignis.journal.Journal;
import dev.ignis.journal.JournalStateMachine;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The frontend's config lookups per invoke, on an image of 200 functions: the caller's key and
 * secret (what SigV4 needs), and the function version to run.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ConfigLookupBench {
    ConfigStore config;
    String accessKeyId;
    FunctionKey key;

    @Setup
    public void setup() throws IOException {
        Path dir = Files.createTempDirectory("ignis-jmh-config-");
        config = new ConfigStore(MemoryJournal::new, new CodeStore(dir), SecretSealer.open(dir), Set.of("python3.11"), Clock.systemUTC());
        var issued = config.createAccount("bench");
        accessKeyId = issued.accessKeyId();
        byte[] zip = zip();
        for (int i = 0; i < 200; i++) {
            config.createFunction(issued.accountId(), new FunctionRequests.Create("fn" + i, "python3.11", "arn:aws:iam::123456789012:role/bench",
                    "app.handler", "", 60, 1769, null, Map.of(), zip, false, null, "Zip"));
        }
        key = new FunctionKey(issued.accountId(), "fn117");
    }

    @TearDown
    public void tearDown() {
        config.close();
    }

    private static byte[] zip() throws IOException {
        var out = new ByteArrayOutputStream();
        try (var z = new ZipOutputStream(out)) {
            z.putNextEntry(new ZipEntry("app.py"));
            z.write("def handler(e, c):\n    return None\n".getBytes());
        }
        return out.toByteArray();
    }

    @Benchmark
    public String keyAndSecret() {
        return config.secret(config.image().key(accessKeyId).orElseThrow()).orElseThrow();
    }

    @Benchmark
    public FunctionConfig functionVersion() {
        return config.function(key).resolve(null);
    }

    /** Applies each record at once; no durability (a benchmark measures the reads). */
    static final class MemoryJournal implements Journal {
        private final JournalStateMachine sm;
        private long index;

        MemoryJournal(JournalStateMachine sm) {
            this.sm = sm;
        }

        @Override
        public synchronized CompletableFuture<Long> append(byte[] record) {
            sm.apply(++index, record);
            return CompletableFuture.completedFuture(index);
        }

        @Override
        public boolean isLeader() {
            return true;
        }

        @Override
        public long snapshot() {
            return index;
        }

        @Override
        public void close() {
        }
    }
}

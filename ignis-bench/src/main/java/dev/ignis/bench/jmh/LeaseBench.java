package dev.ignis.bench.jmh;

import dev.ignis.assignment.InMemoryAssignment;
import dev.ignis.assignment.Lease;
import dev.ignis.assignment.SandboxKey;
import dev.ignis.worker.InvokeOutcome;
import dev.ignis.worker.InvokeRequest;
import dev.ignis.worker.SandboxHandle;
import dev.ignis.worker.SandboxSpec;
import dev.ignis.worker.Worker;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Warm lease acquire + release on the in-memory sandbox table, alone and with four threads
 * contending on one function (the table's lock), against a worker that creates sandboxes instantly.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class LeaseBench {
    InMemoryAssignment assignment;
    final SandboxKey key = new SandboxKey("123456789012", "noop", "$LATEST", "rev1");
    final SandboxSpec spec = new SandboxSpec("123456789012", "us-east-1", "noop", "arn:aws:lambda:us-east-1:123456789012:function:noop",
            "$LATEST", "rev1", "python3.11", "h.handler", 1769, 60, 512, Map.of(), java.nio.file.Path.of("/tmp"));

    @Setup
    public void setup() {
        assignment = new InMemoryAssignment(s -> new InstantWorker(), Clock.systemUTC(), Duration.ofMinutes(10));
    }

    @TearDown
    public void tearDown() {
        assignment.close();
    }

    @Benchmark
    public Lease acquireRelease() {
        Lease l = assignment.acquire(key, () -> spec);
        assignment.release(l, true);
        return l;
    }

    @Benchmark
    @Threads(4)
    public Lease acquireReleaseFourThreads() {
        Lease l = assignment.acquire(key, () -> spec);
        assignment.release(l, true);
        return l;
    }

    /** A worker whose sandboxes exist as soon as they are asked for. */
    static final class InstantWorker implements Worker {
        private final AtomicLong ids = new AtomicLong();

        @Override
        public String workerId() {
            return "bench";
        }

        @Override
        public SandboxHandle createSandbox(SandboxSpec s) {
            return new SandboxHandle("sb-" + ids.incrementAndGet(), "bench", s, Duration.ZERO);
        }

        @Override
        public InvokeOutcome invoke(String sandboxId, InvokeRequest request) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void retire(String sandboxId) {
        }

        @Override
        public Collection<SandboxHandle> sandboxes() {
            return List.of();
        }

        @Override
        public void close() {
        }
    }
}

package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.FunctionCode;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * Warm invoke latency with the sandbox table in memory vs on the journal (one-peer Ratis, every lease
 * and release an fdatasync'ed commit), two single-node platforms side by side in one run, invoked in
 * alternating batches by the same kind of client. Run:
 * {@code ./mvnw -q -B verify -pl ignis-dist -am -Ddist.excludedGroups=none -Dtest=AssignmentModeBenchmark -Dit.test=none
 * -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false}
 */
@Tag("benchmark")
class AssignmentModeBenchmark {
    static final int BATCHES = 10;
    static final int PER_BATCH = 60;

    @TempDir
    Path dir;

    @Test
    void warmInvokeJournalVersusInMemory() throws Exception {
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        Path memData = dir.resolve("memory");
        Path jourData = dir.resolve("journal");
        try (Platform memory = Platform.start(config(memData, false));
             Platform journal = Platform.start(config(jourData, true));
             LambdaClient m = client(memory); LambdaClient j = client(journal)) {
            create(m);
            create(j);
            List<Double> mem = new ArrayList<>();
            List<Double> jour = new ArrayList<>();
            for (int i = 0; i < 50; i++) { // warm-up: JIT, sandboxes
                invoke(m);
                invoke(j);
            }
            for (int b = 0; b < BATCHES; b++) {
                for (int i = 0; i < PER_BATCH; i++) {
                    mem.add(invoke(m));
                }
                for (int i = 0; i < PER_BATCH; i++) {
                    jour.add(invoke(j));
                }
            }
            Collections.sort(mem);
            Collections.sort(jour);
            double mp50 = pct(mem, 50);
            double jp50 = pct(jour, 50);
            System.out.printf("ASSIGNMENT-MODE warm invoke, 1 client, %d each: in-memory p50 %.2f ms p99 %.2f ms; "
                            + "journal p50 %.2f ms p99 %.2f ms; journal - memory p50 %+.2f ms (x%.2f)%n",
                    mem.size(), mp50, pct(mem, 99), jp50, pct(jour, 99), jp50 - mp50, jp50 / mp50);
            assertThat(journal.assignment().stats().coldStarts()).isEqualTo(1);
            assertThat(memory.assignment().stats().coldStarts()).isEqualTo(1);
        }
    }

    private static PlatformConfig config(Path data, boolean journal) {
        return new PlatformConfig(data, "127.0.0.1", 0, Duration.ofMinutes(5), PlatformConfig.workerIdFor(data),
                TestPlatform.RUNTIME_HOME).withJournalAssignment(journal);
    }

    private static LambdaClient client(Platform p) {
        var key = p.config().createAccount("bench");
        return TestPlatform.client(p.port(), key.accessKeyId(), key.secretAccessKey());
    }

    private static void create(LambdaClient c) {
        c.createFunction(b -> b.functionName("noop").runtime(Runtime.PYTHON3_11).handler("app.handler").role(TestPlatform.ROLE)
                .code(FunctionCode.builder().zipFile(SdkBytes.fromByteArray(Zips.python("def handler(e, c):\n    return 1\n"))).build()));
    }

    private static double invoke(LambdaClient c) {
        long t0 = System.nanoTime();
        var r = c.invoke(b -> b.functionName("noop"));
        if (r.statusCode() != 200 || r.functionError() != null) {
            throw new AssertionError("invoke failed: " + r);
        }
        return (System.nanoTime() - t0) / 1e6;
    }

    private static double pct(List<Double> sorted, int p) {
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }
}

package dev.ignis.journal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 right after acknowledgements: every record whose append completed must survive, at the
 * index it was acknowledged with. Exercises the fsync-before-commit path of the segmented Raft log.
 */
class CrashRecoveryTest {

    @TempDir Path dir;

    @Test
    void everyAcknowledgedRecordSurvivesSigkill() throws Exception {
        final Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        final Process child = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                "--enable-native-access=ALL-UNNAMED", CrashChild.class.getName(), dir.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        final Map<String, Long> acked = new LinkedHashMap<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("FAIL")) {
                    throw new AssertionError("child append failed: " + line);
                }
                if (line.startsWith("ACK ")) {
                    final String[] parts = line.split(" ");
                    acked.put("crash-" + parts[1], Long.parseLong(parts[2]));
                    // Kill at a count that is not a multiple of the in-flight window, with appends pending.
                    if (acked.size() == 517) {
                        child.destroyForcibly(); // SIGKILL on Linux
                        break;
                    }
                }
            }
        } finally {
            child.destroyForcibly();
            assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(acked).as("the child got far enough to be killed mid-stream").hasSize(517);

        final RecordingStateMachine sm = new RecordingStateMachine();
        try (RatisJournal ignored = RatisJournal.single("crash", dir, sm)) {
            final Map<String, Long> recovered = new LinkedHashMap<>();
            sm.entries().forEach(e -> recovered.put(e.record(), e.index()));
            assertThat(recovered).containsAllEntriesOf(acked);
            // Unacknowledged appends may or may not have made it, but never out of order or twice.
            assertThat(sm.records()).doesNotHaveDuplicates();
            System.out.printf("crash test: %d acknowledged, %d recovered%n", acked.size(), recovered.size());
        }
    }
}

package dev.ignis.worker.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Blocks of sandbox uids: never shared by two live holders (of this JVM or another process), free again once their holder is gone. */
class UidRangesTest {
    @TempDir
    Path dir;

    @Test
    void twoWorkersOfOneJvmGetDisjointBlocksAndASecondClaimOfAHeldBlockIsRefused() {
        Path file = dir.resolve("uid-ranges");
        try (UidRanges.Claim a = UidRanges.claim(file, 300_000, 1000, 10);
             UidRanges.Claim b = UidRanges.claim(file, 300_000, 1000, 10)) {
            assertThat(a.range()).isEqualTo(new UidRanges.Range(300_000, 1000));
            assertThat(b.range()).isEqualTo(new UidRanges.Range(301_000, 1000));
            // the same block, and a block of another size that overlaps it, are refused while held
            assertThatThrownBy(() -> UidRanges.claim(file, 300_000, 1000, 1)).hasMessageContaining("no free block");
            assertThatThrownBy(() -> UidRanges.claim(file, 300_500, 100, 1)).hasMessageContaining("no free block");
            a.close();
            try (UidRanges.Claim again = UidRanges.claim(file, 300_000, 1000, 10)) {
                assertThat(again.range().first()).isEqualTo(300_000); // released, so claimable again
            }
        }
    }

    @Test
    void aBlockHeldByAnotherProcessIsSkippedAndFreedWhenThatProcessDies() throws Exception {
        Path file = dir.resolve("uid-ranges");
        // another checkout's worker: an fcntl lock on bytes 300000..300999 of the same file
        Process other = new ProcessBuilder("/usr/bin/python3", "-c", """
                import fcntl, os, sys, time
                f = open(sys.argv[1], "a"); fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 1000, 300000, os.SEEK_SET)
                print("locked", flush=True); time.sleep(600)
                """, file.toString()).redirectErrorStream(true).start();
        try {
            String line = new BufferedReader(new InputStreamReader(other.getInputStream(), StandardCharsets.UTF_8)).readLine();
            assertThat(line).isEqualTo("locked");
            try (UidRanges.Claim mine = UidRanges.claim(file, 300_000, 1000, 10)) {
                assertThat(mine.range().first()).isEqualTo(301_000);
            }
            assertThatThrownBy(() -> UidRanges.claim(file, 300_000, 1000, 1)).hasMessageContaining("no free block");
        } finally {
            other.destroyForcibly().waitFor();
        }
        try (UidRanges.Claim mine = UidRanges.claim(file, 300_000, 1000, 1)) {
            assertThat(mine.range().first()).isEqualTo(300_000); // the dead holder's block
        }
    }
}

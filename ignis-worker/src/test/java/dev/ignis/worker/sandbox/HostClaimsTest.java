package dev.ignis.worker.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Claims held by live processes survive a sweep; claims of dead processes (SIGKILL) are swept once. */
class HostClaimsTest {
    @TempDir
    Path dir;

    /** Another process that takes the same kind of lock (fcntl) on {@code dir/<owner>.lock} and keeps it. */
    private Process holder(String owner) throws Exception {
        Process p = new ProcessBuilder("/usr/bin/python3", "-c", """
                import fcntl, sys, time
                f = open(sys.argv[1], "w"); fcntl.lockf(f, fcntl.LOCK_EX); print("locked", flush=True); time.sleep(600)
                """, dir.resolve(owner + ".lock").toString()).redirectErrorStream(true).start();
        String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
        assertThat(line).isEqualTo("locked");
        return p;
    }

    /** Whether another process could take the lock on {@code owner}'s claim right now. */
    private boolean lockableByAnotherProcess(String owner) throws Exception {
        Process p = new ProcessBuilder("/usr/bin/python3", "-c", """
                import fcntl, sys
                f = open(sys.argv[1], "a")
                try:
                    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    sys.exit(3)
                """, dir.resolve(owner + ".lock").toString()).redirectErrorStream(true).start();
        return p.waitFor() == 0;
    }

    @Test
    void sweepsOnlyTheClaimsOfDeadProcesses() throws Exception {
        Process dead = holder("wdead");
        Process alive = holder("walive");
        try (HostClaims mine = HostClaims.claim(dir, "wmine")) {
            dead.destroyForcibly().waitFor();
            List<String> cleaned = new ArrayList<>();
            assertThat(HostClaims.sweepAbandoned(dir, cleaned::add)).containsExactly("wdead");
            assertThat(cleaned).containsExactly("wdead");
            assertThat(dir.resolve("wdead.lock")).doesNotExist();
            assertThat(dir.resolve("walive.lock")).exists();
            assertThat(dir.resolve("wmine.lock")).exists();

            assertThat(HostClaims.sweepAbandoned(dir, cleaned::add)).isEmpty(); // once only
            assertThat(lockableByAnotherProcess("wmine")).as("a sweep in the owner's JVM keeps the owner's lock").isFalse();
        } finally {
            alive.destroyForcibly().waitFor();
        }
        assertThat(dir.resolve("wmine.lock")).doesNotExist(); // released by its owner
        assertThat(HostClaims.sweepAbandoned(dir, o -> {})).containsExactly("walive"); // its holder died meanwhile
    }

    @Test
    void anIdHeldByALiveProcessCannotBeClaimed() throws Exception {
        Process alive = holder("wtaken");
        try {
            assertThatThrownBy(() -> HostClaims.claim(dir, "wtaken"))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("in use by another running process");
            try (HostClaims mine = HostClaims.claim(dir, "wfree")) {
                assertThatThrownBy(() -> HostClaims.claim(dir, "wfree")).isInstanceOf(IllegalStateException.class);
            }
        } finally {
            alive.destroyForcibly().waitFor();
        }
        try (HostClaims again = HostClaims.claim(dir, "wtaken")) { // its holder is gone: a restart takes it over
            assertThat(Files.exists(dir.resolve("wtaken.lock"))).isTrue();
        }
    }

    @Test
    void refusesNamesThatAreNotIds() {
        assertThatThrownBy(() -> HostClaims.claim(dir, "../etc")).isInstanceOf(IllegalArgumentException.class);
    }
}

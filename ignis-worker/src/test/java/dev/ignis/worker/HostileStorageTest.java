package dev.ignis.worker;

import static dev.ignis.worker.TestSandboxes.text;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A function that stores what it can in memory-backed filesystems other than /tmp: /dev and /dev/shm
 * hold nothing (read-only; Lambda has no /dev/shm), /tmp holds exactly the EphemeralStorage cap.
 */
class HostileStorageTest {
    static final String FILL = """
            import errno, os
            def fill(path, mb):
                n = 0
                try:
                    with open(path, "wb") as f:
                        for i in range(mb):
                            f.write(b"x" * 1048576); f.flush(); n += 1
                    return "wrote %d MB" % n
                except OSError as e:
                    return "%s after %d MB" % (errno.errorcode.get(e.errno, str(e.errno)), n)
                finally:
                    try:
                        os.remove(path)
                    except OSError:
                        pass
            def handler(event):
                return {"shm": fill("/dev/shm/fill", event["mb"]), "dev": fill("/dev/fill", 1),
                        "tmp": fill("/tmp/fill", event["mb"]), "null": fill("/dev/null", 2)}
            """;

    static TestSandboxes t;
    static SandboxHandle h;

    @BeforeAll
    static void start() {
        t = new TestSandboxes();
        h = t.python(FILL, 256, 20, 16); // EphemeralStorage 16 MB
    }

    @AfterAll
    static void stop() {
        t.worker.retire(h.sandboxId());
        t.close();
    }

    @Test
    void devShmAndDevHoldNothingAndTmpExactlyTheEphemeralStorageCap() {
        InvokeOutcome o = t.invoke(h, "{\"mb\":64}");
        assertThat(o.status()).as(text(o)).isEqualTo(InvokeOutcome.Status.SUCCESS);
        String out = text(o);
        assertThat(out).contains("\"shm\": \"EROFS after 0 MB\"", "\"tmp\": \"ENOSPC after 16 MB\"",
                "\"dev\": \"EROFS after 0 MB\"", "\"null\": \"wrote 2 MB\"");
    }
}

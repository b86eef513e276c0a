package dev.ignis.worker;

import static dev.ignis.worker.TestSandboxes.text;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ignis.common.Json;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Snapshots of microVMs through the worker (docs/snapshots.md): the function's first sandbox boots, inits and is
 * snapshotted at its first /next (and serves its invoke); every later one is restored. Tagged {@code microvm}; run
 * with {@code -Pmicrovm}. The cold start happens once, in {@link #coldStartTakesTheSnapshot}'s setup.
 */
@Tag("microvm")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MicroVmSnapshotTest {
    static final String FUNCTION = """
            import os, random, uuid
            INIT_RANDOM = os.urandom(8).hex()      # computed during init: in the snapshot, so the same in every clone
            INIT_PRNG = random.Random()            # seeded during init: every clone draws the same numbers
            def handler(event):
                if event == "touch":
                    junk = bytearray(os.urandom(1 << 20)) * 40   # 40 MB of writes into guest RAM
                    return len(junk)
                with open("/dev/urandom", "rb") as f:
                    dev = f.read(16).hex()
                return {"init": INIT_RANDOM, "dev": dev, "os": os.urandom(16).hex(), "uuid": str(uuid.uuid4()),
                        "prng": INIT_PRNG.random()}
            """;
    MicroVmSandboxes t;
    SandboxSpec spec;
    String key;
    JsonNode original;
    String originalTail;

    @BeforeAll
    void coldStartTakesTheSnapshot() {
        t = new MicroVmSandboxes(true);
        spec = t.pythonSpec(FUNCTION, 128, 30);
        key = t.worker.snapshotKey(spec);
        SandboxHandle h = t.worker.createSandbox(spec);
        InvokeOutcome o = t.invoke(h, "{}");
        assertThat(o.status()).as(text(o)).isEqualTo(InvokeOutcome.Status.SUCCESS);
        original = parse(o);
        originalTail = TestSandboxes.tail(o);
        t.worker.retire(h.sandboxId());
    }

    @AfterAll
    void stop() {
        if (t != null) {
            t.close();
        }
    }

    @Test
    void theFirstColdStartIsSnapshottedAndServesItsInvoke() {
        assertThat(t.driver.snapshotFiles(key)).as("snapshot taken at the first /next").isPresent();
        assertThat(originalTail).contains("\tInit Duration: ").doesNotContain("Restore Duration");
        assertThat(original.path("init").asText()).hasSize(16);
    }

    @Test
    void restoredClonesAnswerAndDrawDifferentRandomness() {
        SandboxHandle a = t.worker.createSandbox(spec);
        SandboxHandle b = t.worker.createSandbox(spec);
        try {
            InvokeOutcome oa = t.invoke(a, "{}");
            InvokeOutcome ob = t.invoke(b, "{}");
            assertThat(oa.status()).as(text(oa)).isEqualTo(InvokeOutcome.Status.SUCCESS);
            assertThat(ob.status()).as(text(ob)).isEqualTo(InvokeOutcome.Status.SUCCESS);
            // Lambda SnapStart's REPORT: a restore, not an init
            assertThat(TestSandboxes.tail(oa)).containsPattern("\tRestore Duration: \\d+\\.\\d\\d ms\tBilled Restore Duration: \\d+ ms")
                    .doesNotContain("Init Duration");
            JsonNode ra = parse(oa);
            JsonNode rb = parse(ob);
            System.out.printf("original %s%nclone a  %s%nclone b  %s%n", original, ra, rb);
            // what init computed is in the snapshot: the same in the original and in every clone (docs/snapshots.md)
            assertThat(ra.path("init").asText()).isEqualTo(original.path("init").asText()).isEqualTo(rb.path("init").asText());
            assertThat(ra.path("prng").asDouble()).isEqualTo(rb.path("prng").asDouble());
            // drawn after the restore: the agent reseeded each clone's CRNG with fresh host entropy
            for (String f : List.of("dev", "os", "uuid")) {
                assertThat(ra.path(f).asText()).as(f).isNotEqualTo(rb.path(f).asText()).isNotEqualTo(original.path(f).asText());
            }
            // a restored sandbox keeps serving
            InvokeOutcome again = t.invoke(a, "{}");
            assertThat(again.status()).isEqualTo(InvokeOutcome.Status.SUCCESS);
            assertThat(TestSandboxes.tail(again)).doesNotContain("Restore Duration");
        } finally {
            t.worker.retire(a.sandboxId());
            t.worker.retire(b.sandboxId());
        }
    }

    @Test
    void aRestoredVmsWritesDoNotReachTheSnapshot() throws Exception {
        List<Path> files = t.driver.snapshotFiles(key).orElseThrow();
        String before = sha256(files.get(1));
        SandboxHandle h = t.worker.createSandbox(spec);
        try {
            InvokeOutcome o = t.invoke(h, "\"touch\"");
            assertThat(o.status()).as(text(o)).isEqualTo(InvokeOutcome.Status.SUCCESS);
            assertThat(text(o)).isEqualTo(Integer.toString(40 << 20));
        } finally {
            t.worker.retire(h.sandboxId());
        }
        assertThat(sha256(files.get(1))).as("the snapshot's RAM file after a restored VM wrote 40 MB").isEqualTo(before);
    }

    /** Last: it replaces the snapshot (the others compare against the values of the first one). */
    @Test
    @Order(Integer.MAX_VALUE)
    void aSnapshotThatCannotBeRestoredFallsBackToABootAndIsTakenAgain() throws Exception {
        Path state = t.driver.snapshotFiles(key).orElseThrow().get(0);
        byte[] b = Files.readAllBytes(state);
        Files.write(state, java.util.Arrays.copyOf(b, b.length / 2)); // a device-state stream cut in half
        SandboxHandle h = t.worker.createSandbox(spec);
        try {
            InvokeOutcome o = t.invoke(h, "{}");
            assertThat(o.status()).as(text(o)).isEqualTo(InvokeOutcome.Status.SUCCESS);
            // booted, not restored: the worker logged why and dropped the snapshot; this boot took a new one
            assertThat(TestSandboxes.tail(o)).contains("\tInit Duration: ").doesNotContain("Restore Duration");
            assertThat(parse(o).path("init").asText()).isNotEqualTo(original.path("init").asText());
        } finally {
            t.worker.retire(h.sandboxId());
        }
        List<Path> again = t.driver.snapshotFiles(key).orElseThrow();
        assertThat(Files.size(again.get(0))).isEqualTo(b.length);
    }

    static JsonNode parse(InvokeOutcome o) {
        try {
            return Json.mapper().readTree(o.payload());
        } catch (java.io.IOException e) {
            throw new AssertionError(text(o), e);
        }
    }

    static String sha256(Path f) throws Exception {
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(f)) {
            byte[] b = new byte[1 << 20];
            for (int n; (n = in.read(b)) > 0; ) {
                d.update(b, 0, n);
            }
        }
        return HexFormat.of().formatHex(d.digest());
    }
}

package dev.ignis.worker;

import static dev.ignis.worker.TestSandboxes.text;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Boot + init vs restore of the same python function in the same driver and run (SPECIFICATION.md, "Snapshots"):
 * the cold start's Init Duration (kernel boot, agent, python's start and the function's import, to the first /next)
 * plus its first invoke, against a restore's wall time from {@code createSandbox} to the first response. Prints the
 * figures; asserts only that restores answer and are faster than the boot. Tagged {@code microvm}.
 */
@Tag("microvm")
class MicroVmSnapshotMeasurementTest {
    static final String FUNCTION = """
            import json, decimal, email.parser, http.client, urllib.parse, xml.dom.minidom, uuid
            TABLE = {i: str(decimal.Decimal(i) / 7) for i in range(20000)}   # init work: modules and data
            def handler(event):
                return {"n": len(TABLE), "id": str(uuid.uuid4())}
            """;
    static final int RESTORES = 5;

    @Test
    void bootAndInitVersusRestoreToFirstResponse() {
        try (MicroVmSandboxes t = new MicroVmSandboxes(true)) {
            SandboxSpec spec = t.pythonSpec(FUNCTION, 128, 30);
            long c0 = System.nanoTime();
            SandboxHandle cold = t.worker.createSandbox(spec);
            long created = System.nanoTime();
            InvokeOutcome first = t.invoke(cold, "{}");
            long c1 = System.nanoTime();
            assertThat(first.status()).as(text(first)).isEqualTo(InvokeOutcome.Status.SUCCESS);
            double initMs = cold.initDuration().toNanos() / 1e6;
            double coldInvokeMs = (c1 - created) / 1e6;
            double snapshotMs = (created - c0) / 1e6 - initMs; // the pause after init: device state + RAM copy
            t.worker.retire(cold.sandboxId());

            List<Double> wall = new ArrayList<>();
            List<Double> restoreMs = new ArrayList<>();
            for (int i = 0; i < RESTORES; i++) {
                long r0 = System.nanoTime();
                SandboxHandle h = t.worker.createSandbox(spec);
                InvokeOutcome o = t.invoke(h, "{}");
                long r1 = System.nanoTime();
                assertThat(o.status()).as(text(o)).isEqualTo(InvokeOutcome.Status.SUCCESS);
                Matcher m = Pattern.compile("Restore Duration: (\\d+\\.\\d+) ms").matcher(TestSandboxes.tail(o));
                assertThat(m.find()).as("restored: " + TestSandboxes.tail(o)).isTrue();
                restoreMs.add(Double.parseDouble(m.group(1)));
                wall.add((r1 - r0) / 1e6);
                t.worker.retire(h.sandboxId());
            }
            double coldToFirst = initMs + coldInvokeMs;
            double restoreToFirst = median(wall);
            System.out.printf("microvm snapshots (%s): boot+init %.0f ms + first invoke %.0f ms = %.0f ms to first response; "
                            + "snapshot pause %.0f ms; restore to first response median %.0f ms (of %s), Restore Duration median %.0f ms; "
                            + "ratio %.1fx%n", t.driver.accel().name(), initMs, coldInvokeMs, coldToFirst, snapshotMs,
                    restoreToFirst, wall.stream().map(d -> Long.toString(Math.round(d))).toList(), median(restoreMs),
                    coldToFirst / restoreToFirst);
            assertThat(restoreToFirst).isLessThan(coldToFirst);
        }
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        return s.get(s.size() / 2);
    }
}

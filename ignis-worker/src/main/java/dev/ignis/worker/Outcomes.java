package dev.ignis.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ignis.common.Json;
import dev.ignis.worker.runtimeapi.RuntimeEvent;
import java.io.IOException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.ThreadLocalRandom;

/** Builds invoke outcomes: AWS-shaped error bodies, the END/REPORT lines, the log tail. */
final class Outcomes {
    private static final long MB = 1024L * 1024L;
    private final InstantSource clock;

    Outcomes(InstantSource clock) {
        this.clock = clock;
    }

    /** Ends the log frame and assembles the outcome. */
    InvokeOutcome finish(LiveSandbox sb, dev.ignis.worker.InvokeRequest req, long startNanos, InvokeOutcome.Status status,
                         byte[] payload, boolean reusable) {
        return finish(sb, req, startNanos, status, payload, reusable, false);
    }

    /**
     * {@code outOfMemory}: the memory limit killed the runtime, so it used all of MemorySize, and REPORT says so as
     * Lambda's does ({@code Max Memory Used} = {@code Memory Size}) whatever a lagging peak read says (the microVM's
     * peak comes from the guest's last report, which can be a few MB short of the kill).
     */
    InvokeOutcome finish(LiveSandbox sb, dev.ignis.worker.InvokeRequest req, long startNanos, InvokeOutcome.Status status,
                         byte[] payload, boolean reusable, boolean outOfMemory) {
        long nanos = System.nanoTime() - startNanos;
        if (status == InvokeOutcome.Status.TIMEOUT) {
            nanos = Math.max(nanos, sb.spec.timeoutSeconds() * 1_000_000_000L);
        }
        double ms = nanos / 1e6;
        long billed = Math.max(1, (long) Math.ceil(ms));
        long maxUsedMb = outOfMemory ? sb.spec.memoryMb() : (sb.started.stats().peakMemoryBytes() + MB - 1) / MB;
        // formatted by hand: String.format was a tenth of the worker's CPU per invoke
        StringBuilder report = new StringBuilder(200).append("REPORT RequestId: ").append(req.requestId()).append("\tDuration: ");
        millis(report, ms).append(" ms\tBilled Duration: ").append(billed).append(" ms\tMemory Size: ").append(sb.spec.memoryMb())
                .append(" MB\tMax Memory Used: ").append(Math.min(maxUsedMb, sb.spec.memoryMb())).append(" MB");
        Duration init = null;
        if (sb.firstInvoke) {
            sb.firstInvoke = false;
            init = sb.handle.initDuration();
            if (sb.restored) {
                // Lambda SnapStart's REPORT: the restore, not an init, was this cold start's cost
                double restoreMs = init.toNanos() / 1e6;
                millis(report.append("\tRestore Duration: "), restoreMs).append(" ms\tBilled Restore Duration: ")
                        .append(Math.max(1, (long) Math.ceil(restoreMs))).append(" ms");
            } else {
                millis(report.append("\tInit Duration: "), init.toNanos() / 1e6).append(" ms");
            }
        }
        String tail = sb.log.end(req.requestId(), report.toString(), req.tailLog());
        return new InvokeOutcome(status, payload, tail, reusable && !sb.dead(), Duration.ofNanos(nanos), init);
    }

    /** Appends {@code ms} with two decimals, as {@code %.2f} would. */
    static StringBuilder millis(StringBuilder sb, double ms) {
        long hundredths = Math.round(ms * 100);
        long frac = hundredths % 100;
        return sb.append(hundredths / 100).append('.').append(frac < 10 ? "0" : "").append(frac);
    }

    /** {"errorMessage": message, "errorType": type}. */
    static byte[] error(String message, String type) {
        ObjectNode n = Json.mapper().createObjectNode();
        n.put("errorMessage", message);
        n.put("errorType", type);
        try {
            return Json.mapper().writeValueAsBytes(n);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The error type: the runtime's header, else the body's errorType, else {@code fallback}. */
    static String errorType(RuntimeEvent.Error err, String fallback) {
        if (err.errorType() != null && !err.errorType().isBlank()) {
            return err.errorType();
        }
        JsonNode body = parse(err.body());
        if (body != null && body.path("errorType").isTextual()) {
            return body.get("errorType").asText();
        }
        return fallback;
    }

    /** The runtime's JSON error body as sent, or a minimal one when it sent none or no JSON object. */
    static byte[] errorBody(RuntimeEvent.Error err, String type) {
        JsonNode body = parse(err.body());
        if (body != null && body.isObject()) {
            return err.body();
        }
        String text = err.body().length == 0 ? "" : new String(err.body(), java.nio.charset.StandardCharsets.UTF_8);
        return error(text, type);
    }

    private static JsonNode parse(byte[] b) {
        if (b.length == 0) {
            return null;
        }
        try {
            return Json.mapper().readTree(b);
        } catch (IOException e) {
            return null;
        }
    }

    /** An X-Ray style trace header; Ignis has no tracing, but runtimes expect the header to exist. */
    static String traceId(InstantSource clock) {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        java.util.HexFormat hex = java.util.HexFormat.of();
        String epoch = hex.toHexDigits(clock.instant().getEpochSecond());
        return new StringBuilder(80).append("Root=1-").append(epoch, 8, 16).append('-').append(hex.toHexDigits(r.nextLong(1L << 48)), 4, 16)
                .append(hex.toHexDigits(r.nextLong(1L << 48)), 4, 16).append(";Parent=").append(hex.toHexDigits(r.nextLong()))
                .append(";Sampled=0").toString();
    }
}

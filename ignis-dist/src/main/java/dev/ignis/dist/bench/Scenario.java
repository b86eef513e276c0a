package dev.ignis.dist.bench;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.ignis.common.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A committed benchmark scenario ({@code bench/scenarios/*.json}): the functions to deploy and the
 * phases to run, so that a report can be reproduced from the file alone.
 *
 * @param picture phases whose warm and cold latencies make the histogram of the latency picture
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Scenario(String name, String description, List<Function> functions, List<Phase> phases, List<String> picture) {

    /** A function deployed from a fixture zip of ignis-testfunctions. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Function(String name, String runtime, String fixture, String handler, Integer memory) {
        int memoryMb() {
            return memory == null ? 1769 : memory;
        }
    }

    /**
     * One phase. Kinds:
     * <ul>
     *   <li>{@code closed}: {@code clients} (one value, or several for a sweep) closed-loop clients send {@code requests}
     *       invokes of {@code function}, after {@code warmup} invokes per client at the same concurrency;</li>
     *   <li>{@code open}: {@code rate} invokes per second for {@code seconds}, whatever the answers take;</li>
     *   <li>{@code mixed}: as closed, but {@code coldPercent} of the invokes go to a function just changed (so they cold-start);</li>
     *   <li>{@code storm}: {@code count} new functions (copies of {@code function}) invoked at once, once each;</li>
     *   <li>{@code coldstart}: {@code runs} cold starts one after another, each after a bare start: {@code bare} is a command line, or {@code ["runtime"]} for the function's runtime started without a sandbox up to its first /next ({@link BareStart});</li>
     *   <li>{@code async}: in-process only: {@code requests} Event invokes (enqueue and enqueue-to-start latency).</li>
     * </ul>
     * {@code baseline} (default true for closed and open): the same load against the echo floor, when the run has one.
     * {@code curve}: phases sharing a curve name draw one throughput-vs-concurrency curve per target.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Phase(String name, String kind, String function, List<Integer> clients, Integer requests, Integer warmup,
                        Double rate, Double seconds, Integer payloadBytes, Integer coldPercent, Integer count, Integer runs,
                        List<String> bare, Boolean baseline, String curve) {
        List<Integer> clientCounts() {
            return clients == null || clients.isEmpty() ? List.of(1) : clients;
        }

        int payload() {
            return payloadBytes == null ? 2 : payloadBytes;
        }

        boolean withBaseline() {
            return baseline == null ? kind.equals("closed") || kind.equals("open") : baseline;
        }
    }

    public static Scenario read(Path file) throws IOException {
        return Json.mapper().readValue(file.toFile(), Scenario.class);
    }

    public Function function(String name) {
        return functions.stream().filter(f -> f.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("scenario " + this.name + " has no function " + name));
    }
}

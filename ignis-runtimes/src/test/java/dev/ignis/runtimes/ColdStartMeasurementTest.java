package dev.ignis.runtimes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.runtimes.RuntimeApiTestHarness.Event;
import dev.ignis.runtimes.RuntimeApiTestHarness.Posted;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Cold start per runtime, A/B on the same machine in the same run (interleaved rounds): process
 * start to the first GET /next (runtime init), and to the first response (init + first invoke).
 * A benchmark, not a correctness test, so it only runs when asked:
 * {@code ./mvnw -pl ignis-runtimes -am install -Druntimes.excludedGroups=none -Dtest=ColdStartMeasurementTest -Dsurefire.failIfNoSpecifiedTests=false}
 * Results are printed and written to target/cold-start.txt.
 */
@org.junit.jupiter.api.Tag("benchmark")
class ColdStartMeasurementTest {
    private static final int ROUNDS = Integer.getInteger("ignis.measure.rounds", 9);

    private record Config(String name, RuntimeDefinition def, Path runtimeDir, String fixture, String handler) {
    }

    @Test
    void measure() throws Exception {
        List<Config> configs = new ArrayList<>();
        for (String id : List.of("java21", "java17")) {
            RuntimeDefinition def = TestRuntimes.runtime(id);
            String fixture = id.equals("java17") ? "java17-handlers" : "java-handlers";
            String archive = id.equals("java17") ? "CDS(AppCDS)" : "CDS(AOT cache)";
            configs.add(new Config(id + " " + archive, def, def.runtimeDirectory(), fixture, "fixtures.EchoHandler::handleRequest"));
            configs.add(new Config(id + " no archive", def, withoutArchive(def), fixture, "fixtures.EchoHandler::handleRequest"));
        }
        RuntimeDefinition py = TestRuntimes.runtime("python3.11");
        configs.add(new Config("python3.11", py, py.runtimeDirectory(), "python-handlers", "echo.handler"));
        RuntimeDefinition node = TestRuntimes.runtime("nodejs20.x");
        configs.add(new Config("nodejs20.x", node, node.runtimeDirectory(), "node-cjs", "index.echo"));

        Map<String, List<Long>> toNext = new LinkedHashMap<>();
        Map<String, List<Long>> toResponse = new LinkedHashMap<>();
        for (int round = 0; round < ROUNDS; round++) {
            for (Config c : configs) {
                try (var api = new RuntimeApiTestHarness();
                     var rt = RuntimeProcess.start(c.def(), c.runtimeDir(), TestRuntimes.task(c.fixture()), c.handler(),
                             api.address(), Map.of())) {
                    api.enqueue(Event.of("cold-" + round, "{\"round\":" + round + "}"));
                    long next = api.awaitFirstNext(60);
                    Posted p = api.await(60);
                    long done = System.nanoTime();
                    assertThat(p.kind()).as(rt.output()).isEqualTo("response");
                    if (round > 0) { // round 0 warms the page cache
                        toNext.computeIfAbsent(c.name(), k -> new ArrayList<>()).add((next - rt.startNanos) / 1000);
                        toResponse.computeIfAbsent(c.name(), k -> new ArrayList<>()).add((done - rt.startNanos) / 1000);
                    }
                }
            }
        }
        StringBuilder out = new StringBuilder(String.format("%-26s %18s %22s   (n=%d, medians, ms)%n",
                "runtime", "start->first /next", "start->first response", ROUNDS - 1));
        for (String name : toNext.keySet()) {
            out.append(String.format("%-26s %18.1f %22.1f%n", name, median(toNext.get(name)) / 1000.0,
                    median(toResponse.get(name)) / 1000.0));
        }
        System.out.print(out);
        Files.writeString(Path.of("target", "cold-start.txt"), out);
    }

    private static Path withoutArchive(RuntimeDefinition def) throws IOException {
        Path copy = TestRuntimes.DATA_DIR.resolve("no-archive").resolve(def.id());
        RuntimeResources.deleteTree(copy);
        Files.createDirectories(copy);
        try (Stream<Path> walk = Files.walk(def.runtimeDirectory())) {
            for (Path src : walk.toList()) {
                String name = src.getFileName().toString();
                if (name.startsWith("ric.") || name.equals(ClassSharing.FAILURE_NOTE)) {
                    continue;
                }
                Path dst = copy.resolve(def.runtimeDirectory().relativize(src).toString());
                if (Files.isDirectory(src)) {
                    Files.createDirectories(dst);
                } else {
                    Files.copy(src, dst, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
        return copy;
    }

    private static long median(List<Long> xs) {
        List<Long> s = xs.stream().sorted().toList();
        return s.get(s.size() / 2);
    }
}

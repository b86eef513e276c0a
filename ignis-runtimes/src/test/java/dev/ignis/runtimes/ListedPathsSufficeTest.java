package dev.ignis.runtimes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.runtimes.RuntimeApiTestHarness.Event;
import dev.ignis.runtimes.RuntimeApiTestHarness.Posted;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Each runtime starts and serves an invoke when the filesystem contains nothing but the paths its
 * definition lists (plus /var/runtime, /var/task, /tmp, /proc, /dev) — the list the worker binds.
 */
class ListedPathsSufficeTest {
    @ParameterizedTest
    @CsvSource({
        "python3.11, python-handlers, echo.handler",
        "nodejs20.x, node-cjs, index.echo",
        "nodejs20.x, node-esm, index.handler",
        "java21, java-handlers, fixtures.EchoHandler::handleRequest",
        "java25, java-handlers, fixtures.StreamEchoHandler",
        "java17, java17-handlers, fixtures.EchoHandler::handleRequest",
        "provided.al2023, provided-bash, function.handler",
    })
    void runtimeWorksWithOnlyItsListedPaths(String id, String fixture, String handler) throws Exception {
        try (var api = new RuntimeApiTestHarness();
             var rt = RuntimeProcess.startWithOnlyListedPaths(TestRuntimes.runtime(id), TestRuntimes.task(fixture),
                     handler, api.address())) {
            api.enqueue(Event.of("only-listed", "{\"probe\":\"minimal\"}"));
            Posted p = api.await(60);
            assertThat(p.kind()).as(rt.output()).isEqualTo("response");
            assertThat(p.body()).contains("minimal");
        }
    }
}

package dev.ignis.runtimes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.runtimes.RuntimeApiTestHarness.Event;
import dev.ignis.runtimes.RuntimeApiTestHarness.Posted;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The install-time CDS/AOT archives are really usable at /var/runtime: the JVM is forced to use
 * them (it refuses to start otherwise), and the RIC must still serve an invoke.
 */
class ClassSharingTest {
    @ParameterizedTest
    @CsvSource({
        "java21, java-handlers, ric.aot, -XX:AOTMode=on",
        "java25, java-handlers, ric.aot, -XX:AOTMode=on",
        "java17, java17-handlers, ric.jsa, -Xshare:on",
    })
    void archiveIsBuiltAndAcceptedByTheJvm(String id, String fixture, String archive, String forceFlag) throws Exception {
        RuntimeDefinition def = TestRuntimes.runtime(id);
        assertThat(def.runtimeDirectory().resolve(archive))
                .as("archive missing; %s", def.runtimeDirectory().resolve(ClassSharing.FAILURE_NOTE)).isRegularFile();
        assertThat(def.servedBy()).containsAnyOf("AOT cache", "AppCDS archive");
        try (var api = new RuntimeApiTestHarness();
             var rt = RuntimeProcess.start(def, TestRuntimes.task(fixture), "fixtures.EchoHandler::handleRequest",
                     api.address(), Map.of("JAVA_TOOL_OPTIONS", forceFlag))) {
            api.enqueue(Event.of("cds", "{\"x\":1}"));
            Posted p = api.await(60);
            assertThat(p.kind()).as(rt.output()).isEqualTo("response");
            assertThat(p.body()).contains("\"awsRequestId\":\"cds\"");
        }
    }
}

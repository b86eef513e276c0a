package dev.ignis.runtimes;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ignis.runtimes.RuntimeApiTestHarness.Event;
import dev.ignis.runtimes.RuntimeApiTestHarness.Posted;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** provided.al2023: the function's own bash + curl bootstrap. */
class ProvidedRuntimeTest {
    @Test
    void bashCurlBootstrapEchoes() throws Exception {
        try (var api = new RuntimeApiTestHarness();
             var rt = RuntimeProcess.start(TestRuntimes.runtime("provided.al2023"), TestRuntimes.task("provided-bash"),
                     "function.handler", api.address(), Map.of())) {
            api.enqueue(Event.of("p1", "{\"hi\":1}"));
            Posted p = api.await(20);
            assertThat(p.kind()).as(rt.output()).isEqualTo("response");
            assertThat(p.requestId()).isEqualTo("p1");
            // curl -d sends a form content type; the Runtime API must not care.
            assertThat(p.headers().get("content-type")).isEqualTo("application/x-www-form-urlencoded");
            assertThat(new ObjectMapper().readTree(p.body()))
                    .isEqualTo(new ObjectMapper().readTree("{\"echo\":{\"hi\":1},\"handler\":\"function.handler\"}"));
        }
    }
}

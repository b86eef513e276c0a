package dev.ignis.runtimes;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ignis.runtimes.RuntimeApiTestHarness.Event;
import dev.ignis.runtimes.RuntimeApiTestHarness.Posted;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** AWS's unchanged Java runtime interface client, started by our bootstrap on each JDK, with Java 21 class files. */
class JavaRuntimeTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static RuntimeProcess start(RuntimeApiTestHarness api, String id, String fixture, String handler) throws Exception {
        return RuntimeProcess.start(TestRuntimes.runtime(id), TestRuntimes.task(fixture), handler, api.address(), Map.of());
    }

    @ParameterizedTest
    @CsvSource({
        "java21, java-handlers, 25.",
        "java25, java-handlers-lib, 25.",
        "java17, java17-handlers, 17.",
    })
    void requestHandlerEchoesEventAndContext(String id, String fixture, String javaVersion) throws Exception {
        try (var api = new RuntimeApiTestHarness();
             var rt = start(api, id, fixture, "fixtures.EchoHandler::handleRequest")) {
            api.enqueue(Event.of("java-req-1", "{\"k\":\"v\",\"n\":[1,2]}"));
            Posted p = api.await(60);
            assertThat(p.kind()).as(rt.output()).isEqualTo("response");
            assertThat(p.requestId()).isEqualTo("java-req-1");
            JsonNode r = JSON.readTree(p.body());
            assertThat(r.get("event")).isEqualTo(JSON.readTree("{\"k\":\"v\",\"n\":[1,2]}"));
            assertThat(r.get("awsRequestId").asText()).isEqualTo("java-req-1");
            assertThat(r.get("functionName").asText()).isEqualTo("fixture");
            assertThat(r.get("functionVersion").asText()).isEqualTo("$LATEST");
            assertThat(r.get("invokedFunctionArn").asText()).endsWith(":function:fixture");
            assertThat(r.get("memoryLimitInMB").asInt()).isEqualTo(256);
            assertThat(r.get("logGroupName").asText()).isEqualTo("/aws/lambda/fixture");
            assertThat(r.get("remainingTimeInMillis").asLong()).isBetween(30_000L, 60_000L);
            assertThat(r.get("javaVersion").asText()).startsWith(javaVersion);
            // Heap is 85% of AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256 (217 MB; the JVM reports it minus a survivor space),
            // not a share of the host's RAM.
            assertThat(r.get("maxHeapMb").asLong()).isBetween(180L, 218L);
        }
    }

    @ParameterizedTest
    @CsvSource({"java21, java-handlers", "java17, java17-handlers"})
    void streamHandlerEchoesBytesExactly(String id, String fixture) throws Exception {
        try (var api = new RuntimeApiTestHarness();
             var rt = start(api, id, fixture, "fixtures.StreamEchoHandler")) {
            String body = "{\"raw\":\"bytes \\u00e9 \\n kept\",\"spaces\" :  [ 1 ,2 ]}";
            api.enqueue(Event.of("s1", body));
            Posted p = api.await(60);
            assertThat(p.kind()).as(rt.output()).isEqualTo("response");
            assertThat(p.body()).isEqualTo(body);
        }
    }

    @Test
    void thrownExceptionBecomesErrorBodyWithUserExceptionHeader() throws Exception {
        try (var api = new RuntimeApiTestHarness();
             var rt = start(api, "java17", "java17-handlers", "fixtures.ThrowingHandler")) {
            api.enqueue(Event.of("t1", "{\"message\":\"java boom\"}"));
            Posted p = api.await(60);
            assertThat(p.kind()).as(rt.output()).isEqualTo("error");
            assertThat(p.headers()).containsEntry("lambda-runtime-function-error-type", "Runtime.UserException");
            JsonNode e = JSON.readTree(p.body());
            assertThat(e.get("errorType").asText()).isEqualTo("java.lang.IllegalStateException");
            assertThat(e.get("errorMessage").asText()).isEqualTo("java boom");
            assertThat(e.get("stackTrace").toString()).contains("fixtures.ThrowingHandler.handleRequest");
        }
    }

    @Test
    void missingHandlerClassFailsEachInvokeLikeAws() throws Exception {
        // AWS's RIC does not post /init/error for a missing class: every invoke fails with
        // "Class not found" (what Lambda users see), while a class it cannot define is an init error.
        try (var api = new RuntimeApiTestHarness();
             var rt = start(api, "java25", "java-handlers", "fixtures.NoSuchHandler::handleRequest")) {
            api.enqueue(Event.of("m1", "{}"));
            Posted p = api.await(60);
            assertThat(p.kind()).as(rt.output()).isEqualTo("error");
            JsonNode e = JSON.readTree(p.body());
            assertThat(e.get("errorType").asText()).isEqualTo("java.lang.ClassNotFoundException");
            assertThat(e.get("errorMessage").asText()).contains("fixtures.NoSuchHandler");
        }
    }

    @Test
    void classFileTooNewForTheJdkIsAnInitError() throws Exception {
        try (var api = new RuntimeApiTestHarness();
             var rt = start(api, "java17", "java-handlers", "fixtures.EchoHandler::handleRequest")) {
            Posted p = api.await(60);
            assertThat(p.kind()).as(rt.output()).isEqualTo("init-error");
            assertThat(JSON.readTree(p.body()).get("errorType").asText()).isEqualTo("java.lang.UnsupportedClassVersionError");
            assertThat(rt.awaitExit(30)).isNotZero();
        }
    }

    /** The bootstrap's malloc settings, by the function's memory (its lines before the final exec, run by dash). */
    private static String mallocTunables(int memoryMb, String preset) throws Exception {
        String bootstrap;
        try (var in = JavaRuntimeTest.class.getResourceAsStream("/runtimes/java/bootstrap")) {
            bootstrap = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        String prelude = bootstrap.substring(0, bootstrap.indexOf("\nexec ")) + "\necho \"$GLIBC_TUNABLES\"\n";
        var pb = new ProcessBuilder("/bin/dash", "-c", prelude);
        pb.environment().clear();
        pb.environment().put("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", Integer.toString(memoryMb));
        if (preset != null) {
            pb.environment().put("GLIBC_TUNABLES", preset);
        }
        Process p = pb.redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
        assertThat(p.waitFor()).as(out).isZero();
        return out;
    }

    @Test
    void bootstrapKeepsPayloadBuffersMappedWithinAnEighthOfTheMemory() throws Exception {
        assertThat(mallocTunables(1769, null)).isEqualTo("glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=67108864");
        assertThat(mallocTunables(128, null)).isEqualTo("glibc.malloc.mmap_threshold=16777216:glibc.malloc.trim_threshold=16777216");
        assertThat(mallocTunables(512, null)).isEqualTo("glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=67108864");
        assertThat(mallocTunables(1769, "glibc.malloc.arena_max=2")).isEqualTo("glibc.malloc.arena_max=2"); // the function's own wins
    }
}

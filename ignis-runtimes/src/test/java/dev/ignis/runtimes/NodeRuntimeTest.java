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

/** Ignis' node runtime client (CommonJS, ES modules, callbacks), run unchanged against a test Runtime API. */
class NodeRuntimeTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static RuntimeProcess start(RuntimeApiTestHarness api, String fixture, String handler) throws Exception {
        return RuntimeProcess.start(TestRuntimes.runtime("nodejs20.x"), TestRuntimes.task(fixture), handler,
                api.address(), Map.of());
    }

    @ParameterizedTest
    @CsvSource({
        "node-cjs, index.echo, cjs-async",
        "node-cjs, index.callbackEcho, callback",
        "node-esm, index.handler, esm-mjs",
        "node-esm, app.handler, esm-js",
    })
    void echoesEventAndContext(String fixture, String handler, String style) throws Exception {
        try (var api = new RuntimeApiTestHarness(); var rt = start(api, fixture, handler)) {
            api.enqueue(new Event("req-" + style, "{\"n\":1,\"list\":[true,null]}", System.currentTimeMillis() + 20_000,
                    "arn:aws:lambda:us-east-1:123456789012:function:fixture", null, null, null));
            api.enqueue(Event.of("second", "\"plain string\""));
            Posted p = api.await(20);
            assertThat(p.kind()).as(rt.output()).isEqualTo("response");
            JsonNode r = JSON.readTree(p.body());
            assertThat(r.get("style").asText()).isEqualTo(style);
            assertThat(r.get("event")).isEqualTo(JSON.readTree("{\"n\":1,\"list\":[true,null]}"));
            assertThat(r.get("awsRequestId").asText()).isEqualTo("req-" + style);
            assertThat(r.get("functionName").asText()).isEqualTo("fixture");
            assertThat(r.get("remainingTimeInMillis").asLong()).isBetween(5_000L, 20_000L);
            if (fixture.equals("node-cjs")) {
                assertThat(r.get("functionVersion").asText()).isEqualTo("$LATEST");
                assertThat(r.get("memoryLimitInMB").asText()).isEqualTo("256");
                assertThat(r.get("logGroupName").asText()).isEqualTo("/aws/lambda/fixture");
                assertThat(r.get("invokedFunctionArn").asText()).endsWith(":function:fixture");
            }
            Posted second = api.await(20);
            assertThat(second.requestId()).isEqualTo("second");
            assertThat(JSON.readTree(second.body()).get("event").asText()).isEqualTo("plain string");
            assertThat(api.nextClientPorts().get(1)).as("keep-alive").isEqualTo(api.nextClientPorts().get(0));
        }
    }

    @Test
    void rejectedPromiseAndCallbackErrorBecomeErrorBodies() throws Exception {
        try (var api = new RuntimeApiTestHarness(); var rt = start(api, "node-cjs", "index.fail")) {
            api.enqueue(Event.of("f1", "{\"message\":\"kaput\"}"));
            Posted p = api.await(20);
            assertThat(p.kind()).as(rt.output()).isEqualTo("error");
            assertThat(p.headers()).containsEntry("lambda-runtime-function-error-type", "FixtureError");
            JsonNode e = JSON.readTree(p.body());
            assertThat(e.get("errorType").asText()).isEqualTo("FixtureError");
            assertThat(e.get("errorMessage").asText()).isEqualTo("kaput");
            assertThat(e.get("stackTrace").get(0).asText()).isEqualTo("FixtureError: kaput");
            assertThat(e.get("trace")).isEqualTo(e.get("stackTrace"));
        }
        try (var api = new RuntimeApiTestHarness(); var rt = start(api, "node-cjs", "index.callbackError")) {
            api.enqueue(Event.of("f2", "{}"));
            JsonNode e = JSON.readTree(api.await(20).body());
            assertThat(e.get("errorType").asText()).as(rt.output()).isEqualTo("TypeError");
            assertThat(e.get("errorMessage").asText()).isEqualTo("callback failure");
        }
    }

    @ParameterizedTest
    @CsvSource({
        "node-cjs, broken.handler, Runtime.ImportModuleError",
        "node-cjs, nofile.handler, Runtime.ImportModuleError",
        "node-cjs, index.nothere, Runtime.HandlerNotFound",
        "node-cjs, index, Runtime.MalformedHandlerName",
        "node-esm, index.nothere, Runtime.HandlerNotFound",
    })
    void initErrorsAreReportedWithAwsTypesThenTheProcessExits(String fixture, String handler, String type) throws Exception {
        try (var api = new RuntimeApiTestHarness(); var rt = start(api, fixture, handler)) {
            Posted p = api.await(20);
            assertThat(p.kind()).as(rt.output()).isEqualTo("init-error");
            assertThat(p.headers()).containsEntry("lambda-runtime-function-error-type", type);
            assertThat(JSON.readTree(p.body()).get("errorType").asText()).isEqualTo(type);
            assertThat(rt.awaitExit(20)).isNotZero();
        }
    }

    @Test
    void consoleLinesCarryTheRequestId() throws Exception {
        try (var api = new RuntimeApiTestHarness(); var rt = start(api, "node-cjs", "index.logs")) {
            api.enqueue(Event.of("log-req", "{\"tag\":\"t-7\"}"));
            assertThat(api.await(20).body()).isEqualTo("\"logged t-7\"");
            assertThat(rt.output()).containsPattern("\\tlog-req\\tINFO\\tstdout line t-7")
                    .containsPattern("\\tlog-req\\tERROR\\tstderr line t-7");
        }
    }
}

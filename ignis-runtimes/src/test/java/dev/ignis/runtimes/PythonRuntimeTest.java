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

/** Ignis' python runtime client, run unchanged against a test Runtime API. */
class PythonRuntimeTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static RuntimeProcess start(RuntimeApiTestHarness api, String handler) throws Exception {
        return RuntimeProcess.start(TestRuntimes.runtime("python3.11"), TestRuntimes.task("python-handlers"),
                handler, api.address(), Map.of());
    }

    @Test
    void echoesEventAndContextOverOneKeepAliveConnection() throws Exception {
        try (var api = new RuntimeApiTestHarness(); var rt = start(api, "echo.handler")) {
            long deadline = System.currentTimeMillis() + 30_000;
            api.enqueue(new Event("req-1", "{\"a\":[1,2,{\"b\":null}],\"s\":\"é\"}", deadline,
                    "arn:aws:lambda:us-east-1:123456789012:function:fixture:live",
                    "{\"custom\":{\"k\":\"v\"},\"env\":{\"e\":\"1\"},\"client\":{\"app_title\":\"t\"}}",
                    "{\"cognitoIdentityId\":\"id-1\",\"cognitoIdentityPoolId\":\"pool-1\"}", null));
            api.enqueue(Event.of("req-2", "[]"));
            Posted first = api.await(20);
            Posted second = api.await(20);
            assertThat(first.kind()).as(rt.output()).isEqualTo("response");
            assertThat(first.requestId()).isEqualTo("req-1");
            JsonNode r = JSON.readTree(first.body());
            assertThat(r.get("event")).isEqualTo(JSON.readTree("{\"a\":[1,2,{\"b\":null}],\"s\":\"é\"}"));
            assertThat(r.get("awsRequestId").asText()).isEqualTo("req-1");
            assertThat(r.get("functionName").asText()).isEqualTo("fixture");
            assertThat(r.get("functionVersion").asText()).isEqualTo("$LATEST");
            assertThat(r.get("invokedFunctionArn").asText()).endsWith(":function:fixture:live");
            assertThat(r.get("memoryLimitInMB").asText()).isEqualTo("256");
            assertThat(r.get("logGroupName").asText()).isEqualTo("/aws/lambda/fixture");
            assertThat(r.get("logStreamName").asText()).contains("[$LATEST]");
            assertThat(r.get("remainingTimeInMillis").asLong()).isBetween(15_000L, 30_000L);
            assertThat(r.at("/clientContext/custom/k").asText()).isEqualTo("v");
            assertThat(r.at("/clientContext/client/appTitle").asText()).isEqualTo("t");
            assertThat(r.at("/identity/cognitoIdentityId").asText()).isEqualTo("id-1");
            assertThat(r.get("cwd").asText()).isEqualTo("/var/task");
            assertThat(second.requestId()).isEqualTo("req-2");
            assertThat(JSON.readTree(second.body()).get("event")).isEqualTo(JSON.readTree("[]"));
            assertThat(api.nextClientPorts()).hasSizeGreaterThanOrEqualTo(2);
            assertThat(api.nextClientPorts().get(1)).as("keep-alive").isEqualTo(api.nextClientPorts().get(0));
        }
    }

    @Test
    void dottedPackageHandlerAndNoneResult() throws Exception {
        try (var api = new RuntimeApiTestHarness(); var rt = start(api, "pkg.sub.mod.handler")) {
            api.enqueue(Event.of("r", "{\"x\":1}"));
            Posted p = api.await(20);
            assertThat(p.kind()).as(rt.output()).isEqualTo("response");
            assertThat(JSON.readTree(p.body()).get("module").asText()).isEqualTo("pkg.sub.mod");
        }
        try (var api = new RuntimeApiTestHarness(); var rt = start(api, "echo.none_handler")) {
            api.enqueue(Event.of("r", "{}"));
            assertThat(api.await(20).body()).as(rt.output()).isEqualTo("null");
        }
    }

    @Test
    void handlerExceptionBecomesAwsErrorBodyAndTheLoopContinues() throws Exception {
        try (var api = new RuntimeApiTestHarness(); var rt = start(api, "errors.handler")) {
            api.enqueue(Event.of("bad-1", "{\"message\":\"boom 1\"}"));
            api.enqueue(Event.of("bad-2", "{\"message\":\"boom 2\"}"));
            Posted p = api.await(20);
            assertThat(p.kind()).as(rt.output()).isEqualTo("error");
            assertThat(p.requestId()).isEqualTo("bad-1");
            assertThat(p.headers()).containsEntry("lambda-runtime-function-error-type", "ValueError");
            JsonNode e = JSON.readTree(p.body());
            assertThat(e.get("errorType").asText()).isEqualTo("ValueError");
            assertThat(e.get("errorMessage").asText()).isEqualTo("boom 1");
            assertThat(e.get("stackTrace").isArray()).isTrue();
            assertThat(e.get("stackTrace").toString()).contains("/var/task/errors.py").doesNotContain("ignis_runtime");
            assertThat(JSON.readTree(api.await(20).body()).get("errorMessage").asText()).isEqualTo("boom 2");
            assertThat(rt.output()).contains("[ERROR] ValueError: boom 1");
        }
    }

    @ParameterizedTest
    @CsvSource({
        "broken_import.handler, Runtime.ImportModuleError, Unable to import module 'broken_import'",
        "syntax_error.handler, Runtime.UserCodeSyntaxError, Syntax error in module 'syntax_error'",
        "echo.missing, Runtime.HandlerNotFound, Handler 'missing' missing on module 'echo'",
        "nodot, Runtime.MalformedHandlerName, Bad handler 'nodot'",
        "no_such_module.handler, Runtime.ImportModuleError, No module named 'no_such_module'",
        "sys.exit, Runtime.BuiltInModuleConflict, Cannot use built-in module sys",
    })
    void initErrorsAreReportedWithAwsTypesThenTheProcessExits(String handler, String type, String message) throws Exception {
        try (var api = new RuntimeApiTestHarness(); var rt = start(api, handler)) {
            Posted p = api.await(20);
            assertThat(p.kind()).as(rt.output()).isEqualTo("init-error");
            assertThat(p.headers()).containsEntry("lambda-runtime-function-error-type", type);
            JsonNode e = JSON.readTree(p.body());
            assertThat(e.get("errorType").asText()).isEqualTo(type);
            assertThat(e.get("errorMessage").asText()).contains(message);
            assertThat(rt.awaitExit(20)).isNotZero();
        }
    }

    @Test
    void logsGoToTheProcessOutputUnbuffered() throws Exception {
        try (var api = new RuntimeApiTestHarness(); var rt = start(api, "logs.handler")) {
            api.enqueue(Event.of("r", "{\"tag\":\"t-42\"}"));
            assertThat(api.await(20).body()).isEqualTo("\"logged t-42\"");
            // Visible before the process exits: -u keeps stdout unbuffered.
            assertThat(rt.output()).contains("stdout line t-42").contains("stderr line t-42");
        }
    }

    @Test
    void hostileProbeFixtureReportsErrnos() throws Exception {
        try (var api = new RuntimeApiTestHarness(); var rt = start(api, "probes.handler")) {
            api.enqueue(Event.of("p1", "{\"probe\":\"read\",\"path\":\"/var/task/echo.py\"}"));
            api.enqueue(Event.of("p2", "{\"probe\":\"read\",\"path\":\"/no/such/file\"}"));
            api.enqueue(Event.of("p3", "{\"probe\":\"write\",\"path\":\"/var/task/x\"}"));
            JsonNode ok = JSON.readTree(api.await(20).body());
            assertThat(ok.get("ok").asBoolean()).as(rt.output()).isTrue();
            assertThat(ok.get("result").asText()).contains("Echo fixture");
            JsonNode missing = JSON.readTree(api.await(20).body());
            assertThat(missing.get("ok").asBoolean()).isFalse();
            assertThat(missing.get("errno").asText()).isEqualTo("ENOENT");
            // /var/task is mounted read-only, as in the sandbox.
            assertThat(JSON.readTree(api.await(20).body()).get("errno").asText()).isEqualTo("EROFS");
        }
    }
}

package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ignis.common.Json;
import dev.ignis.config.ConfigStore;
import dev.ignis.testfunctions.TestFunctions;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LogType;
import software.amazon.awssdk.services.lambda.model.TooManyRequestsException;

/** The synchronous invoke path through the AWS SDK, for every runtime, with the failures AWS reports. */
class InvokeIT extends PlatformTestBase {

    void deploy(String name, String runtime, String zip, String handler, int timeout, int memory) {
        deploy(name, runtime, TestFunctions.zip(zip), handler, timeout, memory);
    }

    void deploy(String name, String runtime, byte[] zip, String handler, int timeout, int memory) {
        lambda.createFunction(b -> b.functionName(name).runtime(runtime).handler(handler).role(TestPlatform.ROLE)
                .timeout(timeout).memorySize(memory).code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
    }

    InvokeResponse invoke(String name, String payload) {
        return lambda.invoke(b -> b.functionName(name).payload(SdkBytes.fromUtf8String(payload)));
    }

    static JsonNode json(InvokeResponse r) throws Exception {
        return Json.mapper().readTree(r.payload().asByteArray());
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
            "python3.11, python-handlers, echo.handler",
            "python3.11, python-handlers, pkg.sub.mod.handler",
            "nodejs20.x, node-cjs, index.echo",
            "nodejs20.x, node-cjs, index.callbackEcho",
            "nodejs20.x, node-esm, index.handler",
            "java21, java-handlers, fixtures.EchoHandler::handleRequest",
            "java25, java-handlers-lib, fixtures.EchoHandler::handleRequest",
            "java17, java17-handlers, fixtures.EchoHandler::handleRequest",
    })
    void echoWithContext(String runtime, String zip, String handler) throws Exception {
        String name = ("echo-" + runtime + "-" + handler).replaceAll("[^a-zA-Z0-9-_]", "-");
        deploy(name, runtime, zip, handler, 30, 512);
        var r = invoke(name, "{\"hello\":\"world\",\"n\":[1,2,3]}");
        assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.executedVersion()).isEqualTo("$LATEST");
        JsonNode out = json(r);
        JsonNode event = out.has("event") ? out.get("event") : out;
        assertThat(event.get("hello").asText()).isEqualTo("world");
        if (out.has("awsRequestId")) {
            assertThat(out.get("awsRequestId").asText()).isEqualTo(r.responseMetadata().requestId());
            assertThat(out.get("functionName").asText()).isEqualTo(name);
            assertThat(out.get("invokedFunctionArn").asText()).isEqualTo(ConfigStore.functionArn(key.accountId(), name));
            assertThat(out.get("remainingTimeInMillis").asLong()).isBetween(1L, 30_000L);
        }
        // the second invoke is warm: same sandbox, no new cold start
        long cold = platform.assignment().stats().coldStarts();
        assertThat(invoke(name, "{\"hello\":\"again\"}").functionError()).isNull();
        assertThat(platform.assignment().stats().coldStarts()).isEqualTo(cold);
    }

    @Test
    void coldInvokeCarriesItsInitDurationHeaderWarmOnesDoNot() {
        deploy("init-header", "python3.11", "python-handlers", "echo.none_handler", 30, 512);
        for (int i = 0; i < 2; i++) {
            var r = lambda.invoke(b -> b.functionName("init-header").logType(LogType.TAIL).payload(SdkBytes.fromUtf8String("{}")));
            String log = new String(Base64.getDecoder().decode(r.logResult()), StandardCharsets.UTF_8);
            var header = r.sdkHttpResponse().firstMatchingHeader("X-Ignis-Init-Duration");
            var report = java.util.regex.Pattern.compile("Init Duration: ([0-9.]+) ms").matcher(log);
            if (i == 0) {
                // the header is the REPORT line's figure, to the hundredth of a millisecond
                assertThat(report.find()).as(log).isTrue();
                assertThat(header).hasValue(report.group(1));
            } else {
                assertThat(report.find()).as(log).isFalse();
                assertThat(header).isEmpty();
            }
        }
    }

    @Test
    void noPayloadIsAnEmptyObject() throws Exception {
        deploy("no-payload", "python3.11", Zips.python("def handler(e, c):\n    return {'type': type(e).__name__, 'e': e}\n"),
                "app.handler", 30, 128);
        var r = lambda.invoke(b -> b.functionName("no-payload"));
        assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
        assertThat(r.payload().asUtf8String()).isEqualTo("{\"type\": \"dict\", \"e\": {}}");
    }

    @Test
    void providedBashBootstrap() throws Exception {
        deploy("bash", "provided.al2023", "provided-bash", "unused", 30, 128);
        var r = invoke("bash", "{\"shell\":true}");
        assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
        assertThat(json(r).toString()).contains("\"shell\":true");
    }

    @Test
    void javaStreamHandler() {
        deploy("stream", "java21", "java-handlers", "fixtures.StreamEchoHandler", 30, 512);
        var r = invoke("stream", "{\"bytes\":\"as-is\"}");
        assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
        assertThat(r.payload().asUtf8String()).isEqualTo("{\"bytes\":\"as-is\"}");
    }

    @Test
    void functionErrorsAreUnhandledWithAwsBody() throws Exception {
        deploy("py-err", "python3.11", "python-handlers", "errors.handler", 30, 128);
        var r = invoke("py-err", "{\"message\":\"boom\"}");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.functionError()).isEqualTo("Unhandled");
        assertThat(json(r).get("errorType").asText()).isEqualTo("ValueError");
        assertThat(json(r).get("errorMessage").asText()).isEqualTo("boom");
        deploy("java-err", "java21", "java-handlers", "fixtures.ThrowingHandler", 30, 512);
        var j = invoke("java-err", "{}");
        assertThat(j.functionError()).isEqualTo("Unhandled");
        assertThat(json(j).has("errorType")).isTrue();
    }

    @ParameterizedTest(name = "{0} {2}")
    @CsvSource({
            "python3.11, python-handlers, errors.handler, ValueError",
            "nodejs20.x, node-cjs, index.fail, ",
            "java21, java-handlers, fixtures.ThrowingHandler, java.lang.IllegalStateException",
            "java17, java17-handlers, fixtures.ThrowingHandler, java.lang.IllegalStateException",
    })
    void unhandledErrorsInEveryRuntime(String runtime, String zip, String handler, String errorType) throws Exception {
        String name = ("err-" + runtime + "-" + zip).replaceAll("[^a-zA-Z0-9-_]", "-");
        deploy(name, runtime, zip, handler, 30, 512);
        var r = invoke(name, "{\"message\":\"boom\"}");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.functionError()).isEqualTo("Unhandled");
        JsonNode body = json(r);
        assertThat(body.has("errorMessage")).as(body.toString()).isTrue();
        assertThat(body.has("errorType")).as(body.toString()).isTrue();
        if (errorType != null) {
            assertThat(body.get("errorType").asText()).isEqualTo(errorType);
        }
        // the sandbox survives a handled-by-the-runtime error and serves the next invoke warm
        long cold = platform.assignment().stats().coldStarts();
        assertThat(invoke(name, "{}").functionError()).isEqualTo("Unhandled");
        assertThat(platform.assignment().stats().coldStarts()).isEqualTo(cold);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "python3.11, python-handlers, sleep.handler",
            "nodejs20.x, node-cjs, index.sleep",
            "java21, java-handlers, fixtures.SleepHandler",
    })
    void timeoutsInEveryRuntime(String runtime, String zip, String handler) throws Exception {
        String name = ("timeout-" + runtime).replaceAll("[^a-zA-Z0-9-_]", "-");
        deploy(name, runtime, zip, handler, 2, 512);
        var r = invoke(name, "{\"ms\":6000}");
        assertThat(r.functionError()).isEqualTo("Unhandled");
        assertThat(json(r).get("errorMessage").asText()).contains("Task timed out after 2.00 seconds");
        var ok = invoke(name, "{\"ms\":5}");
        assertThat(ok.functionError()).as(ok.payload().asUtf8String()).isNull();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "python3.11, python-handlers, logs.handler",
            "nodejs20.x, node-cjs, index.logs",
            "java21, java-handlers, fixtures.LoggingHandler",
    })
    void tailLogsInEveryRuntime(String runtime, String zip, String handler) {
        String name = ("tail-" + runtime).replaceAll("[^a-zA-Z0-9-_]", "-");
        deploy(name, runtime, zip, handler, 30, 512);
        var r = lambda.invoke(b -> b.functionName(name).logType(LogType.TAIL).payload(SdkBytes.fromUtf8String("{\"tag\":\"t1\"}")));
        assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
        String log = new String(Base64.getDecoder().decode(r.logResult()), StandardCharsets.UTF_8);
        assertThat(log).contains("START RequestId: " + r.responseMetadata().requestId(), "stdout line", "stderr line",
                "END RequestId: " + r.responseMetadata().requestId(), "REPORT RequestId: " + r.responseMetadata().requestId(),
                "Init Duration:");
    }

    @Test
    void nodeInitError() throws Exception {
        deploy("node-broken", "nodejs20.x", "node-cjs", "broken.handler", 30, 256);
        var r = invoke("node-broken", "{}");
        assertThat(r.functionError()).isEqualTo("Unhandled");
        assertThat(json(r).get("errorType").asText()).isEqualTo("Runtime.ImportModuleError");
    }

    @Test
    void javaOutOfMemoryThenTheNextInvokeWorks() throws Exception {
        deploy("java-hog", "java21", "java-handlers", "fixtures.MemoryHandler", 30, 256);
        var r = invoke("java-hog", "{\"mb\":1000}");
        assertThat(r.functionError()).isEqualTo("Unhandled");
        assertThat(json(r).get("errorType").asText()).isIn("Runtime.OutOfMemory", "Runtime.ExitError", "java.lang.OutOfMemoryError");
        var ok = invoke("java-hog", "{\"mb\":8}");
        assertThat(ok.functionError()).as(ok.payload().asUtf8String()).isNull();
    }

    @Test
    void initErrorThenStillAnsweredByFreshSandboxes() throws Exception {
        deploy("broken", "python3.11", "python-handlers", "broken_import.handler", 30, 128);
        for (int i = 0; i < 2; i++) {
            var r = invoke("broken", "{}");
            assertThat(r.functionError()).isEqualTo("Unhandled");
            assertThat(json(r).get("errorType").asText()).isEqualTo("Runtime.ImportModuleError");
        }
    }

    @Test
    void timeoutKillsTheSandboxAndTheNextInvokeWorks() throws Exception {
        deploy("slow", "python3.11", "python-handlers", "sleep.handler", 1, 128);
        var r = invoke("slow", "{\"ms\":5000}");
        assertThat(r.functionError()).isEqualTo("Unhandled");
        assertThat(json(r).get("errorMessage").asText()).contains("Task timed out after 1.00 seconds");
        var ok = invoke("slow", "{\"ms\":10}");
        assertThat(ok.functionError()).as(ok.payload().asUtf8String()).isNull();
    }

    @Test
    void outOfMemoryIsRuntimeOutOfMemoryAndTheNextInvokeWorks() throws Exception {
        deploy("hog", "python3.11", "python-handlers", "memory.handler", 30, 128);
        var r = invoke("hog", "{\"mb\":400}");
        assertThat(r.functionError()).isEqualTo("Unhandled");
        assertThat(json(r).get("errorType").asText()).isEqualTo("Runtime.OutOfMemory"); // AWS's type for a runtime its limit killed
        var ok = invoke("hog", "{\"mb\":8}");
        assertThat(ok.functionError()).as(ok.payload().asUtf8String()).isNull();
    }

    @Test
    void tailLogsAndDryRun() {
        deploy("logs", "python3.11", "python-handlers", "logs.handler", 30, 128);
        var r = lambda.invoke(b -> b.functionName("logs").logType(LogType.TAIL).payload(SdkBytes.fromUtf8String("{}")));
        String log = new String(Base64.getDecoder().decode(r.logResult()), StandardCharsets.UTF_8);
        assertThat(log).contains("START RequestId: " + r.responseMetadata().requestId(), "END RequestId:", "REPORT RequestId:",
                "Duration:", "Billed Duration:", "Memory Size: 128 MB", "Max Memory Used:");
        var dry = lambda.invoke(b -> b.functionName("logs").invocationType(InvocationType.DRY_RUN));
        assertThat(dry.statusCode()).isEqualTo(204);
    }

    @Test
    void aliasWeightsSplitTraffic() {
        deploy("weighted", "python3.11", Zips.python("def handler(e, c):\n    return 1\n"), "app.handler", 30, 128);
        lambda.publishVersion(b -> b.functionName("weighted"));
        lambda.updateFunctionCode(b -> b.functionName("weighted").publish(true)
                .zipFile(SdkBytes.fromByteArray(Zips.python("def handler(e, c):\n    return 2\n"))));
        lambda.createAlias(b -> b.functionName("weighted").name("live").functionVersion("1")
                .routingConfig(rc -> rc.additionalVersionWeights(Map.of("2", 0.3))));
        int n = 300;
        int v2 = 0;
        for (int i = 0; i < n; i++) {
            var r = lambda.invoke(b -> b.functionName("weighted").qualifier("live").payload(SdkBytes.fromUtf8String("{}")));
            assertThat(r.payload().asUtf8String()).isEqualTo(r.executedVersion().equals("2") ? "2" : "1");
            v2 += r.executedVersion().equals("2") ? 1 : 0;
        }
        // binomial(300, 0.3): mean 90, sd ~7.9; +-4.5 sd
        assertThat(v2).isBetween(55, 125);
    }

    @Test
    void reservedConcurrencyZeroThrottles() {
        deploy("throttled", "python3.11", "python-handlers", "echo.handler", 30, 128);
        lambda.putFunctionConcurrency(b -> b.functionName("throttled").reservedConcurrentExecutions(0));
        assertThatThrownBy(() -> invoke("throttled", "{}")).isInstanceOfSatisfying(TooManyRequestsException.class, e -> {
            assertThat(e.statusCode()).isEqualTo(429);
            assertThat(e.reasonAsString()).isEqualTo("ReservedFunctionConcurrentInvocationLimitExceeded");
        });
        lambda.deleteFunctionConcurrency(b -> b.functionName("throttled"));
        assertThat(invoke("throttled", "{}").functionError()).isNull();
    }

    @Test
    void updatedCodeAnswersNext() {
        deploy("evolving", "python3.11", Zips.python("def handler(e, c):\n    return 'old'\n"), "app.handler", 30, 128);
        assertThat(invoke("evolving", "{}").payload().asUtf8String()).isEqualTo("\"old\"");
        lambda.updateFunctionCode(b -> b.functionName("evolving").zipFile(SdkBytes.fromByteArray(Zips.python("def handler(e, c):\n    return 'new'\n"))));
        assertThat(invoke("evolving", "{}").payload().asUtf8String()).isEqualTo("\"new\"");
        lambda.updateFunctionConfiguration(b -> b.functionName("evolving").environment(e -> e.variables(Map.of("MODE", "x"))));
        assertThat(invoke("evolving", "{}").payload().asUtf8String()).isEqualTo("\"new\"");
    }

    @Test
    void sixtyFourConcurrentInvokesThenWarmReuse() throws Exception {
        deploy("fanout", "python3.11", "python-handlers", "sleep.handler", 60, 128);
        int n = 64;
        var before = platform.assignment().stats();
        List<Integer> statuses = burst(n);
        assertThat(statuses).hasSize(n).allMatch(s -> s == 200);
        var afterFirst = platform.assignment().stats();
        for (int i = 0; i < 20; i++) {
            assertThat(invoke("fanout", "{\"ms\":1}").functionError()).isNull();
        }
        var afterSequential = platform.assignment().stats();
        long coldBurst = afterFirst.coldStarts() - before.coldStarts();
        System.out.printf("64 concurrent invokes: %d cold starts, %d warm; then 20 sequential invokes: %d cold starts%n",
                coldBurst, afterFirst.warmStarts() - before.warmStarts(), afterSequential.coldStarts() - afterFirst.coldStarts());
        assertThat(coldBurst).isBetween(1L, (long) n);
        assertThat(afterSequential.coldStarts()).isEqualTo(afterFirst.coldStarts());
    }

    private List<Integer> burst(int n) throws Exception {
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Integer>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Callable<Integer> call = () -> {
                    var r = invoke("fanout", "{\"ms\":300}");
                    return r.functionError() == null ? r.statusCode() : -1;
                };
                futures.add(pool.submit(call));
            }
            List<Integer> out = new ArrayList<>();
            for (var f : futures) {
                out.add(f.get());
            }
            return out;
        }
    }
}

package dev.ignis.worker;

import static dev.ignis.worker.TestSandboxes.text;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Every sandbox starts from scratch here, in a ready shell in {@link InvokeRoundTripInShellTest}. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InvokeRoundTripTest {
    static TestSandboxes t;

    BubblewrapDriver.StartPath startPath() {
        return BubblewrapDriver.StartPath.FROM_SCRATCH;
    }

    /** The worker the suite runs on (overridden to run the suite on another driver). */
    TestSandboxes sandboxes() {
        return new TestSandboxes(startPath());
    }

    @BeforeAll
    void start() {
        t = sandboxes();
    }

    @AfterAll
    void stop() {
        if (t != null) {
            t.close();
            t = null;
        }
    }

    @Test
    void echoRoundTripWarmReuseAndLogFrame() {
        SandboxHandle h = t.shell(TestSandboxes.ECHO_BOOTSTRAP, 256, 5);
        try {
            assertThat(t.startedInShell(h.sandboxId())).isEqualTo(startPath() == BubblewrapDriver.StartPath.READY_SHELL);
            assertThat(h.initDuration()).isPositive();
            InvokeOutcome first = t.invoke(h, "{\"hello\":\"world\"}");
            assertThat(first.status()).isEqualTo(InvokeOutcome.Status.SUCCESS);
            assertThat(text(first)).isEqualTo("{\"hello\":\"world\"}");
            assertThat(first.sandboxReusable()).isTrue();
            String tail = TestSandboxes.tail(first);
            assertThat(tail).containsPattern("(?s)START RequestId: \\S+ Version: \\$LATEST\n.*handling .*\nEND RequestId: .*\nREPORT RequestId: ")
                    .contains("\tMemory Size: 256 MB\tMax Memory Used: ").contains("\tInit Duration: ");

            InvokeOutcome second = t.invoke(h, "second");
            assertThat(text(second)).as(TestSandboxes.tail(second)).isEqualTo("second");
            assertThat(TestSandboxes.tail(second)).doesNotContain("Init Duration").contains("handling ");
            assertThat(t.worker.sandboxes()).extracting(SandboxHandle::sandboxId).contains(h.sandboxId());
        } finally {
            t.worker.retire(h.sandboxId());
        }
        assertThat(t.worker.sandboxes()).extracting(SandboxHandle::sandboxId).doesNotContain(h.sandboxId());
    }

    @Test
    void nextCarriesLambdasHeadersOnlyWhenNonEmpty() {
        SandboxHandle h = t.shell("""
                #!/bin/sh
                API="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
                while true; do
                  curl -sS -o /tmp/event -D /tmp/headers "$API/invocation/next" || exit 3
                  RID=$(grep -i '^lambda-runtime-aws-request-id:' /tmp/headers | cut -d' ' -f2 | tr -d '\\r')
                  curl -sS -o /dev/null -X POST --data-binary @/tmp/headers "$API/invocation/$RID/response"
                done
                """, 256, 7);
        try {
            long before = System.currentTimeMillis();
            InvokeOutcome o = t.worker.invoke(h.sandboxId(), new InvokeRequest("req-1", "{}".getBytes(),
                    "arn:aws:lambda:us-east-1:123456789012:function:f:live", "{\"custom\":{\"k\":\"v\"}}", null, false));
            String headers = text(o).replace("\r", "");
            assertThat(headers).startsWith("HTTP/1.1 200 OK\n").contains("Lambda-Runtime-Aws-Request-Id: req-1\n",
                    "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:f:live\n",
                    "Lambda-Runtime-Client-Context: {\"custom\":{\"k\":\"v\"}}\n")
                    .containsPattern("Lambda-Runtime-Trace-Id: Root=1-[0-9a-f]{8}-[0-9a-f]{24};")
                    .doesNotContain("Lambda-Runtime-Cognito-Identity");
            long deadline = Long.parseLong(headers.replaceAll("(?s).*Lambda-Runtime-Deadline-Ms: (\\d+).*", "$1"));
            assertThat(deadline).isBetween(before + 7000, System.currentTimeMillis() + 7000);
            assertThat(o.logTail()).isNull();
        } finally {
            t.worker.retire(h.sandboxId());
        }
    }

    @Test
    void environmentIsLambdasAndTheFunctionCannotRedirectTheRuntimeApi() {
        String fn = """
                import os
                def handler(event):
                    return {k: os.environ.get(k) for k in event}
                """;
        SandboxSpec spec = TestSandboxes.spec("python3.11", t.code(Map.of("function.py", fn)), 256, 5, 64,
                Map.of("MY_VAR", "mine", "AWS_LAMBDA_RUNTIME_API", "10.0.0.1:80"));
        SandboxHandle h = t.worker.createSandbox(spec);
        try {
            InvokeOutcome o = t.invoke(h, "[\"AWS_LAMBDA_RUNTIME_API\",\"_HANDLER\",\"LAMBDA_TASK_ROOT\",\"LAMBDA_RUNTIME_DIR\","
                    + "\"AWS_LAMBDA_FUNCTION_NAME\",\"AWS_LAMBDA_FUNCTION_VERSION\",\"AWS_LAMBDA_FUNCTION_MEMORY_SIZE\","
                    + "\"AWS_LAMBDA_LOG_GROUP_NAME\",\"AWS_LAMBDA_LOG_STREAM_NAME\",\"AWS_REGION\",\"AWS_DEFAULT_REGION\",\"TZ\","
                    + "\"AWS_LAMBDA_INITIALIZATION_TYPE\",\"MY_VAR\",\"PWD\",\"HOME\"]");
            assertThat(o.status()).as(text(o)).isEqualTo(InvokeOutcome.Status.SUCCESS);
            String env = text(o);
            assertThat(env).contains("\"AWS_LAMBDA_RUNTIME_API\": \"127.0.0.1:9001\"", "\"_HANDLER\": \"function.handler\"",
                    "\"LAMBDA_TASK_ROOT\": \"/var/task\"", "\"LAMBDA_RUNTIME_DIR\": \"/var/runtime\"",
                    "\"AWS_LAMBDA_FUNCTION_NAME\": \"fn-python3-11\"", "\"AWS_LAMBDA_FUNCTION_VERSION\": \"$LATEST\"",
                    "\"AWS_LAMBDA_FUNCTION_MEMORY_SIZE\": \"256\"", "\"AWS_LAMBDA_LOG_GROUP_NAME\": \"/aws/lambda/fn-python3-11\"",
                    "\"AWS_REGION\": \"us-east-1\"", "\"AWS_DEFAULT_REGION\": \"us-east-1\"", "\"TZ\": \":UTC\"",
                    "\"AWS_LAMBDA_INITIALIZATION_TYPE\": \"on-demand\"", "\"MY_VAR\": \"mine\"", "\"PWD\": \"/var/task\"", "\"HOME\": \"/tmp\"")
                    .containsPattern("\"AWS_LAMBDA_LOG_STREAM_NAME\": \"\\d{4}/\\d{2}/\\d{2}/\\[\\$LATEST\\][0-9a-f]{32}\"");
        } finally {
            t.worker.retire(h.sandboxId());
        }
    }
}

package dev.ignis.worker;

import static dev.ignis.worker.TestSandboxes.text;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Runtime API's state machine, driven by real curl inside real sandboxes. */
class RuntimeApiStateTest {
    static TestSandboxes t;

    @BeforeAll
    static void start() {
        t = new TestSandboxes();
    }

    @AfterAll
    static void stop() {
        t.close();
    }

    private static final String HEAD = """
            #!/bin/sh
            API="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
            while true; do
              curl -sS -o /tmp/event -D /tmp/headers "$API/invocation/next" || exit 3
              RID=$(grep -i '^lambda-runtime-aws-request-id:' /tmp/headers | cut -d' ' -f2 | tr -d '\\r')
              if [ -f /tmp/codes ]; then
                curl -sS -o /dev/null -X POST --data-binary @/tmp/codes "$API/invocation/$RID/response"; rm /tmp/codes; continue
              fi
            """;

    @Test
    void secondResponseIs403AndUnknownIdIs400() {
        SandboxHandle h = t.shell(HEAD + """
                  u=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x "$API/invocation/not-a-real-id/response")
                  a=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary first "$API/invocation/$RID/response")
                  b=$(curl -s -o /tmp/b2 -w '%{http_code}' -X POST -d again "$API/invocation/$RID/response")
                  echo "unknown=$u first=$a second=$b $(cat /tmp/b2)" > /tmp/codes
                done
                """, 256, 5);
        try {
            InvokeOutcome first = t.invoke(h, "{}");
            assertThat(first.status()).isEqualTo(InvokeOutcome.Status.SUCCESS);
            assertThat(text(first)).isEqualTo("first");
            InvokeOutcome codes = t.invoke(h, "{}");
            assertThat(text(codes)).startsWith("unknown=400 first=202 second=403 ").contains("\"errorType\":\"InvalidStateTransition\"");
        } finally {
            t.worker.retire(h.sandboxId());
        }
    }

    @Test
    void responseOverSixMegabytesIsResponseTooLargeAndTheSandboxCarriesOn() {
        SandboxHandle h = t.shell(HEAD + """
                  head -c 7000000 /dev/zero | tr '\\0' a > /tmp/big
                  c=$(curl -s -o /tmp/b -w '%{http_code}' -X POST --data-binary @/tmp/big "$API/invocation/$RID/response")
                  echo "code=$c $(cat /tmp/b)" > /tmp/codes
                done
                """, 256, 10);
        try {
            InvokeOutcome big = t.invoke(h, "{}");
            assertThat(big.status()).isEqualTo(InvokeOutcome.Status.RESPONSE_TOO_LARGE);
            assertThat(text(big)).contains("\"errorType\":\"Function.ResponseSizeTooLarge\"");
            assertThat(big.sandboxReusable()).isTrue();
            InvokeOutcome codes = t.invoke(h, "{}");
            assertThat(text(codes)).startsWith("code=413 ");
        } finally {
            t.worker.retire(h.sandboxId());
        }
    }

    @Test
    void chunkedResponseBodiesAndFunctionErrorsWithTheirType() {
        SandboxHandle h = t.shell(HEAD + """
                  if grep -q fail /tmp/event; then
                    curl -sS -o /dev/null -X POST -H 'Lambda-Runtime-Function-Error-Type: Custom.Boom' \\
                      --data-binary '{"errorMessage":"it broke","errorType":"Custom.Boom","stackTrace":[]}' "$API/invocation/$RID/error"
                  else
                    curl -sS -o /dev/null -X POST -H 'Transfer-Encoding: chunked' --data-binary @/tmp/event "$API/invocation/$RID/response"
                  fi
                done
                """, 256, 5);
        try {
            InvokeOutcome ok = t.invoke(h, "chunked body " + "x".repeat(100_000));
            assertThat(ok.status()).isEqualTo(InvokeOutcome.Status.SUCCESS);
            assertThat(text(ok)).isEqualTo("chunked body " + "x".repeat(100_000));
            InvokeOutcome err = t.invoke(h, "fail");
            assertThat(err.status()).isEqualTo(InvokeOutcome.Status.FUNCTION_ERROR);
            assertThat(text(err)).isEqualTo("{\"errorMessage\":\"it broke\",\"errorType\":\"Custom.Boom\",\"stackTrace\":[]}");
            assertThat(err.sandboxReusable()).isTrue();
            assertThat(text(t.invoke(h, "again"))).isEqualTo("again");
        } finally {
            t.worker.retire(h.sandboxId());
        }
    }
}

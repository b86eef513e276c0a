package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.frontend.InvokePath;
import dev.ignis.testfunctions.TestFunctions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.retries.DefaultRetryStrategy;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.TooManyRequestsException;

/**
 * Lambda's metrics, scraped from {@code /ignis-admin/metrics} after invokes whose outcomes the
 * client saw: the counters say exactly what happened; and the health probes.
 */
class MetricsIT extends PlatformTestBase {
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})? (\\S+)$");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    private LambdaClient noRetries;
    private final HttpClient http = HttpClient.newHttpClient();

    /** This class's platform also has the operator's port (--metrics-port 0: a free one). */
    @Override
    @BeforeAll
    void startPlatform() {
        platform = Platform.start(TestPlatform.config(dir, Duration.ofMinutes(5)).withMetricsPort(0));
        key = platform.config().createAccount("alice");
        lambda = TestPlatform.client(platform.port(), key.accessKeyId(), key.secretAccessKey());
        functions();
    }

    private void functions() {
        // a client that does not retry a 429: every throttle the platform counts is one the test saw
        noRetries = LambdaClient.builder().endpointOverride(URI.create("http://127.0.0.1:" + platform.port()))
                .region(software.amazon.awssdk.regions.Region.US_EAST_1)
                .httpClient(software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient.builder()
                        .socketTimeout(Duration.ofSeconds(60)).build())
                .overrideConfiguration(c -> c.retryStrategy(DefaultRetryStrategy.doNotRetry()).apiCallTimeout(Duration.ofSeconds(90)))
                .credentialsProvider(software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
                        software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create(key.accessKeyId(), key.secretAccessKey())))
                .build();
        for (String[] f : new String[][] {{"ok", "echo.handler"}, {"bad", "errors.handler"}, {"closed", "echo.handler"},
                {"one", "sleep.handler"}, {"queued", "echo.handler"}, {"lambda_invocations_total", "echo.handler"}, {"scraped", "echo.handler"},
                {"retiring", "echo.handler"}, {"overtime", "sleep.handler"}}) {
            lambda.createFunction(b -> b.functionName(f[0]).runtime("python3.11").handler(f[1]).role(TestPlatform.ROLE).timeout(30)
                    .code(c -> c.zipFile(SdkBytes.fromByteArray(TestFunctions.zip("python-handlers")))));
        }
        lambda.updateFunctionConfiguration(b -> b.functionName("overtime").timeout(1));
        lambda.putFunctionConcurrency(b -> b.functionName("closed").reservedConcurrentExecutions(0));
        lambda.putFunctionConcurrency(b -> b.functionName("one").reservedConcurrentExecutions(1));
    }

    @AfterAll
    void closeClient() {
        noRetries.close();
    }

    @Test
    void invocationsErrorsThrottlesAndDurationsSayWhatTheClientsSaw() throws Exception {
        int n = 5;
        int m = 3;
        int k = 4;
        int coldOk = 0;
        int coldBad = 0;
        for (int i = 0; i < n; i++) {
            InvokeResponse r = noRetries.invoke(b -> b.functionName("ok").payload(SdkBytes.fromUtf8String("{}")));
            assertThat(r.functionError()).isNull();
            coldOk += cold(r);
        }
        for (int i = 0; i < m; i++) {
            InvokeResponse r = noRetries.invoke(b -> b.functionName("bad").payload(SdkBytes.fromUtf8String("{}")));
            assertThat(r.functionError()).isEqualTo("Unhandled");
            coldBad += cold(r);
        }
        for (int i = 0; i < k; i++) {
            assertThatThrownBy(() -> noRetries.invoke(b -> b.functionName("closed"))).isInstanceOf(TooManyRequestsException.class);
        }
        // reserved concurrency 1 and three invokes at once: each either ran or was throttled, and the counters agree
        int ranOne = 0;
        int throttledOne = 0;
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Boolean>> calls = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                calls.add(pool.submit((Callable<Boolean>) () -> {
                    try {
                        noRetries.invoke(b -> b.functionName("one").payload(SdkBytes.fromUtf8String("{\"ms\": 1500}")));
                        return true;
                    } catch (TooManyRequestsException e) {
                        return false;
                    }
                }));
            }
            for (var c : calls) {
                if (c.get()) {
                    ranOne++;
                } else {
                    throttledOne++;
                }
            }
        }
        assertThat(throttledOne).isPositive();

        String text = scrape();
        assertThat(value(text, "lambda_invocations_total", Map.of("function", "ok", "version", "$LATEST"))).isEqualTo(n);
        assertThat(value(text, "lambda_errors_total", Map.of("function", "ok"))).isZero();
        assertThat(value(text, "lambda_invocations_total", Map.of("function", "bad"))).isEqualTo(m);
        assertThat(value(text, "lambda_errors_total", Map.of("function", "bad"))).isEqualTo(m);
        assertThat(value(text, "lambda_throttles_total", Map.of("function", "closed"))).isEqualTo(k);
        assertThat(value(text, "lambda_invocations_total", Map.of("function", "closed"))).isZero();
        assertThat(value(text, "lambda_throttles_total", Map.of("function", "one"))).isEqualTo(throttledOne);
        assertThat(value(text, "lambda_invocations_total", Map.of("function", "one"))).isEqualTo(ranOne);
        // Duration is recorded for every invoke that ran, cold and warm apart as the Init Duration header told the client
        assertThat(value(text, "lambda_duration_seconds_count", Map.of("function", "ok", "start", "cold"))).isEqualTo(coldOk);
        assertThat(value(text, "lambda_duration_seconds_count", Map.of("function", "ok", "start", "warm"))).isEqualTo(n - coldOk);
        assertThat(value(text, "lambda_duration_seconds_count", Map.of("function", "bad", "start", "cold"))).isEqualTo(coldBad);
        assertThat(value(text, "lambda_duration_seconds_count", Map.of("function", "bad"))).isEqualTo(m);
        assertThat(value(text, "lambda_init_duration_seconds_count", Map.of("function", "ok"))).isEqualTo(coldOk);
        assertThat(coldOk).isEqualTo(1);
        // a 1.5 s sleep lands in the buckets above 1 s only
        assertThat(value(text, "lambda_duration_seconds_bucket", Map.of("function", "one", "le", "1.0"))).isZero();
        assertThat(value(text, "lambda_duration_seconds_bucket", Map.of("function", "one", "le", "2.5"))).isEqualTo(ranOne);
        // per account: the sum over the account's functions; nothing runs now
        assertThat(value(text, "lambda_invocations_total", Map.of("account", key.accountId()))).isGreaterThanOrEqualTo(n + m + ranOne);
        assertThat(value(text, "lambda_account_concurrent_executions", Map.of("account", key.accountId()))).isZero();
        assertThat(value(text, "lambda_unreserved_concurrent_executions", Map.of("account", key.accountId()))).isZero();
        assertThat(value(text, "lambda_concurrent_executions", Map.of("function", "one"))).isZero();
    }

    @Test
    void aFunctionNamedLikeAMetricIsOnlyALabelValue() throws Exception {
        noRetries.invoke(b -> b.functionName("lambda_invocations_total"));
        String text = scrape();
        for (String line : text.split("\n")) {
            if (!line.isEmpty() && !line.startsWith("#")) {
                assertThat(line).matches(SAMPLE);
            }
        }
        assertThat(value(text, "lambda_invocations_total", Map.of("function", "lambda_invocations_total"))).isEqualTo(1);
    }

    @Test
    void eventInvokesCountAsReceivedAndTheirAgeIsRecorded() throws Exception {
        var r = noRetries.invoke(b -> b.functionName("queued").invocationType(InvocationType.EVENT).payload(SdkBytes.fromUtf8String("{}")));
        assertThat(r.statusCode()).isEqualTo(202);
        Instant deadline = Instant.now().plusSeconds(60);
        String text = scrape();
        while (value(text, "lambda_invocations_total", Map.of("function", "queued")) < 1 && Instant.now().isBefore(deadline)) {
            Thread.sleep(100);
            text = scrape();
        }
        assertThat(value(text, "lambda_async_events_received_total", Map.of("function", "queued"))).isEqualTo(1);
        assertThat(value(text, "lambda_async_event_age_seconds_count", Map.of("function", "queued"))).isEqualTo(1);
        assertThat(value(text, "lambda_invocations_total", Map.of("function", "queued"))).isEqualTo(1);
        assertThat(text).contains("lambda_async_events_dropped_total");
    }

    @Test
    void healthProbesAnswerWithoutCredentialsAndRevealNothing() throws Exception {
        var healthz = get("/healthz", null);
        assertThat(healthz.statusCode()).isEqualTo(200);
        assertThat(healthz.body()).isEqualTo("{\"status\":\"ok\"}");
        var readyz = get("/readyz", null);
        assertThat(readyz.statusCode()).isEqualTo(200);
        assertThat(readyz.body()).startsWith("{\"status\":\"ready\"").contains("\"config journal leader known\":\"ok\"",
                "\"worker can reach its directories\":\"ok\"", "\"runtimes installed\":\"ok\"")
                .doesNotContain(key.accountId(), dir.toString(), "127.0.0.1");
        // only GET and HEAD are probes: anything else is an unsigned Lambda request
        var post = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + platform.port() + "/readyz"))
                .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(403);
        assertThat(get("/ignis-admin/metrics", null).statusCode()).isEqualTo(403);
    }

    @Test
    void theOperatorsPortServesMetricsWithoutATokenAndNothingElse() throws Exception {
        noRetries.invoke(b -> b.functionName("scraped"));
        String base = "http://" + OpsListener.HOST + ":" + platform.metricsPort();
        var metrics = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(value(metrics.body(), "lambda_invocations_total", Map.of("function", "scraped"))).isEqualTo(1);
        assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/readyz")).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode()).isEqualTo(200);
        for (var r : List.of(HttpRequest.newBuilder(URI.create(base + "/ignis-admin/metrics")).build(),
                HttpRequest.newBuilder(URI.create(base + "/2015-03-31/functions")).build(),
                HttpRequest.newBuilder(URI.create(base + "/metrics")).POST(HttpRequest.BodyPublishers.ofString("{}")).build())) {
            assertThat(http.send(r, HttpResponse.BodyHandlers.ofString()).statusCode()).as(r.toString()).isEqualTo(404);
        }
    }

    @Test
    void sandboxesPerWorkerAndStateAndRetirementsByCause() throws Exception {
        String before = scrape();
        noRetries.invoke(b -> b.functionName("retiring"));
        String worker = PlatformConfig.workerIdFor(dir);
        String text = scrape();
        assertThat(value(text, "ignis_sandboxes", Map.of("worker", worker, "state", "idle"))).isPositive();
        assertThat(value(text, "ignis_sandboxes", Map.of("state", "busy"))).isZero();
        // a new revision retires the old one's idle sandbox; a timeout retires its sandbox as not reusable
        lambda.updateFunctionConfiguration(b -> b.functionName("retiring").description("new revision"));
        Instant deadline = Instant.now().plusSeconds(30);
        while (retired(text, "stale-revision") == retired(before, "stale-revision") && Instant.now().isBefore(deadline)) {
            Thread.sleep(50);
            text = scrape();
        }
        assertThat(retired(text, "stale-revision")).isEqualTo(retired(before, "stale-revision") + 1);
        var timedOut = noRetries.invoke(b -> b.functionName("overtime").payload(SdkBytes.fromUtf8String("{\"ms\": 3000}")));
        assertThat(timedOut.functionError()).isEqualTo("Unhandled");
        text = scrape();
        assertThat(retired(text, "not-reusable")).isEqualTo(retired(before, "not-reusable") + 1);
        assertThat(retired(text, "keep-alive")).isZero();
    }

    private static double retired(String text, String cause) {
        return value(text, "ignis_sandboxes_retirements_total", Map.of("cause", cause));
    }

    private static int cold(InvokeResponse r) {
        return r.sdkHttpResponse().firstMatchingHeader(InvokePath.INIT_DURATION_HEADER).isPresent() ? 1 : 0;
    }

    private String scrape() throws Exception {
        var r = get("/ignis-admin/metrics", "Bearer " + Files.readString(dir.resolve("admin.token")).trim());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    private HttpResponse<String> get(String path, String auth) throws Exception {
        var b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + platform.port() + path));
        if (auth != null) {
            b.header("Authorization", auth);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The sum of a metric's samples whose labels include every given one. */
    static double value(String text, String name, Map<String, String> labels) {
        double sum = 0;
        for (String line : text.split("\n")) {
            Matcher s = SAMPLE.matcher(line);
            if (line.startsWith("#") || !s.matches() || !s.group(1).equals(name)) {
                continue;
            }
            Map<String, String> have = new java.util.HashMap<>();
            if (s.group(3) != null) {
                Matcher l = LABEL.matcher(s.group(3));
                while (l.find()) {
                    have.put(l.group(1), l.group(2));
                }
            }
            if (have.entrySet().containsAll(labels.entrySet())) {
                sum += Double.parseDouble(s.group(4));
            }
        }
        return sum;
    }
}

package dev.ignis.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ignis.assignment.SandboxKey;
import dev.ignis.common.Json;
import dev.ignis.common.LambdaException;
import dev.ignis.config.CodeStore;
import dev.ignis.config.ConfigStore;
import dev.ignis.config.SecretSealer;
import dev.ignis.frontend.console.Console;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The console's gate (token, session cookie), its headers, and the numbers its latency picture is drawn from. */
class ConsoleTest {
    private static final String TOKEN = "0123456789abcdef0123456789abcdef";
    @TempDir Path dir;
    private ConfigStore config;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-03T08:00:00Z"));
    private final List<String> delegated = new ArrayList<>();
    private Console console;

    /** A clock the test moves. */
    static final class MutableClock extends Clock {
        Instant now;

        MutableClock(Instant now) {
            this.now = now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    @BeforeEach
    void start() {
        config = new ConfigStore(sm -> new DirectJournal(sm), new CodeStore(dir), SecretSealer.open(dir), Set.of("python3.11"), Clock.systemUTC());
        var admin = new LambdaApi.AdminHandler() {
            @Override
            public void authorize(ApiRequest head) {
                delegated.add("authorize " + head.rawPath());
            }

            @Override
            public ApiResponse handle(ApiRequest request) {
                delegated.add("handle " + request.rawPath());
                return ApiResponse.empty(204);
            }
        };
        console = new Console(admin, TOKEN, new Console.Sources(config, registry, null, dir), clock);
    }

    @AfterEach
    void stop() {
        config.close();
    }

    private static ApiRequest request(String method, String path, String query, Map<String, String> headers, String body) {
        Map<String, List<String>> h = new LinkedHashMap<>();
        headers.forEach((k, v) -> h.put(k, List.of(v)));
        return new ApiRequest(method, path, query, h, body.getBytes(StandardCharsets.UTF_8));
    }

    private ApiResponse get(String path, Map<String, String> headers) {
        var r = request("GET", path, null, headers, "");
        console.authorize(r);
        return console.handle(r);
    }

    private String signIn() {
        ApiResponse r = console.handle(request("POST", "/ignis-admin/console/signin", null,
                Map.of("content-type", "application/x-www-form-urlencoded"), "token=" + TOKEN));
        assertThat(r.status()).isEqualTo(303);
        assertThat(r.headers().get("Location")).isEqualTo("/ignis-admin/console/");
        String setCookie = r.headers().get("Set-Cookie");
        assertThat(setCookie).contains("HttpOnly", "SameSite=Strict", "Path=/ignis-admin/console").doesNotContain(TOKEN);
        return setCookie.substring(0, setCookie.indexOf(';'));
    }

    /** What a signed-in console page sends with its data requests: the session cookie and the page's token. */
    private Map<String, String> session() {
        String cookie = signIn();
        ApiResponse page = get("/ignis-admin/console/", Map.of("cookie", cookie, "sec-fetch-dest", "document"));
        assertThat(page.status()).isEqualTo(200);
        var m = java.util.regex.Pattern.compile("<meta name=\"ignis-console-token\" content=\"([A-Za-z0-9_-]+)\">")
                .matcher(new String(page.body(), StandardCharsets.UTF_8));
        assertThat(m.find()).isTrue();
        return Map.of("cookie", cookie, "x-ignis-console", m.group(1));
    }

    @Test
    void withoutTheTokenPagesSendToSignInAndDataIsRefused() {
        ApiResponse page = get("/ignis-admin/console/", Map.of());
        assertThat(page.status()).isEqualTo(303);
        assertThat(page.headers().get("Location")).isEqualTo("/ignis-admin/console/signin");
        assertThatThrownBy(() -> get("/ignis-admin/console/api/functions", Map.of()))
                .isInstanceOfSatisfying(LambdaException.class, e -> assertThat(e.status()).isEqualTo(403));
        assertThatThrownBy(() -> get("/ignis-admin/console/api/functions", Map.of("authorization", "Bearer wrong")))
                .isInstanceOf(LambdaException.class);
        assertThatThrownBy(() -> get("/ignis-admin/console/api/functions", Map.of("cookie", "ignis_console=4102444800.forged")))
                .isInstanceOf(LambdaException.class);
        // handle() alone (no authorize first) refuses too
        assertThat(console.handle(request("GET", "/ignis-admin/console/api/sandboxes", null, Map.of(), "")).status()).isEqualTo(403);
        assertThat(get("/ignis-admin/console/api/functions", Map.of("authorization", "Bearer " + TOKEN)).status()).isEqualTo(200);
        assertThat(delegated).isEmpty();
    }

    @Test
    void aWrongTokenGetsTheFormAgainAndNoCookie() {
        ApiResponse r = console.handle(request("POST", "/ignis-admin/console/signin", null, Map.of(), "token=" + TOKEN.replace('0', '1')));
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.headers()).doesNotContainKey("Set-Cookie");
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).contains("not this node's admin token");
        assertThat(console.handle(request("POST", "/ignis-admin/console/signin", null, Map.of(), "")).status()).isEqualTo(403);
    }

    @Test
    void theSessionCookieOpensTheConsoleUntilItExpires() {
        Map<String, String> session = session();
        String cookie = session.get("cookie");
        assertThat(get("/ignis-admin/console/", Map.of("cookie", "other=1; " + cookie, "sec-fetch-dest", "document")).status())
                .isEqualTo(200);
        assertThat(get("/ignis-admin/console/api/functions", session).status()).isEqualTo(200);
        // a later expiry with the same MAC, or a session of another token, is refused
        String value = cookie.substring(cookie.indexOf('=') + 1);
        long expiry = Long.parseLong(value.substring(0, value.indexOf('.')));
        String moved = "ignis_console=" + (expiry + 3600) + value.substring(value.indexOf('.'));
        assertThatThrownBy(() -> get("/ignis-admin/console/api/functions", Map.of("cookie", moved))).isInstanceOf(LambdaException.class);
        var other = new Console(null, TOKEN + "x", new Console.Sources(config, registry, null, dir), clock);
        var r = request("GET", "/ignis-admin/console/api/functions", null, session, "");
        assertThatThrownBy(() -> other.authorize(r)).isInstanceOf(LambdaException.class);
        clock.now = clock.now.plus(Duration.ofHours(8)).plusSeconds(1);
        assertThatThrownBy(() -> get("/ignis-admin/console/api/functions", session)).isInstanceOf(LambdaException.class);
        assertThat(get("/ignis-admin/console/", Map.of("cookie", cookie, "sec-fetch-dest", "document")).status()).isEqualTo(303);
    }

    @Test
    void anotherPageOfThisOriginHasTheCookieButNotThePagesToken() {
        Map<String, String> session = session();
        String cookie = session.get("cookie");
        // a script's fetch sends the cookie, but neither gets the data nor the page that holds the token
        assertThatThrownBy(() -> get("/ignis-admin/console/api/functions", Map.of("cookie", cookie)))
                .isInstanceOfSatisfying(LambdaException.class, e -> assertThat(e.status()).isEqualTo(403));
        assertThatThrownBy(() -> get("/ignis-admin/console/api/functions", Map.of("cookie", cookie, "x-ignis-console", "guess")))
                .isInstanceOf(LambdaException.class);
        assertThat(get("/ignis-admin/console/", Map.of("cookie", cookie, "sec-fetch-dest", "empty")).status()).isEqualTo(403);
        assertThat(get("/ignis-admin/console/", Map.of("cookie", cookie)).status()).isEqualTo(403);
        // another session's page token does not fit this session
        clock.now = clock.now.plusSeconds(5);
        Map<String, String> later = session();
        assertThat(later.get("x-ignis-console")).isNotEqualTo(session.get("x-ignis-console"));
        assertThatThrownBy(() -> get("/ignis-admin/console/api/functions", Map.of("cookie", cookie, "x-ignis-console",
                later.get("x-ignis-console")))).isInstanceOf(LambdaException.class);
        assertThat(get("/ignis-admin/console/", Map.of("cookie", cookie, "sec-fetch-dest", "document")).headers())
                .containsEntry("Cross-Origin-Opener-Policy", "same-origin");
    }

    @Test
    void everyAnswerCarriesAStrictContentSecurityPolicy() {
        Map<String, String> session = session();
        List<ApiResponse> answers = List.of(get("/ignis-admin/console/", Map.of()), get("/ignis-admin/console/signin", Map.of()),
                get("/ignis-admin/console/assets/console.js", Map.of()), get("/ignis-admin/console/assets/console.css", Map.of()),
                get("/ignis-admin/console/", Map.of("cookie", session.get("cookie"), "sec-fetch-dest", "document")),
                get("/ignis-admin/console/api/latency", session),
                get("/ignis-admin/console/nothing-here", session));
        for (ApiResponse a : answers) {
            String csp = a.headers().get("Content-Security-Policy");
            assertThat(csp).contains("default-src 'none'", "script-src 'self'", "frame-ancestors 'none'").doesNotContain("unsafe");
            assertThat(a.headers()).containsEntry("X-Content-Type-Options", "nosniff");
        }
        assertThat(answers.get(2).headers().get("Content-Type")).startsWith("text/javascript");
        assertThat(new String(answers.get(2).body(), StandardCharsets.UTF_8)).doesNotContain("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(");
        assertThat(answers.getLast().status()).isEqualTo(404);
    }

    @Test
    void itIsReadOnlyAndTheOtherAdminPathsGoToTheAdminEndpoint() {
        var post = request("POST", "/ignis-admin/console/api/functions", null, session(), "{}");
        console.authorize(post);
        assertThat(console.handle(post).status()).isEqualTo(405);
        var metrics = request("GET", "/ignis-admin/metrics", null, Map.of(), "");
        console.authorize(metrics);
        assertThat(console.handle(metrics).status()).isEqualTo(204);
        // a path that merely starts like the console's is not the console's
        console.handle(request("GET", "/ignis-admin/consoleX", null, Map.of(), ""));
        assertThat(delegated).containsExactly("authorize /ignis-admin/metrics", "handle /ignis-admin/metrics", "handle /ignis-admin/consoleX");
    }

    @Test
    void aFunctionsPageRefusesNamesThatAreNotFunctionNames() throws Exception {
        Map<String, String> session = session();
        ApiResponse r = console.handle(request("GET", "/ignis-admin/console/api/function", "account=..%2F..&name=x", session, ""));
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.headers().get("x-amzn-ErrorType")).isEqualTo("InvalidParameterValueException");
        r = console.handle(request("GET", "/ignis-admin/console/api/function", "account=123456789012&name=..", session, ""));
        assertThat(r.status()).isEqualTo(400);
        r = console.handle(request("GET", "/ignis-admin/console/api/function", "account=123456789012&name=absent", session, ""));
        assertThat(r.status()).isEqualTo(404);
    }

    @Test
    void theLatencyPictureCountsEachInvokeInItsBucketWarmAndColdApart() throws Exception {
        var metrics = new InvokeMetrics(registry, 10, fn -> 0, a -> 0, a -> 0);
        var key = new SandboxKey("111111111111", "fn", "$LATEST", "r1");
        var m = metrics.of(key);
        for (int i = 0; i < 90; i++) {
            metrics.ran(m, Duration.ofNanos(300_000), null, false); // 0.3 ms: the (0.25, 0.5] bucket
        }
        for (int i = 0; i < 10; i++) {
            metrics.ran(m, Duration.ofMillis(7), null, i % 2 == 0); // the (5, 10] bucket
        }
        metrics.ran(m, Duration.ofMillis(400), Duration.ofMillis(350), false);
        metrics.ran(metrics.of(new SandboxKey("111111111111", "other", "$LATEST", "r1")), Duration.ofMillis(20), null, false);
        Map<String, String> session = session();
        JsonNode one = Json.mapper().readTree(get("/ignis-admin/console/api/latency", session).body());
        assertThat(one.get("warm").get("count").asLong()).isEqualTo(101);
        assertThat(one.get("cold").get("count").asLong()).isEqualTo(1);
        var r = request("GET", "/ignis-admin/console/api/latency", "account=111111111111&name=fn", session, "");
        JsonNode fn = Json.mapper().readTree(console.handle(r).body());
        List<Double> bounds = new ArrayList<>();
        fn.get("boundsMs").forEach(b -> bounds.add(b.asDouble()));
        assertThat(bounds.subList(0, 5)).containsExactly(0.1, 0.25, 0.5, 1.0, 2.0);
        JsonNode warm = fn.get("warm");
        assertThat(warm.get("count").asLong()).isEqualTo(100);
        assertThat(warm.get("counts").get(bounds.indexOf(0.5)).asLong()).isEqualTo(90);
        assertThat(warm.get("counts").get(bounds.indexOf(10.0)).asLong()).isEqualTo(10);
        long sum = 0;
        for (JsonNode c : warm.get("counts")) {
            sum += c.asLong();
        }
        assertThat(sum).isEqualTo(100);
        // p50: rank 50 of 90 in (0.25, 0.5]; p99: rank 99, the 9th of 10 in (5, 10]
        assertThat(warm.get("p50Ms").asDouble()).isCloseTo(0.25 + 0.25 * 50 / 90, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(warm.get("p99Ms").asDouble()).isCloseTo(5 + 5 * 9 / 10.0, org.assertj.core.data.Offset.offset(1e-9));
        JsonNode cold = fn.get("cold");
        assertThat(cold.get("counts").get(bounds.indexOf(500.0)).asLong()).isEqualTo(1);
    }
}

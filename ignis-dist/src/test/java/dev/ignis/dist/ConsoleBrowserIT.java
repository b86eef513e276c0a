package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ignis.common.Json;
import dev.ignis.frontend.InvokePath;
import dev.ignis.testfunctions.TestFunctions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.TooManyRequestsException;

/**
 * The operator's console in a real headless Chromium ({@link HeadlessChromium}) against a running
 * platform: sign in with the admin token, see the functions with the counts the clients saw move
 * live, a hostile function's description, environment and log lines shown as text (no markup, no
 * script ran), sandboxes per worker, the latency picture's warm and cold counts as the invokes'
 * {@code X-Ignis-Init-Duration} said; the Content-Security-Policy enforced by the browser; and no
 * console without the token. Screenshots go to {@code target/console-screenshots/}.
 *
 * <p>In the {@code browser} profile ({@code ./mvnw verify -Pbrowser}): it needs Debian's chromium.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleBrowserIT extends PlatformTestBase {
    /** A payload that runs script wherever it is parsed as HTML. */
    private static final String XSS = "<img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script>";
    private static final Path SCREENSHOTS = Path.of("target/console-screenshots");
    @TempDir static Path browserProfile;
    private HeadlessChromium browser;
    private String console;
    private String token;
    private final HttpClient http = HttpClient.newHttpClient();
    private int ran;
    private int cold;

    @BeforeAll
    void deployInvokeAndOpenTheBrowser() throws Exception {
        token = Files.readString(dir.resolve("admin.token")).strip();
        console = "http://127.0.0.1:" + platform.port() + "/ignis-admin/console/";
        byte[] zip = TestFunctions.zip("python-handlers");
        for (String[] f : new String[][] {{"hello", "echo.handler"}, {"failing", "errors.handler"}, {"closed", "echo.handler"},
                {"hostile", "logs.handler"}}) {
            lambda.createFunction(b -> b.functionName(f[0]).runtime("python3.11").handler(f[1]).role(TestPlatform.ROLE).timeout(30)
                    .code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
        }
        lambda.updateFunctionConfiguration(b -> b.functionName("hostile").description(XSS)
                .environment(e -> e.variables(Map.of("PAYLOAD", XSS))));
        lambda.putFunctionConcurrency(b -> b.functionName("closed").reservedConcurrentExecutions(0));
        invoke("hello", "{}", 3);
        invoke("failing", "{}", 2);
        for (int i = 0; i < 2; i++) {
            assertThatThrownBy(() -> lambda.invoke(b -> b.functionName("closed"))).isInstanceOf(TooManyRequestsException.class);
        }
        invoke("hostile", Json.mapper().writeValueAsString(Map.of("tag", XSS)), 1);
        browser = new HeadlessChromium(browserProfile);
    }

    private void invoke(String function, String payload, int times) {
        for (int i = 0; i < times; i++) {
            InvokeResponse r = lambda.invoke(b -> b.functionName(function).payload(SdkBytes.fromUtf8String(payload)));
            ran++;
            cold += r.sdkHttpResponse().firstMatchingHeader(InvokePath.INIT_DURATION_HEADER).isPresent() ? 1 : 0;
        }
    }

    @AfterAll
    void closeBrowser() throws Exception {
        if (browser != null) {
            browser.close();
        }
    }

    private void signIn() throws Exception {
        browser.navigate(console);
        assertThat(browser.eval("location.pathname").asText()).isEqualTo("/ignis-admin/console/signin");
        browser.eval("document.getElementById('token').value = " + Json.mapper().writeValueAsString(token)
                + "; window.__ignisOldPage = true; document.querySelector('form').submit(); true");
        browser.awaitNewPage();
        assertThat(browser.eval("location.pathname").asText()).isEqualTo("/ignis-admin/console/");
    }

    private List<String> row(String selector) throws Exception {
        JsonNode cells = browser.waitFor("[...document.querySelectorAll(" + Json.mapper().writeValueAsString(selector + " td")
                + ")].map(td => td.textContent)", v -> v.isArray() && !v.isEmpty());
        List<String> out = new ArrayList<>();
        cells.forEach(c -> out.add(c.asText()));
        return out;
    }

    @Test
    @Order(1)
    @Timeout(60)
    void signedInTheFunctionsShowWhatTheClientsSawAndMoveLive() throws Exception {
        signIn();
        String account = key.accountId();
        String table = "#functions-" + account;
        // Function, Runtime, Memory, Last modified, Invocations, Errors, Throttles, p50, p99
        List<String> hello = row(table + " tr[data-function=hello]");
        assertThat(hello.subList(0, 3)).containsExactly("hello", "python3.11", "128");
        assertThat(hello.subList(4, 7)).containsExactly("3", "0", "0");
        assertThat(hello.get(7)).endsWith("ms");
        assertThat(row(table + " tr[data-function=failing]").subList(4, 7)).containsExactly("2", "2", "0");
        assertThat(row(table + " tr[data-function=closed]").subList(4, 9)).containsExactly("0", "0", "2", "–", "–");
        browser.screenshot(SCREENSHOTS.resolve("functions.png"));
        // the page refreshes itself: two more invokes show up without a reload
        invoke("hello", "{}", 2);
        browser.waitFor("document.querySelector('" + table + " tr[data-function=hello] td:nth-child(5)').textContent", v -> v.asText().equals("5"));
    }

    @Test
    @Order(2)
    @Timeout(60)
    void aHostileFunctionsStringsAreShownAsTextAndNoScriptRuns() throws Exception {
        browser.navigate(console + "#/function/" + key.accountId() + "/hostile");
        JsonNode logs = browser.waitFor("document.getElementById('logs') && document.getElementById('logs').textContent",
                v -> v.asText().contains("stdout line"));
        assertThat(logs.asText()).contains("stdout line " + XSS, "stderr line " + XSS, "START RequestId", "REPORT RequestId");
        assertThat(row("#configuration tr:nth-child(3)")).containsExactly(XSS); // Description
        assertThat(row("#environment tr")).containsExactly(XSS);
        assertThat(browser.eval("document.querySelectorAll('#view img, #view script').length").asInt()).isZero();
        assertThat(browser.eval("window.__xss === undefined").asBoolean()).isTrue();
        assertThat(row("#metrics tr:nth-child(1)")).containsExactly("1");
        browser.screenshot(SCREENSHOTS.resolve("function.png"));
    }

    @Test
    @Order(3)
    @Timeout(60)
    void sandboxesPerWorkerAreTheSandboxTables() throws Exception {
        browser.navigate(console + "#/sandboxes");
        String worker = PlatformConfig.workerIdFor(dir);
        List<String> cells = row("#sandboxes tr[data-worker='" + worker + "']");
        JsonNode table = Json.mapper().readTree(api("sandboxes", "Bearer " + token).body()).get("workers").get(worker);
        JsonNode headers = browser.eval("[...document.querySelectorAll('#sandboxes th')].map(th => th.textContent)");
        int live = 0;
        for (int i = 1; i < headers.size(); i++) {
            assertThat(cells.get(i)).isEqualTo(String.valueOf(table.path(headers.get(i).asText()).asInt()));
            live += Integer.parseInt(cells.get(i));
        }
        assertThat(live).isBetween(1, 3); // hello, failing and hostile each left a sandbox (handled errors keep theirs)
        browser.screenshot(SCREENSHOTS.resolve("sandboxes.png"));
    }

    @Test
    @Order(4)
    @Timeout(60)
    void theLatencyPictureCountsWarmAndColdInvokesAsTheirHeadersSaid() throws Exception {
        invoke("hello", "{}", 150); // enough warm invokes for a picture with a shape
        browser.navigate(console + "#/latency");
        JsonNode warm = browser.waitFor("document.getElementById('legend-warm') && document.getElementById('legend-warm').textContent",
                v -> v.asText().startsWith("warm: "));
        assertThat(warm.asText()).startsWith("warm: " + (ran - cold) + " invokes, p50 ");
        assertThat(browser.eval("document.getElementById('legend-cold').textContent").asText()).startsWith("cold: " + cold + " invokes");
        assertThat(cold).isPositive();
        JsonNode bars = browser.eval("[...document.querySelectorAll('#latency-chart rect')].map(r => [r.dataset.start, +r.dataset.count])");
        int warmBars = 0;
        int coldBars = 0;
        for (JsonNode b : bars) {
            if (b.get(0).asText().equals("warm")) {
                warmBars += b.get(1).asInt();
            } else {
                coldBars += b.get(1).asInt();
            }
        }
        assertThat(warmBars).isEqualTo(ran - cold);
        assertThat(coldBars).isEqualTo(cold);
        browser.screenshot(SCREENSHOTS.resolve("latency.png"));
    }

    @Test
    @Order(5)
    @Timeout(60)
    void aScriptOfAnotherPageOfThisOriginGetsNeitherTheDataNorThePage() throws Exception {
        // as a function URL's answer on the /lambda-url/ path would be: same origin, the cookie goes with its requests
        browser.navigate("http://127.0.0.1:" + platform.port() + "/healthz");
        assertThat(browser.eval("fetch('/ignis-admin/console/api/functions').then(r => r.status)").asInt()).isEqualTo(403);
        assertThat(browser.eval("fetch('/ignis-admin/console/').then(r => r.status)").asInt()).isEqualTo(403);
        assertThat(browser.eval("fetch('/ignis-admin/console/api/functions', {headers: {'X-Ignis-Console': 'guess'}}).then(r => r.status)")
                .asInt()).isEqualTo(403);
        // while the console itself, opened by the browser, still reads them
        browser.navigate(console + "#/functions");
        row("#functions-" + key.accountId() + " tr[data-function=hello]");
    }

    @Test
    @Order(6)
    @Timeout(60)
    void theBrowserEnforcesTheContentSecurityPolicy() throws Exception {
        browser.navigate(console + "#/functions");
        browser.eval("const s = document.createElement('script'); s.textContent = 'window.__inline = 1'; document.body.appendChild(s); true");
        assertThat(browser.eval("window.__inline === undefined").asBoolean()).isTrue();
        browser.waitFor("true", v -> browser.reports.stream().anyMatch(r -> r.contains("Content Security Policy")));
    }

    @Test
    @Order(7)
    @Timeout(60)
    void withoutTheTokenThereIsNoConsole() throws Exception {
        browser.send("Network.clearBrowserCookies", Map.of());
        browser.navigate("about:blank");
        browser.navigate(console + "#/functions");
        assertThat(browser.eval("location.pathname").asText()).isEqualTo("/ignis-admin/console/signin");
        assertThat(browser.eval("fetch('/ignis-admin/console/api/functions').then(r => r.status)").asInt()).isEqualTo(403);
        browser.eval("document.getElementById('token').value = 'not-the-token'; window.__ignisOldPage = true; "
                + "document.querySelector('form').submit(); true");
        browser.awaitNewPage();
        assertThat(browser.eval("document.querySelector('[role=alert]').textContent").asText()).contains("not this node's admin token");
        assertThat(browser.eval("fetch('/ignis-admin/console/api/functions').then(r => r.status)").asInt()).isEqualTo(403);
        // a tenant's credentials are not the admin token
        assertThat(api("functions", "AWS4-HMAC-SHA256 Credential=" + key.accessKeyId() + "/20261203/us-east-1/lambda/aws4_request").statusCode())
                .isEqualTo(403);
        assertThat(api("functions", "Bearer " + key.secretAccessKey()).statusCode()).isEqualTo(403);
    }

    private HttpResponse<String> api(String path, String authorization) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(console + "api/" + path)).header("Authorization", authorization).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}

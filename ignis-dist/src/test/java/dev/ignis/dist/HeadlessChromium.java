package dev.ignis.dist;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ignis.common.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Debian's {@code chromium}, headless, driven over the Chrome DevTools Protocol (a WebSocket; the JDK's
 * own client): nothing is downloaded at run time and no driver binary sits between the test and the browser.
 * One page (a target attached in flat mode); every wait is bounded. Console messages, exceptions and
 * CSP violations the page reports are collected, so a test can say none happened.
 *
 * <p>Chromium refuses to start as root with its own sandbox, and the tests run as root: then it runs
 * with {@code --no-sandbox}. It loads only the platform's own pages on loopback.
 */
final class HeadlessChromium implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(20);
    /**
     * How long the browser may take to start: a first start with a new profile took over 20 s once on a loaded CI
     * box (its output then held only the launcher's first line); the start is not what these tests judge.
     */
    static final Duration START = Duration.ofSeconds(90);
    private final Process process;
    private final Path profile;
    private final WebSocket socket;
    private final String session;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    /** What the page printed or threw, and CSP violations ("log: ..."), in order. */
    final List<String> reports = Collections.synchronizedList(new ArrayList<>());

    /** The browser's path: {@code IGNIS_CHROMIUM}, else {@code /usr/bin/chromium} (Debian's package). */
    static Path binary() {
        String env = System.getenv("IGNIS_CHROMIUM");
        return Path.of(env != null && !env.isBlank() ? env : "/usr/bin/chromium");
    }

    HeadlessChromium(Path profile) throws Exception {
        Path bin = binary();
        if (!Files.isExecutable(bin)) {
            throw new IllegalStateException(bin + " is missing: the browser tests need Debian's chromium (apt-get install -y chromium)"
                    + " or IGNIS_CHROMIUM naming another Chromium");
        }
        this.profile = profile;
        List<String> cmd = new ArrayList<>(List.of(bin.toString(), "--headless=new", "--remote-debugging-port=0",
                "--user-data-dir=" + profile, "--no-first-run", "--no-default-browser-check", "--disable-gpu",
                "--disable-dev-shm-usage", "--disable-extensions", "--disable-background-networking", "--window-size=1280,900",
                "about:blank"));
        if ("root".equals(System.getProperty("user.name"))) {
            cmd.add(1, "--no-sandbox");
        }
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(profile.resolve("chromium.log").toFile()).start();
        try {
            Path active = profile.resolve("DevToolsActivePort");
            long deadline = System.nanoTime() + START.toNanos();
            while (!Files.exists(active) || Files.readAllLines(active).size() < 2) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("chromium did not open its DevTools port; its output: "
                            + Files.readString(profile.resolve("chromium.log")));
                }
                Thread.sleep(50);
            }
            List<String> lines = Files.readAllLines(active);
            URI ws = URI.create("ws://127.0.0.1:" + lines.get(0).strip() + lines.get(1).strip());
            socket = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(WAIT).buildAsync(ws, new Listener())
                    .get(WAIT.toSeconds(), TimeUnit.SECONDS);
            String target = call(null, "Target.createTarget", Map.of("url", "about:blank")).get("targetId").asText();
            session = call(null, "Target.attachToTarget", Map.of("targetId", target, "flatten", true)).get("sessionId").asText();
            send("Page.enable", Map.of());
            send("Runtime.enable", Map.of());
            send("Log.enable", Map.of());
        } catch (Exception e) {
            process.destroyForcibly();
            throw e;
        }
    }

    /** Sends a command to the page and waits for its result. */
    JsonNode send(String method, Map<String, ?> params) throws Exception {
        return call(session, method, params);
    }

    private JsonNode call(String sessionId, String method, Map<String, ?> params) throws Exception {
        int id = ids.incrementAndGet();
        ObjectNode msg = Json.mapper().createObjectNode();
        msg.put("id", id);
        msg.put("method", method);
        msg.set("params", Json.mapper().valueToTree(params));
        if (sessionId != null) {
            msg.put("sessionId", sessionId);
        }
        var answer = new CompletableFuture<JsonNode>();
        pending.put(id, answer);
        synchronized (this) {
            socket.sendText(Json.mapper().writeValueAsString(msg), true).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
        JsonNode reply = answer.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        if (reply.has("error")) {
            throw new IllegalStateException(method + ": " + reply.get("error"));
        }
        return reply.get("result");
    }

    /** Opens a URL and waits until its document has loaded. */
    void navigate(String url) throws Exception {
        eval("window.__ignisOldPage = true");
        JsonNode r = send("Page.navigate", Map.of("url", url));
        if (r.has("errorText")) {
            throw new IllegalStateException("cannot open " + url + ": " + r.get("errorText"));
        }
        if (r.has("loaderId")) {
            awaitNewPage();
        } // else a same-document navigation (only the fragment changed): the page itself redraws
    }

    /** Waits until the page that was shown is replaced by a new, loaded document (after a navigation or a form post). */
    void awaitNewPage() throws Exception {
        waitFor("window.__ignisOldPage === undefined && document.readyState === 'complete'", JsonNode::asBoolean);
    }

    /** The value of a JavaScript expression in the page (awaited when a promise), as JSON. */
    JsonNode eval(String expression) throws Exception {
        JsonNode r = send("Runtime.evaluate", Map.of("expression", expression, "returnByValue", true, "awaitPromise", true));
        if (r.has("exceptionDetails")) {
            throw new IllegalStateException("page threw on " + expression + ": " + r.get("exceptionDetails"));
        }
        JsonNode v = r.get("result").get("value");
        return v == null ? Json.mapper().nullNode() : v;
    }

    /** Evaluates {@code expression} until its value satisfies {@code until}, within {@link #WAIT}; returns that value. */
    JsonNode waitFor(String expression, Predicate<JsonNode> until) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            try {
                last = eval(expression);
                if (until.test(last)) {
                    return last;
                }
            } catch (IllegalStateException e) {
                last = Json.mapper().getNodeFactory().textNode(e.getMessage()); // e.g. the page is navigating
            }
            Thread.sleep(100);
        }
        throw new AssertionError("waited " + WAIT.toSeconds() + " s for " + expression + "; last value " + last + "; page reports " + reports);
    }

    /** A PNG of the page as shown. */
    void screenshot(Path file) throws Exception {
        JsonNode r = send("Page.captureScreenshot", Map.of("format", "png", "captureBeyondViewport", true));
        Files.createDirectories(file.getParent());
        Files.write(file, Base64.getDecoder().decode(r.get("data").asText()));
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                try {
                    JsonNode msg = Json.mapper().readTree(text);
                    if (msg.has("id")) {
                        var f = pending.remove(msg.get("id").asInt());
                        if (f != null) {
                            f.complete(msg);
                        }
                    } else {
                        event(msg);
                    }
                } catch (IOException e) {
                    reports.add("unreadable DevTools message: " + e.getMessage());
                }
            }
            ws.request(1);
            return null;
        }
    }

    private void event(JsonNode msg) {
        String method = msg.path("method").asText();
        JsonNode p = msg.path("params");
        switch (method) {
            case "Runtime.consoleAPICalled" -> reports.add("console." + p.path("type").asText() + ": " + p.path("args"));
            case "Runtime.exceptionThrown" -> reports.add("exception: " + p.path("exceptionDetails"));
            case "Log.entryAdded" -> reports.add("log: " + p.path("entry").path("level").asText() + " " + p.path("entry").path("text").asText());
            default -> { }
        }
    }

    @Override
    public void close() throws Exception {
        try {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "").get(2, TimeUnit.SECONDS);
        } catch (Exception e) {
            // the browser goes anyway
        }
        // chromium's helper processes (zygote, renderers): ended too, by their ids, taken before they lose their parent
        List<ProcessHandle> helpers = process.descendants().toList();
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        helpers.forEach(ProcessHandle::destroyForcibly);
    }
}

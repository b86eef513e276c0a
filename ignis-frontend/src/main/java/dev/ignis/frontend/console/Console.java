package dev.ignis.frontend.console;

import dev.ignis.assignment.Assignment;
import dev.ignis.common.LambdaException;
import dev.ignis.config.ConfigStore;
import dev.ignis.frontend.ApiRequest;
import dev.ignis.frontend.ApiResponse;
import dev.ignis.frontend.LambdaApi;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URLDecoder;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The operator's web console under {@value #PATH}, in front of the node's admin endpoint.
 *
 * <p>Design note: the console is the admin endpoint's, not the tenants': every page and every datum
 * needs the data directory's admin token, either as {@code Authorization: Bearer} (as the other admin
 * paths) or as the session cookie that signing in with the token gives ({@link ConsoleSession}).
 * Only the sign-in page and the static script and style sheet (the same files as in the source) are
 * served without it. It is read-only: its only POSTs are sign-in and sign-out. Pages are static HTML
 * and one script; tenant strings reach the browser only inside JSON and are put in the page as text.
 * Every answer carries a Content-Security-Policy that allows scripts, styles and fetches from this
 * origin only, no inline script, no framing, and forms that post only here.
 */
public final class Console implements LambdaApi.AdminHandler {
    public static final String PATH = "/ignis-admin/console";
    static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
    private static final Map<String, String> ASSETS = Map.of(
            "/assets/console.js", "text/javascript; charset=utf-8",
            "/assets/console.css", "text/css; charset=utf-8");
    /** The header a console page sends its page token in. */
    static final String PAGE_TOKEN_HEADER = "x-ignis-console";
    private static final String SIGN_IN_FAILED = "<p class=\"failed\" role=\"alert\">That is not this node's admin token.</p>";

    private final LambdaApi.AdminHandler admin;
    private final String token;
    private final ConsoleSession session;
    private final ConsoleViews views;
    private final Clock clock;

    /**
     * @param admin   the admin endpoint every other {@code /ignis-admin/} request goes to
     * @param token   the data directory's admin token
     * @param sources what the pages show
     */
    public Console(LambdaApi.AdminHandler admin, String token, Sources sources, Clock clock) {
        this.admin = admin;
        this.token = token;
        this.session = new ConsoleSession(token);
        this.views = new ConsoleViews(sources);
        this.clock = clock;
    }

    /**
     * What the console reads.
     *
     * @param registry   where the invoke path records Lambda's metrics
     * @param assignment the node's sandbox table; null when it has none
     * @param dataDir    the data directory the worker writes function logs under
     */
    public record Sources(ConfigStore config, MeterRegistry registry, Assignment assignment, Path dataDir) {}

    private static boolean isConsole(String rawPath) {
        return rawPath.equals(PATH) || rawPath.startsWith(PATH + "/");
    }

    /**
     * Judged by the head: the data ({@code api/}) needs the token or a session now; pages are let
     * in, and answered with the sign-in page's address when there is neither.
     */
    @Override
    public void authorize(ApiRequest head) {
        if (!isConsole(head.rawPath())) {
            admin.authorize(head);
            return;
        }
        if (head.rawPath().startsWith(PATH + "/api/") && !mayRead(head)) {
            throw LambdaException.accessDenied("admin token, or a console session and its page's token, required");
        }
    }

    @Override
    public ApiResponse handle(ApiRequest r) {
        if (!isConsole(r.rawPath())) {
            return admin.handle(r);
        }
        String sub = r.rawPath().substring(PATH.length());
        ApiResponse out;
        try {
            out = route(r, sub);
        } catch (LambdaException e) {
            out = ApiResponse.error(e, java.util.UUID.randomUUID().toString());
        }
        return secured(out);
    }

    private ApiResponse route(ApiRequest r, String sub) {
        String method = r.method();
        if ("GET".equals(method) && ASSETS.containsKey(sub)) {
            return new ApiResponse(200, Map.of("Content-Type", ASSETS.get(sub)), resource(sub.substring("/assets/".length())));
        }
        if ("/signin".equals(sub)) {
            if ("GET".equals(method)) {
                return signInPage(200, "");
            }
            if ("POST".equals(method)) {
                return signIn(r);
            }
        }
        if ("/signout".equals(sub) && "POST".equals(method)) {
            return redirect(PATH + "/signin").withHeader("Set-Cookie", ConsoleSession.clear(PATH));
        }
        if (!"GET".equals(method)) {
            throw new LambdaException(405, "MethodNotAllowedException", "The console is read-only: " + method + " is not served here");
        }
        if (sub.isEmpty() || "/".equals(sub)) {
            return page(r);
        }
        if (!mayRead(r)) {
            throw LambdaException.accessDenied("admin token, or a console session and its page's token, required");
        }
        var q = r.query();
        return switch (sub) {
            case "/api/functions" -> ApiResponse.json(200, views.functions());
            case "/api/function" -> ApiResponse.json(200, views.function(q.get("account"), q.get("name")));
            case "/api/sandboxes" -> ApiResponse.json(200, views.sandboxes());
            case "/api/latency" -> ApiResponse.json(200, views.latency(q.get("account"), q.get("name")));
            default -> throw LambdaException.notFound("No console page " + sub);
        };
    }

    private boolean bearer(ApiRequest r) {
        String auth = r.header("authorization");
        return auth != null && MessageDigest.isEqual(auth.getBytes(StandardCharsets.UTF_8), ("Bearer " + token).getBytes(StandardCharsets.UTF_8));
    }

    /** The data: the admin token, or a session with the token of the page it was served ({@link ConsoleSession#pageToken}). */
    private boolean mayRead(ApiRequest r) {
        if (bearer(r)) {
            return true;
        }
        String s = session.session(r.header("cookie"), clock.instant());
        String given = r.header(PAGE_TOKEN_HEADER);
        return s != null && given != null && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8),
                session.pageToken(s).getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The console's page, with this session's page token in it. In a session it is served only to the browser's own
     * navigation ({@code Sec-Fetch-Dest: document}, a header no script can set), never to a script's fetch: another
     * page of this origin — a function URL's answer on the {@code /lambda-url/} path is a tenant's — would send the
     * cookie and read the token otherwise. It cannot frame it either ({@code frame-ancestors 'none'}), nor reach a
     * window it opens ({@code Cross-Origin-Opener-Policy: same-origin}).
     */
    private ApiResponse page(ApiRequest r) {
        if (bearer(r)) {
            return html(200, resource("index.html"));
        }
        String s = session.session(r.header("cookie"), clock.instant());
        if (s == null) {
            return redirect(PATH + "/signin");
        }
        if (!"document".equals(r.header("sec-fetch-dest"))) {
            throw LambdaException.accessDenied("open the console in the browser's address bar (it is served to page loads only)");
        }
        String meta = "<meta name=\"ignis-console-token\" content=\"" + session.pageToken(s) + "\">";
        return html(200, new String(resource("index.html"), StandardCharsets.UTF_8).replace("<!--page-token-->", meta)
                .getBytes(StandardCharsets.UTF_8));
    }

    /** The sign-in form posts the token (form-encoded); right: a session cookie and the console; wrong: the form again, 403. */
    private ApiResponse signIn(ApiRequest r) {
        String given = null;
        for (String pair : new String(r.body(), StandardCharsets.UTF_8).split("&")) {
            if (pair.startsWith("token=")) {
                given = URLDecoder.decode(pair.substring("token=".length()), StandardCharsets.UTF_8).strip();
            }
        }
        if (given == null || !MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8))) {
            return signInPage(403, SIGN_IN_FAILED);
        }
        return redirect(PATH + "/").withHeader("Set-Cookie", session.issue(clock.instant(), PATH));
    }

    private ApiResponse signInPage(int status, String notice) {
        String page = new String(resource("signin.html"), StandardCharsets.UTF_8).replace("<!--notice-->", notice);
        return html(status, page.getBytes(StandardCharsets.UTF_8));
    }

    private static ApiResponse html(int status, byte[] body) {
        return new ApiResponse(status, Map.of("Content-Type", "text/html; charset=utf-8"), body);
    }

    private static ApiResponse redirect(String location) {
        return new ApiResponse(303, Map.of("Location", location), new byte[0]);
    }

    /** Headers every console answer carries. */
    private static ApiResponse secured(ApiResponse out) {
        Map<String, String> h = new LinkedHashMap<>(out.headers());
        h.put("Content-Security-Policy", CSP);
        h.put("X-Content-Type-Options", "nosniff");
        h.put("X-Frame-Options", "DENY");
        h.put("Referrer-Policy", "no-referrer");
        h.put("Cache-Control", "no-store");
        h.put("Cross-Origin-Resource-Policy", "same-origin");
        h.put("Cross-Origin-Opener-Policy", "same-origin");
        return new ApiResponse(out.status(), h, out.body());
    }

    private static byte[] resource(String name) {
        try (InputStream in = Console.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("console asset missing from the jar: " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

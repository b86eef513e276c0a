package dev.ignis.frontend;

import dev.ignis.common.LambdaException;
import dev.ignis.config.ConfigImage;
import dev.ignis.config.ConfigStore;
import dev.ignis.config.FunctionEntry;
import dev.ignis.config.FunctionKey;
import dev.ignis.config.FunctionUrl;
import dev.ignis.config.PolicyStatement;
import java.time.Clock;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves function URLs: a request to {@code <url-id>.lambda-url.<region>.<domain>} (or to
 * {@code /lambda-url/<url-id>/...} on the same port) becomes a payload-2.0 event ({@link UrlEvent})
 * for the URL's function or alias, and the function's answer an HTTP response ({@link UrlResponse}).
 *
 * <p>Who may call is decided as Lambda decides it, from the head where it can be: an unknown id, an
 * unsigned request to an {@code AWS_IAM} URL or a bad signature is refused before a body byte is
 * read ({@link #admit}); then the resource policy of the URL's qualifier must grant the caller both
 * {@code lambda:InvokeFunctionUrl} and {@code lambda:InvokeFunction} ({@link PolicyStatement#grantsUrl}):
 * everyone ({@code *}) for a NONE URL, the caller's account for an AWS_IAM one (the owner's own keys
 * need no grant, as an account's IAM identities need none in its own account). Refusals are 403
 * {@code {"Message":"Forbidden"}}, the same for an unknown id and a missing grant, so nobody learns
 * which ids exist.
 */
final class FunctionUrlGateway {
    private static final Logger LOG = LoggerFactory.getLogger(FunctionUrlGateway.class);
    /** Lambda's buffered limit, on the event the function receives (base64 makes a binary body a third larger). */
    static final int MAX_EVENT = InvokePath.MAX_SYNC_PAYLOAD;

    /** Runs one invoke of a function version or alias: {@link InvokePath#execute}. */
    interface Executor {
        InvokePath.Execution execute(String accountId, String functionName, String qualifier, byte[] payload, String requestId);
    }

    /** Starts one invoke whose answer streams: {@link InvokePath#executeStreaming}. */
    interface StreamingExecutor {
        InvokePath.StreamingExecution executeStreaming(String accountId, String functionName, String qualifier, byte[] payload,
                                                       String requestId);
    }

    /** The content type of a streamed answer that opens with an HTTP prelude ({@code awslambda.HttpResponseStream.from}). */
    static final String HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response";
    /** The most prelude bytes read while looking for its end (8 NUL bytes): a prelude is a status and headers. */
    static final int MAX_PRELUDE = 64 * 1024;

    /** Where a URL id points. */
    private record Target(FunctionKey function, FunctionUrl url) {}

    private record Index(ConfigImage image, Map<String, Target> byId) {}

    private final ConfigStore config;
    private final UrlHosts hosts;
    private final SigV4Verifier verifier;
    private final Executor executor;
    private final StreamingExecutor streaming;
    private final Clock clock;
    private volatile Index index;

    FunctionUrlGateway(ConfigStore config, UrlHosts hosts, SigV4Verifier verifier, Executor executor, StreamingExecutor streaming,
                       Clock clock) {
        this.streaming = streaming;
        this.config = config;
        this.hosts = hosts;
        this.verifier = verifier;
        this.executor = executor;
        this.clock = clock;
    }

    /** True when the request is for a function URL (by host, or by the path fallback), not for the API. */
    boolean isUrlRequest(ApiRequest head) {
        return hosts.idOfHost(head.header("host")) != null || UrlHosts.idOfPath(head.rawPath()) != null;
    }

    /** Refuses by the head alone what can be refused so; the admission carries the SigV4 head of an AWS_IAM request. */
    FrontendServer.Admission admit(ApiRequest head) {
        Target t = target(head);
        SigV4Verifier.Signed signed = null;
        boolean preflight = t.url().cors() != null && UrlCors.isPreflight(head); // browsers never sign a preflight
        if (FunctionUrl.AUTH_IAM.equals(t.url().authType()) && !preflight) {
            signed = verifier.admit(head);
        }
        if (!preflight) { // the grant needs no body either: an ungranted caller's body is never read
            authorize(t, signed == null ? null : signed.caller().accountId());
        }
        return new FrontendServer.Admission("InvokeFunctionUrl", MAX_EVENT, signed);
    }

    ApiResponse handle(ApiRequest r, FrontendServer.Admission admitted, String requestId) {
        try {
            return serve(r, admitted, requestId).withHeader("x-amzn-RequestId", requestId);
        } catch (LambdaException e) {
            return refusal(e, requestId);
        } catch (UrlResponse.BadResponse e) {
            LOG.info("function URL request {}: {}: 502", requestId, e.getMessage());
            return message(502, "InternalServerError", "Bad Gateway", requestId);
        }
    }

    private ApiResponse serve(ApiRequest r, FrontendServer.Admission admitted, String requestId) {
        Target t = target(r);
        FunctionUrl url = t.url();
        String owner = t.function().accountId();
        if (url.cors() != null && UrlCors.isPreflight(r)) {
            return UrlCors.preflight(url.cors(), r); // answered by the platform, whatever the auth type, as Lambda does
        }
        UrlEvent.Iam iam = null;
        String caller = null; // anonymous
        if (FunctionUrl.AUTH_IAM.equals(url.authType())) {
            var who = admitted != null && admitted.signed() != null ? verifier.verify(admitted.signed(), r) : verifier.verify(r);
            iam = new UrlEvent.Iam(who.accessKeyId(), who.accountId());
            caller = who.accountId();
        }
        authorize(t, caller); // again: the policy may have changed while the body arrived
        boolean byPath = hosts.idOfHost(r.header("host")) == null;
        byte[] event = UrlEvent.build(r, UrlHosts.functionPath(r.rawPath(), byPath), url.urlId(), owner, r.header("host"), iam,
                requestId, clock.instant());
        if (event.length > MAX_EVENT) {
            throw new LambdaException(413, "RequestEntityTooLargeException", "Request Entity Too Large");
        }
        ApiResponse out;
        if (FunctionUrl.RESPONSE_STREAM.equals(url.invokeMode())) {
            out = streamed(owner, t.function().functionName(), url.qualifier(), event, requestId);
        } else {
            InvokePath.Execution e;
            try {
                e = executor.execute(owner, t.function().functionName(), url.qualifier(), event, requestId);
            } catch (LambdaException ex) {
                throw asUrlRefusal(ex);
            }
            if (e.outcome().isFunctionError()) {
                return functionFailed(requestId, e);
            }
            out = UrlResponse.map(e.outcome().payload());
        }
        if (byPath) {
            out = sharedOriginConfined(out);
        }
        return url.cors() == null ? out : UrlCors.decorate(url.cors(), r, out);
    }

    private static LambdaException asUrlRefusal(LambdaException ex) {
        if (ex.status() == 429) {
            return new LambdaException(429, "TooManyRequestsException", "Rate Exceeded.");
        }
        if (ex.status() == 404) {
            return forbidden(); // the alias or version went away under the URL
        }
        return ex;
    }

    private static ApiResponse functionFailed(String requestId, InvokePath.Execution e) {
        LOG.debug("function URL request {}: the function failed ({})", requestId, e.outcome().status());
        return message(502, "InternalServerError", "Internal Server Error", requestId).withHeader("X-Amz-Function-Error", "Unhandled");
    }

    /**
     * A URL in {@code RESPONSE_STREAM} mode: the function's bytes go to the client as they come. The first chunk tells
     * how: a whole {@code /response} (a function that does not stream) is mapped as a buffered URL maps it; a stream in
     * {@link #HTTP_INTEGRATION} opens with a JSON prelude (status, headers, cookies) ended by 8 NUL bytes; any other
     * stream is a 200 of the runtime's content type. A function that fails before its first byte is a 502; one that fails
     * mid-stream has its connection closed before the chunked body's end, so the client sees a cut answer, not a whole one.
     */
    private ApiResponse streamed(String owner, String function, String qualifier, byte[] event, String requestId) {
        InvokePath.StreamingExecution x;
        try {
            x = streaming.executeStreaming(owner, function, qualifier, event, requestId);
            InvokePath.awaitStart(x);
        } catch (LambdaException ex) {
            throw asUrlRefusal(ex);
        }
        var stream = x.stream();
        byte[] first = take(stream);
        if (!stream.streamed()) { // a whole answer (at most 6 MB, bounded by the worker), or a failure
            var whole = new java.io.ByteArrayOutputStream();
            for (byte[] c = first; c != null; c = take(stream)) {
                whole.writeBytes(c);
            }
            InvokePath.Execution e = x.done().join();
            if (e.outcome().isFunctionError()) {
                return functionFailed(requestId, e);
            }
            return UrlResponse.map(whole.toByteArray());
        }
        byte[] rest = first;
        ApiResponse head;
        try {
            if (HTTP_INTEGRATION.equalsIgnoreCase(stream.contentType())) {
                var prelude = new java.io.ByteArrayOutputStream();
                int end = -1;
                for (byte[] c = first; c != null && end < 0; ) {
                    int from = Math.max(0, prelude.size() - 7);
                    prelude.writeBytes(c);
                    end = delimiter(prelude.toByteArray(), from);
                    if (end < 0) {
                        if (prelude.size() > MAX_PRELUDE) {
                            throw new UrlResponse.BadResponse("the streamed response's prelude has no end within " + MAX_PRELUDE + " bytes");
                        }
                        c = take(stream);
                    }
                }
                byte[] all = prelude.toByteArray();
                if (end < 0) { // the stream ended inside its prelude
                    end = all.length;
                }
                head = UrlResponse.prelude(java.util.Arrays.copyOf(all, end));
                rest = java.util.Arrays.copyOfRange(all, Math.min(all.length, end + 8), all.length);
            } else {
                String type = stream.contentType() == null ? "application/octet-stream" : stream.contentType();
                head = new ApiResponse(200, Map.of("content-type", type), new byte[0]);
            }
        } catch (UrlResponse.BadResponse bad) {
            stream.cancel();
            throw bad;
        }
        if (first == null) { // nothing streamed: the function may have failed before its first byte
            InvokePath.Execution e = x.done().join();
            if (e.outcome().isFunctionError()) {
                return functionFailed(requestId, e);
            }
        }
        boolean noBody = head.status() == 204 || head.status() == 304;
        byte[] opening = rest;
        return ApiResponse.streamed(head.status(), head.headers(), head.cookies(), out -> {
            try {
                if (opening != null && opening.length > 0 && !noBody) {
                    out.write(opening);
                    out.flush();
                }
                for (byte[] c = take(stream); c != null; c = take(stream)) {
                    if (!noBody) {
                        out.write(c);
                        out.flush();
                    }
                }
            } catch (java.io.IOException | RuntimeException e) {
                stream.cancel(); // the client left: the function runs on, its bytes dropped
                throw e;
            }
            InvokePath.Execution e = x.done().join();
            if (e.outcome().isFunctionError()) {
                LOG.debug("function URL request {}: the function failed mid-stream ({})", requestId, e.outcome().status());
                throw new java.io.IOException("the function failed mid-stream: the answer is cut");
            }
        });
    }

    /** Where 8 NUL bytes begin in {@code b}, looking from {@code from}; -1 when they are not there. */
    static int delimiter(byte[] b, int from) {
        for (int i = from, run = 0; i < b.length; i++) {
            run = b[i] == 0 ? run + 1 : 0;
            if (run == 8) {
                return i - 7;
            }
        }
        return -1;
    }

    private static byte[] take(dev.ignis.worker.runtimeapi.ResponseStream stream) {
        try {
            return stream.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stream.cancel();
            throw new LambdaException(500, "ServiceException", "Internal Server Error");
        }
    }

    /**
     * A response served by the path fallback shares the platform's origin (the API, the operator's console): a
     * tenant's page there must not act as that origin. {@code Content-Security-Policy: sandbox} gives the document an
     * opaque origin of its own (no access to the origin's cookies or storage, no service worker), while its scripts,
     * forms and popups still run; {@code Service-Worker-Allowed}, which could widen a worker's scope to the whole
     * origin, is dropped. A URL served by its own host name ({@code <id>.lambda-url...}) is its own origin, as on
     * Lambda, and is left as the function answered.
     */
    static ApiResponse sharedOriginConfined(ApiResponse out) {
        var headers = new java.util.LinkedHashMap<String, String>();
        out.headers().forEach((name, value) -> {
            if (!name.equalsIgnoreCase("service-worker-allowed")) {
                headers.put(name, value);
            }
        });
        headers.put("Content-Security-Policy", "sandbox allow-scripts allow-forms allow-popups allow-downloads allow-modals");
        return out.withHeaders(headers);
    }

    /** The owner's own keys (AWS_IAM), or both grants of the URL's policy for the caller (null: anonymous). */
    private void authorize(Target t, String caller) {
        FunctionEntry entry = config.image().function(t.function()).orElseThrow(FunctionUrlGateway::forbidden);
        if (!t.function().accountId().equals(caller) && !granted(entry, t.url(), caller)) {
            throw forbidden();
        }
    }

    /**
     * Both grants a URL call needs, in the policy of exactly the URL's qualifier: lambda:InvokeFunctionUrl
     * for this auth type, and lambda:InvokeFunction (see {@link PolicyStatement}).
     */
    private static boolean granted(FunctionEntry entry, FunctionUrl url, String callerAccount) {
        var policy = entry.policy(url.qualifier());
        if (policy == null) {
            return false;
        }
        return policy.statements().stream().anyMatch(s -> s.grantsUrl(callerAccount, url.authType()))
                && policy.statements().stream().anyMatch(s -> s.grantsInvokeViaUrl(callerAccount));
    }

    private Target target(ApiRequest head) {
        String id = hosts.idOfHost(head.header("host"));
        if (id == null) {
            id = UrlHosts.idOfPath(head.rawPath());
        }
        Target t = id != null && UrlHosts.validId(id) ? index().get(id) : null;
        if (t == null) {
            throw forbidden();
        }
        return t;
    }

    /** URL id → function and URL, rebuilt when the config image changes (never per request). */
    private Map<String, Target> index() {
        ConfigImage image = config.image();
        Index i = index;
        if (i == null || i.image() != image) {
            Map<String, Target> byId = new HashMap<>();
            image.functions().forEach((key, entry) -> entry.urls().values().forEach(u -> byId.put(u.urlId(), new Target(key, u))));
            i = new Index(image, byId);
            index = i;
        }
        return i.byId();
    }

    private static LambdaException forbidden() {
        return new LambdaException(403, "AccessDeniedException", "Forbidden");
    }

    /** A function URL's refusal: Lambda's {@code {"Message": ...}} body rather than the API's error shape. */
    static ApiResponse refusal(LambdaException e, String requestId) {
        return message(e.status(), e.type(), e.getMessage(), requestId);
    }

    private static ApiResponse message(int status, String type, String message, String requestId) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("Message", message);
        return ApiResponse.json(status, body).withHeader("x-amzn-ErrorType", type).withHeader("x-amzn-RequestId", requestId);
    }
}

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

    /** Where a URL id points. */
    private record Target(FunctionKey function, FunctionUrl url) {}

    private record Index(ConfigImage image, Map<String, Target> byId) {}

    private final ConfigStore config;
    private final UrlHosts hosts;
    private final SigV4Verifier verifier;
    private final Executor executor;
    private final Clock clock;
    private volatile Index index;

    FunctionUrlGateway(ConfigStore config, UrlHosts hosts, SigV4Verifier verifier, Executor executor, Clock clock) {
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
        InvokePath.Execution e;
        try {
            e = executor.execute(owner, t.function().functionName(), url.qualifier(), event, requestId);
        } catch (LambdaException ex) {
            if (ex.status() == 429) {
                throw new LambdaException(429, "TooManyRequestsException", "Rate Exceeded.");
            }
            if (ex.status() == 404) {
                throw forbidden(); // the alias or version went away under the URL
            }
            throw ex;
        }
        if (e.outcome().isFunctionError()) {
            LOG.debug("function URL request {}: the function failed ({})", requestId, e.outcome().status());
            return message(502, "InternalServerError", "Internal Server Error", requestId)
                    .withHeader("X-Amz-Function-Error", "Unhandled");
        }
        ApiResponse out = UrlResponse.map(e.outcome().payload());
        return url.cors() == null ? out : UrlCors.decorate(url.cors(), r, out);
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

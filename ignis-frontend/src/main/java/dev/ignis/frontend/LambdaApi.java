package dev.ignis.frontend;

import dev.ignis.common.LambdaException;
import dev.ignis.config.ConfigStore;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The frontend's request path: authenticate (SigV4), route, run the operation, answer in AWS's
 * shapes. Every failure becomes an AWS-shaped error; internal ones are logged once, here.
 */
public final class LambdaApi {
    private static final Logger LOG = LoggerFactory.getLogger(LambdaApi.class);

    /** The data path: a synchronous or asynchronous invoke of a function. */
    public interface Invoker {
        ApiResponse invoke(SigV4Verifier.Caller caller, String functionName, ApiRequest request, String requestId);
    }

    /**
     * Local administration (accounts and keys) under {@code /ignis-admin/}: not SigV4, but a bearer
     * token that only the data directory's owner can read.
     */
    public interface AdminHandler {
        ApiResponse handle(ApiRequest request);
    }

    private interface Operation {
        ApiResponse run(SigV4Verifier.Caller caller, List<String> params, ApiRequest r, String requestId);
    }

    private record Binding(Route route, Operation op) {}

    private final SigV4Verifier verifier;
    private final ConfigStore config;
    private final CodeLinks codeLinks;
    private final List<Binding> bindings;
    private final Route codeDownload = Route.of("GET", "/ignis/code/{file}");
    private final AdminHandler admin;

    public LambdaApi(SigV4Verifier verifier, ConfigStore config, byte[] codeLinkKey, java.time.Clock clock, Invoker invoker,
                     dev.ignis.async.EventQueue events, AdminHandler admin) {
        this.admin = admin;
        this.verifier = verifier;
        this.config = config;
        this.codeLinks = new CodeLinks(codeLinkKey, clock);
        var cp = new ControlPlane(config, codeLinks);
        var eic = new EventInvokeConfigApi(config, events);
        String f = "/2015-03-31/functions";
        String e = "/2019-09-25/functions/{name}/event-invoke-config";
        this.bindings = List.of(
                bind("POST", f + "/{name}/invocations", (c, p, r, id) -> invoker.invoke(c, p.get(0), r, id)),
                bind("POST", f, (c, p, r, id) -> cp.createFunction(c.accountId(), r)),
                bind("GET", f, (c, p, r, id) -> cp.listFunctions(c.accountId(), r)),
                bind("GET", f + "/{name}", (c, p, r, id) -> cp.getFunction(c.accountId(), p.get(0), r, r.header("host"))),
                bind("DELETE", f + "/{name}", (c, p, r, id) -> cp.deleteFunction(c.accountId(), p.get(0), r)),
                bind("GET", f + "/{name}/configuration", (c, p, r, id) -> cp.getConfiguration(c.accountId(), p.get(0), r)),
                bind("PUT", f + "/{name}/configuration", (c, p, r, id) -> cp.updateConfiguration(c.accountId(), p.get(0), r)),
                bind("PUT", f + "/{name}/code", (c, p, r, id) -> cp.updateCode(c.accountId(), p.get(0), r)),
                bind("POST", f + "/{name}/versions", (c, p, r, id) -> cp.publishVersion(c.accountId(), p.get(0), r)),
                bind("GET", f + "/{name}/versions", (c, p, r, id) -> cp.listVersions(c.accountId(), p.get(0), r)),
                bind("POST", f + "/{name}/aliases", (c, p, r, id) -> cp.createAlias(c.accountId(), p.get(0), r)),
                bind("GET", f + "/{name}/aliases", (c, p, r, id) -> cp.listAliases(c.accountId(), p.get(0), r)),
                bind("GET", f + "/{name}/aliases/{alias}", (c, p, r, id) -> cp.getAlias(c.accountId(), p.get(0), p.get(1))),
                bind("PUT", f + "/{name}/aliases/{alias}", (c, p, r, id) -> cp.updateAlias(c.accountId(), p.get(0), p.get(1), r)),
                bind("DELETE", f + "/{name}/aliases/{alias}", (c, p, r, id) -> cp.deleteAlias(c.accountId(), p.get(0), p.get(1))),
                bind("PUT", "/2017-10-31/functions/{name}/concurrency", (c, p, r, id) -> cp.putConcurrency(c.accountId(), p.get(0), r)),
                bind("GET", "/2019-09-30/functions/{name}/concurrency", (c, p, r, id) -> cp.getConcurrency(c.accountId(), p.get(0))),
                bind("DELETE", "/2017-10-31/functions/{name}/concurrency", (c, p, r, id) -> cp.deleteConcurrency(c.accountId(), p.get(0))),
                bind("GET", "/2016-08-19/account-settings", (c, p, r, id) -> cp.accountSettings(c.accountId())),
                bind("PUT", e, (c, p, r, id) -> eic.put(c.accountId(), p.get(0), r, false)),
                bind("POST", e, (c, p, r, id) -> eic.put(c.accountId(), p.get(0), r, true)),
                bind("GET", e, (c, p, r, id) -> eic.get(c.accountId(), p.get(0), r)),
                bind("DELETE", e, (c, p, r, id) -> eic.delete(c.accountId(), p.get(0), r)),
                bind("GET", e + "/list", (c, p, r, id) -> eic.list(c.accountId(), p.get(0))));
    }

    private static Binding bind(String method, String template, Operation op) {
        return new Binding(Route.of(method, template), op);
    }

    public ApiResponse handle(ApiRequest r) {
        String requestId = UUID.randomUUID().toString();
        try {
            List<String> download = codeDownload.match(r.method(), r.rawPath());
            if (download != null) {
                return downloadCode(download.getFirst(), r);
            }
            if (r.rawPath().startsWith("/ignis-admin/") && admin != null) {
                return admin.handle(r);
            }
            SigV4Verifier.Caller caller = verifier.verify(r);
            String[] segments = Route.split(r.rawPath());
            for (Binding b : bindings) {
                List<String> params = b.route().match(r.method(), segments);
                if (params != null) {
                    return b.op().run(caller, params, r, requestId).withHeader("x-amzn-RequestId", requestId);
                }
            }
            throw new LambdaException(404, "UnknownOperationException", "Unknown operation " + r.method() + " " + r.rawPath());
        } catch (LambdaException e) {
            return ApiResponse.error(e, requestId);
        } catch (RuntimeException e) {
            LOG.error("request {} {} {} failed", requestId, r.method(), r.rawPath(), e);
            return ApiResponse.error(LambdaException.service("Internal failure; request id " + requestId), requestId);
        }
    }

    private ApiResponse downloadCode(String file, ApiRequest r) {
        if (!file.matches("[0-9a-f]{64}\\.zip")) {
            throw LambdaException.notFound("No such code package");
        }
        String sha = file.substring(0, 64);
        var q = r.query();
        codeLinks.check(sha, q.get("account"), q.get("expires"), q.get("token"));
        try {
            return new ApiResponse(200, java.util.Map.of("Content-Type", "application/zip"), Files.readAllBytes(config.code().zipPath(sha)));
        } catch (IOException e) {
            throw LambdaException.notFound("No such code package");
        }
    }
}

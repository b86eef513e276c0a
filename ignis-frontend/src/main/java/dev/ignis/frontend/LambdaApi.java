package dev.ignis.frontend;

import dev.ignis.common.ElsewhereException;
import dev.ignis.common.LambdaException;
import dev.ignis.config.ConfigStore;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The frontend's request path: authenticate (SigV4), route, run the operation, answer in AWS's
 * shapes. Every failure becomes an AWS-shaped error; internal ones are logged once, here.
 */
public final class LambdaApi implements FrontendServer.Handler {
    /** Header of a 503 whose request changed nothing and may be sent again to another member. */
    public static final String RETRY_ELSEWHERE = "x-ignis-retry-elsewhere";

    private static final Logger LOG = LoggerFactory.getLogger(LambdaApi.class);
    /** Keys of the logging context while a request is served: its request id, the caller's account, the function named. */
    public static final String MDC_REQUEST_ID = "requestId";
    public static final String MDC_ACCOUNT = "account";
    public static final String MDC_FUNCTION = "function";

    /** The data path: a synchronous or asynchronous invoke of a function. */
    public interface Invoker {
        ApiResponse invoke(SigV4Verifier.Caller caller, String functionName, ApiRequest request, String requestId);
    }

    /**
     * Local administration (accounts and keys) under {@code /ignis-admin/}: not SigV4, but a bearer
     * token that only the data directory's owner can read.
     */
    public interface AdminHandler {
        /** Refuses (throws) a request whose head does not carry the admin token, before its body is read. */
        void authorize(ApiRequest head);

        ApiResponse handle(ApiRequest request);
    }

    private interface Operation {
        ApiResponse run(SigV4Verifier.Caller caller, List<String> params, ApiRequest r, String requestId);
    }

    /**
     * An operation's route, its name (as AWS names it in errors), the most body bytes it accepts, and
     * whether its first path parameter is the function's name (for the logging context).
     */
    private record Binding(Route route, String name, long maxBody, Operation op, boolean namesFunction) {}

    /** Control-plane requests other than code uploads are small JSON documents (or none). */
    private static final long JSON_BODY = 1024 * 1024;
    private static final long CODE_BODY = FrontendServer.MAX_REQUEST;
    private static final long PAYLOAD_BODY = InvokePath.MAX_SYNC_PAYLOAD;
    private static final long MAX_ADMIN_REQUEST = 64 * 1024;

    private final SigV4Verifier verifier;
    private final ConfigStore config;
    private final CodeLinks codeLinks;
    private final List<Binding> bindings;
    private final Route codeDownload = Route.of("GET", "/ignis/code/{file}");
    private final AdminHandler admin;
    /** Function URLs; null where the invoker runs no invokes itself (a test's stand-in). */
    private final FunctionUrlGateway urls;

    public LambdaApi(SigV4Verifier verifier, ConfigStore config, byte[] codeLinkKey, java.time.Clock clock, Invoker invoker,
                     dev.ignis.async.EventQueue events, AdminHandler admin) {
        this(verifier, config, codeLinkKey, clock, invoker, events, admin, null);
    }

    /**
     * @param s3 the operator's S3-compatible store that packages and layer archives may come from
     *           ({@code Code.S3Bucket}/{@code S3Key}); null: none configured, such requests are refused
     */
    public LambdaApi(SigV4Verifier verifier, ConfigStore config, byte[] codeLinkKey, java.time.Clock clock, Invoker invoker,
                     dev.ignis.async.EventQueue events, AdminHandler admin, S3Packages s3) {
        this.admin = admin;
        this.verifier = verifier;
        this.config = config;
        this.codeLinks = new CodeLinks(codeLinkKey, clock);
        var packages = new PackageSource(s3, S3Packages.MAX_OBJECT_BYTES);
        var cp = new ControlPlane(config, codeLinks, packages);
        var layers = new LayersApi(config, codeLinks, packages);
        var eic = new EventInvokeConfigApi(config, events);
        var csc = new CodeSigningApi(config);
        var tags = new TagsApi(config);
        var policies = new PolicyApi(config);
        var hosts = UrlHosts.fromSystem();
        var urlApi = new FunctionUrlApi(config, hosts);
        this.urls = invoker instanceof InvokePath path ? new FunctionUrlGateway(config, hosts, verifier, path::execute, path::executeStreaming, clock) : null;
        String u = "/2021-10-31/functions/{name}/url";
        String f = "/2015-03-31/functions";
        String e = "/2019-09-25/functions/{name}/event-invoke-config";
        String fcsc = "/2020-06-30/functions/{name}/code-signing-config";
        String lv = "/2018-10-31/layers/{layer}/versions";
        this.bindings = List.of(
                bind("POST", f + "/{name}/invocations", "Invoke", PAYLOAD_BODY, (c, p, r, id) -> invoker.invoke(c, p.get(0), r, id)),
                bind("POST", f, "CreateFunction", CODE_BODY, (c, p, r, id) -> cp.createFunction(c.accountId(), r)),
                bind("GET", f, "ListFunctions", JSON_BODY, (c, p, r, id) -> cp.listFunctions(c.accountId(), r)),
                bind("GET", f + "/{name}", "GetFunction", JSON_BODY,
                        (c, p, r, id) -> cp.getFunction(c.accountId(), p.get(0), r, r.header("host"))),
                bind("DELETE", f + "/{name}", "DeleteFunction", JSON_BODY, (c, p, r, id) -> cp.deleteFunction(c.accountId(), p.get(0), r)),
                bind("GET", f + "/{name}/configuration", "GetFunctionConfiguration", JSON_BODY,
                        (c, p, r, id) -> cp.getConfiguration(c.accountId(), p.get(0), r)),
                bind("PUT", f + "/{name}/configuration", "UpdateFunctionConfiguration", JSON_BODY,
                        (c, p, r, id) -> cp.updateConfiguration(c.accountId(), p.get(0), r)),
                bind("PUT", f + "/{name}/code", "UpdateFunctionCode", CODE_BODY,
                        (c, p, r, id) -> cp.updateCode(c.accountId(), p.get(0), r)),
                bind("POST", f + "/{name}/versions", "PublishVersion", JSON_BODY,
                        (c, p, r, id) -> cp.publishVersion(c.accountId(), p.get(0), r)),
                bind("GET", f + "/{name}/versions", "ListVersionsByFunction", JSON_BODY,
                        (c, p, r, id) -> cp.listVersions(c.accountId(), p.get(0), r)),
                bind("POST", f + "/{name}/aliases", "CreateAlias", JSON_BODY, (c, p, r, id) -> cp.createAlias(c.accountId(), p.get(0), r)),
                bind("GET", f + "/{name}/aliases", "ListAliases", JSON_BODY, (c, p, r, id) -> cp.listAliases(c.accountId(), p.get(0), r)),
                bind("GET", f + "/{name}/aliases/{alias}", "GetAlias", JSON_BODY,
                        (c, p, r, id) -> cp.getAlias(c.accountId(), p.get(0), p.get(1))),
                bind("PUT", f + "/{name}/aliases/{alias}", "UpdateAlias", JSON_BODY,
                        (c, p, r, id) -> cp.updateAlias(c.accountId(), p.get(0), p.get(1), r)),
                bind("DELETE", f + "/{name}/aliases/{alias}", "DeleteAlias", JSON_BODY,
                        (c, p, r, id) -> cp.deleteAlias(c.accountId(), p.get(0), p.get(1))),
                bind("PUT", "/2017-10-31/functions/{name}/concurrency", "PutFunctionConcurrency", JSON_BODY,
                        (c, p, r, id) -> cp.putConcurrency(c.accountId(), p.get(0), r)),
                bind("GET", "/2019-09-30/functions/{name}/concurrency", "GetFunctionConcurrency", JSON_BODY,
                        (c, p, r, id) -> cp.getConcurrency(c.accountId(), p.get(0))),
                bind("DELETE", "/2017-10-31/functions/{name}/concurrency", "DeleteFunctionConcurrency", JSON_BODY,
                        (c, p, r, id) -> cp.deleteConcurrency(c.accountId(), p.get(0))),
                bind("GET", "/2016-08-19/account-settings", "GetAccountSettings", JSON_BODY,
                        (c, p, r, id) -> cp.accountSettings(c.accountId())),
                bind("PUT", e, "PutFunctionEventInvokeConfig", JSON_BODY, (c, p, r, id) -> eic.put(c.accountId(), p.get(0), r, false)),
                bind("POST", e, "UpdateFunctionEventInvokeConfig", JSON_BODY, (c, p, r, id) -> eic.put(c.accountId(), p.get(0), r, true)),
                bind("GET", e, "GetFunctionEventInvokeConfig", JSON_BODY, (c, p, r, id) -> eic.get(c.accountId(), p.get(0), r)),
                bind("DELETE", e, "DeleteFunctionEventInvokeConfig", JSON_BODY, (c, p, r, id) -> eic.delete(c.accountId(), p.get(0), r)),
                bind("GET", e + "/list", "ListFunctionEventInvokeConfigs", JSON_BODY, (c, p, r, id) -> eic.list(c.accountId(), p.get(0), r)),
                bind("GET", fcsc, "GetFunctionCodeSigningConfig", JSON_BODY, (c, p, r, id) -> csc.getFunctionConfig(c.accountId(), p.get(0))),
                bind("PUT", fcsc, "PutFunctionCodeSigningConfig", JSON_BODY, (c, p, r, id) -> csc.refuseForFunction(c.accountId(), p.get(0))),
                bind("DELETE", fcsc, "DeleteFunctionCodeSigningConfig", JSON_BODY,
                        (c, p, r, id) -> csc.refuseForFunction(c.accountId(), p.get(0))),
                bind("POST", "/2020-04-22/code-signing-configs", "CreateCodeSigningConfig", JSON_BODY, (c, p, r, id) -> csc.refuseCreate()),
                bind("POST", f + "/{name}/policy", "AddPermission", JSON_BODY, (c, p, r, id) -> policies.add(c.accountId(), p.get(0), r)),
                bind("GET", f + "/{name}/policy", "GetPolicy", JSON_BODY, (c, p, r, id) -> policies.get(c.accountId(), p.get(0), r)),
                bind("DELETE", f + "/{name}/policy/{sid}", "RemovePermission", JSON_BODY,
                        (c, p, r, id) -> policies.remove(c.accountId(), p.get(0), p.get(1), r)),
                bind("POST", u, "CreateFunctionUrlConfig", JSON_BODY, (c, p, r, id) -> urlApi.create(c.accountId(), p.get(0), r)),
                bind("GET", u, "GetFunctionUrlConfig", JSON_BODY, (c, p, r, id) -> urlApi.get(c.accountId(), p.get(0), r)),
                bind("PUT", u, "UpdateFunctionUrlConfig", JSON_BODY, (c, p, r, id) -> urlApi.update(c.accountId(), p.get(0), r)),
                bind("DELETE", u, "DeleteFunctionUrlConfig", JSON_BODY, (c, p, r, id) -> urlApi.delete(c.accountId(), p.get(0), r)),
                bind("POST", "/2021-11-15/functions/{name}/response-streaming-invocations", "InvokeWithResponseStream", PAYLOAD_BODY,
                        (c, p, r, id) -> {
                            if (!(invoker instanceof InvokePath path)) {
                                throw LambdaException.invalidParameter("InvokeWithResponseStream is not served by this frontend; call Invoke");
                            }
                            return path.invokeWithResponseStream(c, p.get(0), r, id);
                        }),
                bind("GET", u + "s", "ListFunctionUrlConfigs", JSON_BODY, (c, p, r, id) -> urlApi.list(c.accountId(), p.get(0), r)),
                bind("POST", lv, "PublishLayerVersion", CODE_BODY, (c, p, r, id) -> layers.publish(c.accountId(), p.get(0), r)),
                bind("GET", lv, "ListLayerVersions", JSON_BODY, (c, p, r, id) -> layers.listVersions(c.accountId(), p.get(0), r)),
                bind("GET", lv + "/{n}", "GetLayerVersion", JSON_BODY, (c, p, r, id) -> layers.get(c.accountId(), p.get(0), p.get(1), r)),
                bind("DELETE", lv + "/{n}", "DeleteLayerVersion", JSON_BODY, (c, p, r, id) -> layers.delete(c.accountId(), p.get(0), p.get(1))),
                // ListLayers, and GetLayerVersionByArn (?find=LayerVersion&Arn=...) on the same path
                bind("GET", "/2018-10-31/layers", "ListLayers", JSON_BODY, (c, p, r, id) -> layers.listOrFind(c.accountId(), r)),
                bind("POST", lv + "/{n}/policy", "AddLayerVersionPermission", JSON_BODY,
                        (c, p, r, id) -> layers.addPermission(c.accountId(), p.get(0), p.get(1), r)),
                bind("GET", lv + "/{n}/policy", "GetLayerVersionPolicy", JSON_BODY, (c, p, r, id) -> layers.policy(c.accountId(), p.get(0), p.get(1))),
                bind("DELETE", lv + "/{n}/policy/{sid}", "RemoveLayerVersionPermission", JSON_BODY,
                        (c, p, r, id) -> layers.removePermission(c.accountId(), p.get(0), p.get(1), p.get(2), r)),
                bind("GET", "/2017-03-31/tags/{arn}", "ListTags", JSON_BODY, (c, p, r, id) -> tags.list(c.accountId(), p.get(0))),
                bind("POST", "/2017-03-31/tags/{arn}", "TagResource", JSON_BODY, (c, p, r, id) -> tags.tag(c.accountId(), p.get(0), r)),
                bind("DELETE", "/2017-03-31/tags/{arn}", "UntagResource", JSON_BODY, (c, p, r, id) -> tags.untag(c.accountId(), p.get(0), r)));
    }

    /**
     * The Lambda API operations this frontend routes, by botocore's names: one per route, and
     * GetLayerVersionByArn, which shares ListLayers' path ({@code ?find=LayerVersion}).
     */
    public List<String> operations() {
        var names = new java.util.ArrayList<>(bindings.stream().map(Binding::name).toList());
        names.add("GetLayerVersionByArn");
        return names;
    }

    private static Binding bind(String method, String template, String name, long maxBody, Operation op) {
        return new Binding(Route.of(method, template), name, maxBody, op, template.contains("/functions/{name}"));
    }

    /**
     * Judges a request by its head, before its body is read: the code download and admin paths by
     * their own tokens, every other request by its SigV4 head ({@link SigV4Verifier#admit}: known
     * key, region, service, signed host, time) and then by its operation's body limit.
     */
    @Override
    public FrontendServer.Admission admit(ApiRequest head) {
        if (urls != null && urls.isUrlRequest(head)) {
            return urls.admit(head);
        }
        if (codeDownload.match(head.method(), head.rawPath()) != null) {
            return new FrontendServer.Admission("GetCode", 0, null);
        }
        if (head.rawPath().startsWith("/ignis-admin/")) {
            if (admin != null) {
                admin.authorize(head);
            } // else this is a cluster frontend, which forwards it to a leader that checks the token
            return new FrontendServer.Admission("Admin", MAX_ADMIN_REQUEST, null);
        }
        SigV4Verifier.Signed signed = verifier.admit(head);
        String[] segments = Route.split(head.rawPath());
        for (Binding b : bindings) {
            if (b.route().match(head.method(), segments) != null) {
                return new FrontendServer.Admission(b.name(), b.maxBody(), signed);
            }
        }
        throw unknownOperation(head);
    }

    @Override
    public ApiResponse handle(ApiRequest r) {
        return handle(r, null);
    }

    /** Answers a request; its SigV4 head is checked again unless {@code admitted} carries it already. */
    @Override
    public ApiResponse handle(ApiRequest r, FrontendServer.Admission admitted) {
        String requestId = UUID.randomUUID().toString();
        if (urls != null && urls.isUrlRequest(r)) {
            try {
                return urls.handle(r, admitted, requestId);
            } catch (RuntimeException e) {
                LOG.error("function URL request {} {} {} failed", requestId, r.method(), r.rawPath(), e);
                return FunctionUrlGateway.refusal(new LambdaException(500, "ServiceException", "Internal Server Error"), requestId);
            }
        }
        // what the platform logs while it serves this request carries its id, account and function (LogFormat json)
        MDC.put(MDC_REQUEST_ID, requestId);
        try {
            List<String> download = codeDownload.match(r.method(), r.rawPath());
            if (download != null) {
                return downloadCode(download.getFirst(), r);
            }
            if (r.rawPath().startsWith("/ignis-admin/") && admin != null) {
                return admin.handle(r);
            }
            SigV4Verifier.Caller caller = admitted != null && admitted.signed() != null
                    ? verifier.verify(admitted.signed(), r) : verifier.verify(r);
            MDC.put(MDC_ACCOUNT, caller.accountId());
            String[] segments = Route.split(r.rawPath());
            for (Binding b : bindings) {
                List<String> params = b.route().match(r.method(), segments);
                if (params != null) {
                    if (b.namesFunction()) {
                        MDC.put(MDC_FUNCTION, params.getFirst());
                    }
                    return b.op().run(caller, params, r, requestId).withHeader("x-amzn-RequestId", requestId);
                }
            }
            throw unknownOperation(r);
        } catch (LambdaException e) {
            return ApiResponse.error(e, requestId);
        } catch (ElsewhereException e) {
            // nothing changed here (e.g. a config write refused by a member that stopped leading): retryable,
            // and a cluster frontend retries it at the leader itself (RETRY_ELSEWHERE)
            return ApiResponse.error(new LambdaException(503, "ServiceException",
                    "The service is changing leaders; retry the request"), requestId).withHeader(RETRY_ELSEWHERE, "true");
        } catch (RuntimeException e) {
            LOG.error("request {} {} {} failed", requestId, r.method(), r.rawPath(), e);
            return ApiResponse.error(LambdaException.service("Internal failure; request id " + requestId), requestId);
        } finally {
            // a connection's thread serves its next request too
            MDC.remove(MDC_REQUEST_ID);
            MDC.remove(MDC_ACCOUNT);
            MDC.remove(MDC_FUNCTION);
        }
    }

    @Override
    public boolean servesLocally(ApiRequest head) {
        return urls != null && urls.isUrlRequest(head);
    }

    /** A refused head: a function URL's refusal in its own shape, every other in the API's. */
    @Override
    public ApiResponse refuse(ApiRequest head, LambdaException e) {
        String requestId = UUID.randomUUID().toString();
        return urls != null && urls.isUrlRequest(head) ? FunctionUrlGateway.refusal(e, requestId) : ApiResponse.error(e, requestId);
    }

    private static LambdaException unknownOperation(ApiRequest r) {
        return new LambdaException(404, "UnknownOperationException", "Unknown operation " + r.method() + " " + r.rawPath());
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

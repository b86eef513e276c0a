package dev.ignis.frontend;

import dev.ignis.common.LambdaException;
import dev.ignis.config.ConfigStore;
import dev.ignis.config.FunctionRequests;
import dev.ignis.config.LayerKey;
import dev.ignis.config.LayerStore;
import dev.ignis.config.LayerVersion;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The layer operations (the 2018-10-31 API): PublishLayerVersion, GetLayerVersion(ByArn),
 * ListLayers, ListLayerVersions, DeleteLayerVersion and the version's permissions. Decodes,
 * calls {@link LayerStore}, answers in botocore's shapes; the rules live in the store.
 */
final class LayersApi {
    private final ConfigStore config;
    private final CodeLinks codeLinks;
    private final PackageSource packages;

    LayersApi(ConfigStore config, CodeLinks codeLinks, PackageSource packages) {
        this.config = config;
        this.codeLinks = codeLinks;
        this.packages = packages;
    }

    ApiResponse publish(String account, String name, ApiRequest r) {
        var b = RequestBody.parse(r.body());
        if (b.node("Content") == null) {
            throw LambdaException.invalidParameter("Content is required: Content.ZipFile, or Content.S3Bucket and Content.S3Key");
        }
        byte[] zip = packages.zip(b, "Content.");
        var v = config.layers().publish(account, new FunctionRequests.PublishLayer(name, b.text("Description"), zip,
                b.strings("CompatibleRuntimes"), b.strings("CompatibleArchitectures"), b.text("LicenseInfo")));
        return ApiResponse.json(201, version(v, account, r.header("host")));
    }

    ApiResponse get(String account, String name, String number, ApiRequest r) {
        LayerKey key = LayerStore.parseName(name, account);
        return ApiResponse.json(200, version(config.layers().get(account, key, number(number)), account, r.header("host")));
    }

    /** GET /2018-10-31/layers: ListLayers, or GetLayerVersionByArn with {@code find=LayerVersion}. */
    ApiResponse listOrFind(String account, ApiRequest r) {
        var q = r.query();
        if ("LayerVersion".equals(q.get("find"))) {
            var k = LayerStore.parseVersionArn(q.get("Arn"), "arn");
            if (!k.here()) {
                throw LambdaException.notFound("The resource you requested does not exist.");
            }
            return ApiResponse.json(200, version(config.layers().get(account, k.key(), k.version()), account, r.header("host")));
        }
        var latest = config.layers().latestOfEach(account, q.get("CompatibleRuntime"), q.get("CompatibleArchitecture"));
        return Paging.page(r, latest, LayerVersion::layerName, "Layers", v -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("LayerName", v.layerName());
            m.put("LayerArn", v.key().arn());
            m.put("LatestMatchingVersion", listItem(v));
            return m;
        });
    }

    ApiResponse listVersions(String account, String name, ApiRequest r) {
        var q = r.query();
        var versions = config.layers().versions(account, LayerStore.parseName(name, account), q.get("CompatibleRuntime"),
                q.get("CompatibleArchitecture"));
        // newest first, as Lambda lists them: the sort key grows down the list
        return Paging.page(r, versions, v -> String.format("%020d", Long.MAX_VALUE - v.version()), "LayerVersions", LayersApi::listItem);
    }

    ApiResponse delete(String account, String name, String number) {
        config.layers().delete(account, LayerStore.parseName(name, account), number(number));
        return ApiResponse.empty(204);
    }

    ApiResponse addPermission(String account, String name, String number, ApiRequest r) {
        var b = RequestBody.parse(r.body());
        if (b.node("OrganizationId") != null) {
            throw LambdaException.invalidParameter("OrganizationId is not supported: Ignis has no AWS Organizations; grant an account id or *");
        }
        var statement = config.layers().addPermission(account, LayerStore.parseName(name, account), number(number),
                new FunctionRequests.AddLayerPermission(b.text("StatementId"), b.text("Action"), b.text("Principal"), r.query().get("RevisionId")));
        var policy = config.layers().policy(account, LayerStore.parseName(name, account), number(number));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("Statement", ConfigStore.json(statement.document()));
        out.put("RevisionId", policy.revisionId());
        return ApiResponse.json(201, out);
    }

    ApiResponse removePermission(String account, String name, String number, String sid, ApiRequest r) {
        config.layers().removePermission(account, LayerStore.parseName(name, account), number(number), sid, r.query().get("RevisionId"));
        return ApiResponse.empty(204);
    }

    ApiResponse policy(String account, String name, String number) {
        var policy = config.layers().policy(account, LayerStore.parseName(name, account), number(number));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("Policy", ConfigStore.json(policy.document()));
        out.put("RevisionId", policy.revisionId());
        return ApiResponse.json(200, out);
    }

    private static long number(String raw) {
        try {
            long n = Long.parseLong(raw);
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new LambdaException(400, "ValidationException", "1 validation error detected: Value '" + raw
                + "' at 'versionNumber' failed to satisfy constraint: Member must be a version number (1 or more)");
    }

    /** botocore's GetLayerVersionResponse (and PublishLayerVersionResponse). */
    private Map<String, Object> version(LayerVersion v, String account, String host) {
        Map<String, Object> m = new LinkedHashMap<>();
        Map<String, Object> content = new LinkedHashMap<>();
        content.put("Location", codeLinks.link(host, account, v.codeSha256Hex()));
        content.put("CodeSha256", new dev.ignis.config.CodeStore.CodeRef(v.codeSha256Hex(), v.codeSize()).sha256Base64());
        content.put("CodeSize", v.codeSize());
        m.put("Content", content);
        m.put("LayerArn", v.key().arn());
        m.put("LayerVersionArn", v.arn());
        m.putAll(common(v));
        return m;
    }

    /** botocore's LayerVersionsListItem. */
    private static Map<String, Object> listItem(LayerVersion v) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("LayerVersionArn", v.arn());
        m.putAll(common(v));
        return m;
    }

    private static Map<String, Object> common(LayerVersion v) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("Version", v.version());
        m.put("Description", v.description());
        m.put("CreatedDate", v.createdDate());
        if (!v.compatibleRuntimes().isEmpty()) {
            m.put("CompatibleRuntimes", v.compatibleRuntimes());
        }
        if (v.licenseInfo() != null) {
            m.put("LicenseInfo", v.licenseInfo());
        }
        if (!v.compatibleArchitectures().isEmpty()) {
            m.put("CompatibleArchitectures", v.compatibleArchitectures());
        }
        return m;
    }
}

package dev.ignis.frontend;

import dev.ignis.common.LambdaException;
import dev.ignis.config.Alias;
import dev.ignis.config.ConfigStore;
import dev.ignis.config.FunctionConfig;
import dev.ignis.config.FunctionEntry;
import dev.ignis.config.FunctionName;
import dev.ignis.config.FunctionRequests;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The Lambda control-plane operations (botocore's lambda 2015-03-31 model): decode the request,
 * call the config store, encode AWS's response shape. No state lives here.
 */
final class ControlPlane {
    static final int ACCOUNT_CONCURRENCY_LIMIT = 1000;

    private final ConfigStore config;
    private final CodeLinks codeLinks;
    private final PackageSource packages;

    ControlPlane(ConfigStore config, CodeLinks codeLinks, PackageSource packages) {
        this.config = config;
        this.codeLinks = codeLinks;
        this.packages = packages;
    }

    ApiResponse createFunction(String account, ApiRequest r) {
        var b = RequestBody.parse(r.body());
        if (b.node("Code.ImageUri") != null) {
            throw LambdaException.invalidParameter("Only Code.ZipFile or Code.S3Bucket/S3Key are supported: container image packages are not");
        }
        if (b.text("FunctionName") == null) {
            throw LambdaException.invalidParameter("FunctionName is required");
        }
        UnsupportedFields.check(b, b.text("FunctionName"));
        var request = new FunctionRequests.Create(b.text("FunctionName"), b.text("Runtime"), b.text("Role"),
                b.text("Handler"), b.text("Description"), b.integer("Timeout"), b.integer("MemorySize"),
                b.integer("EphemeralStorage.Size"), b.stringMap("Environment.Variables"), null,
                b.bool("Publish"), b.strings("Architectures"), b.text("PackageType"), b.stringMap("Tags"), b.strings("Layers"));
        config.checkCreate(account, request); // before an S3 object is fetched for a request that would be refused anyway
        var created = config.createFunction(account, new FunctionRequests.Create(request.functionName(), request.runtime(), request.role(),
                request.handler(), request.description(), request.timeout(), request.memorySize(), request.ephemeralStorageSize(),
                request.environment(), packages.zip(b, "Code."), request.publish(), request.architectures(), request.packageType(),
                request.tags(), request.layers()));
        return ApiResponse.json(201, Shapes.configuration(created));
    }

    ApiResponse getFunction(String account, String name, ApiRequest r, String host) {
        var fn = FunctionName.parse(name, account);
        FunctionConfig c = resolve(fn, fn.qualifierOr(r.query().get("Qualifier")));
        FunctionEntry entry = config.function(fn.key());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("Configuration", Shapes.configuration(c));
        out.put("Code", Map.of("RepositoryType", "S3", "Location", codeLinks.link(host, account, c.codeSha256Hex())));
        if (!entry.tags().isEmpty()) {
            out.put("Tags", entry.tags());
        }
        if (entry.reservedConcurrency() != null) {
            out.put("Concurrency", Map.of("ReservedConcurrentExecutions", entry.reservedConcurrency()));
        }
        return ApiResponse.json(200, out);
    }

    ApiResponse getConfiguration(String account, String name, ApiRequest r) {
        var fn = FunctionName.parse(name, account);
        return ApiResponse.json(200, Shapes.configuration(resolve(fn, fn.qualifierOr(r.query().get("Qualifier")))));
    }

    ApiResponse listFunctions(String account, ApiRequest r) {
        boolean all = "ALL".equals(r.query().get("FunctionVersion"));
        List<FunctionConfig> configs = config.image().functionsOf(account)
                .flatMap(e -> all ? Stream.concat(Stream.of(e.latest()), e.versions().values().stream()) : Stream.of(e.latest()))
                .sorted(Comparator.comparing(FunctionConfig::functionName).thenComparing(c -> versionOrder(c.version())))
                .toList();
        return Paging.page(r, configs, c -> c.functionName() + "\u0000" + versionOrder(c.version()), "Functions", Shapes::configuration);
    }

    ApiResponse listVersions(String account, String name, ApiRequest r) {
        var fn = FunctionName.parse(name, account);
        FunctionEntry e = config.function(fn.key());
        List<FunctionConfig> configs = new ArrayList<>();
        configs.add(e.latest());
        configs.addAll(e.versions().values());
        return Paging.page(r, configs, c -> versionOrder(c.version()), "Versions", Shapes::configuration);
    }

    ApiResponse updateConfiguration(String account, String name, ApiRequest r) {
        var fn = FunctionName.parse(name, account);
        var b = RequestBody.parse(r.body());
        UnsupportedFields.check(b, fn.name());
        Map<String, String> env = b.node("Environment") != null
                ? (b.stringMap("Environment.Variables") == null ? Map.of() : b.stringMap("Environment.Variables")) : null;
        var updated = config.updateConfiguration(fn, new FunctionRequests.UpdateConfiguration(b.text("Runtime"), b.text("Role"),
                b.text("Handler"), b.text("Description"), b.integer("Timeout"), b.integer("MemorySize"),
                b.integer("EphemeralStorage.Size"), env, b.text("RevisionId"), b.strings("Layers")));
        return ApiResponse.json(200, Shapes.configuration(updated));
    }

    ApiResponse updateCode(String account, String name, ApiRequest r) {
        var fn = FunctionName.parse(name, account);
        var b = RequestBody.parse(r.body());
        if (b.text("ImageUri") != null) {
            throw LambdaException.invalidParameter("Only ZipFile or S3Bucket/S3Key are supported: container image packages are not");
        }
        config.function(fn.key()); // 404 before an S3 object is fetched
        var updated = config.updateCode(fn, new FunctionRequests.UpdateCode(packages.zip(b, ""), b.bool("Publish"), b.text("RevisionId"),
                b.strings("Architectures"), b.bool("DryRun")));
        return ApiResponse.json(200, Shapes.configuration(updated));
    }

    ApiResponse deleteFunction(String account, String name, ApiRequest r) {
        var fn = FunctionName.parse(name, account);
        config.deleteFunction(fn, fn.qualifierOr(r.query().get("Qualifier")));
        return ApiResponse.empty(204);
    }

    ApiResponse publishVersion(String account, String name, ApiRequest r) {
        var fn = FunctionName.parse(name, account);
        var b = RequestBody.parse(r.body());
        var v = config.publishVersion(fn, new FunctionRequests.Publish(b.text("CodeSha256"), b.text("Description"), b.text("RevisionId")));
        return ApiResponse.json(201, Shapes.configuration(v));
    }

    ApiResponse createAlias(String account, String name, ApiRequest r) {
        var fn = FunctionName.parse(name, account);
        var b = RequestBody.parse(r.body());
        Alias a = config.createAlias(fn, new FunctionRequests.AliasInput(b.text("Name"), b.text("FunctionVersion"), b.text("Description"),
                b.doubleMap("RoutingConfig.AdditionalVersionWeights"), null));
        return ApiResponse.json(201, Shapes.alias(account, fn.name(), a));
    }

    ApiResponse getAlias(String account, String name, String alias) {
        var fn = FunctionName.parse(name, account);
        return ApiResponse.json(200, Shapes.alias(account, fn.name(), config.alias(fn, alias)));
    }

    ApiResponse updateAlias(String account, String name, String alias, ApiRequest r) {
        var fn = FunctionName.parse(name, account);
        var b = RequestBody.parse(r.body());
        Alias a = config.updateAlias(fn, alias, new FunctionRequests.AliasInput(alias, b.text("FunctionVersion"), b.text("Description"),
                b.doubleMap("RoutingConfig.AdditionalVersionWeights"), b.text("RevisionId")));
        return ApiResponse.json(200, Shapes.alias(account, fn.name(), a));
    }

    ApiResponse deleteAlias(String account, String name, String alias) {
        config.deleteAlias(FunctionName.parse(name, account), alias);
        return ApiResponse.empty(204);
    }

    ApiResponse listAliases(String account, String name, ApiRequest r) {
        var fn = FunctionName.parse(name, account);
        String version = r.query().get("FunctionVersion");
        List<Alias> aliases = config.function(fn.key()).aliases().values().stream()
                .filter(a -> version == null || a.functionVersion().equals(version))
                .sorted(Comparator.comparing(Alias::name)).toList();
        return Paging.page(r, aliases, Alias::name, "Aliases", a -> Shapes.alias(account, fn.name(), a));
    }

    ApiResponse putConcurrency(String account, String name, ApiRequest r) {
        var fn = FunctionName.parse(name, account);
        var b = RequestBody.parse(r.body());
        int reserved = config.putConcurrency(fn, b.integer("ReservedConcurrentExecutions"), ACCOUNT_CONCURRENCY_LIMIT);
        return ApiResponse.json(200, Map.of("ReservedConcurrentExecutions", reserved));
    }

    ApiResponse getConcurrency(String account, String name) {
        var fn = FunctionName.parse(name, account);
        Integer reserved = config.function(fn.key()).reservedConcurrency();
        return ApiResponse.json(200, reserved == null ? Map.of() : Map.of("ReservedConcurrentExecutions", reserved));
    }

    ApiResponse deleteConcurrency(String account, String name) {
        config.deleteConcurrency(FunctionName.parse(name, account));
        return ApiResponse.empty(204);
    }

    ApiResponse accountSettings(String account) {
        long codeSize = config.codeStorageUsed(account);
        long count = config.image().functionsOf(account).count();
        int reserved = config.image().functionsOf(account).mapToInt(e -> e.reservedConcurrency() == null ? 0 : e.reservedConcurrency()).sum();
        return ApiResponse.json(200, Map.of(
                "AccountLimit", Map.of("TotalCodeSize", config.codeStorageLimit(), "CodeSizeUnzipped", 250L * 1024 * 1024,
                        "CodeSizeZipped", 50L * 1024 * 1024, "ConcurrentExecutions", ACCOUNT_CONCURRENCY_LIMIT,
                        "UnreservedConcurrentExecutions", ACCOUNT_CONCURRENCY_LIMIT - reserved),
                "AccountUsage", Map.of("TotalCodeSize", codeSize, "FunctionCount", count)));
    }

    /** Resolves $LATEST, a version number or an alias (to its primary version) to a configuration. */
    FunctionConfig resolve(FunctionName fn, String qualifier) {
        FunctionConfig c = config.function(fn.key()).resolve(qualifier);
        if (c == null) {
            throw ConfigStore.notFound(fn.accountId(), fn.name(), qualifier);
        }
        return c;
    }

    /** $LATEST first, then versions by number: a key that is never empty (an empty NextMarker ends every paginator). */
    static String versionOrder(String version) {
        return String.format("%020d", FunctionConfig.LATEST.equals(version) ? 0 : Long.parseLong(version));
    }
}

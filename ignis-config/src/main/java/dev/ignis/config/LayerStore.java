package dev.ignis.config;

import dev.ignis.common.LambdaException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Layers (the 2018-10-31 API): PublishLayerVersion, Get/List/Delete, and the version's permission
 * policy (Add/RemoveLayerVersionPermission, GetLayerVersionPolicy), on the config journal like
 * everything else. A layer's archive is stored and unpacked as function code is ({@link CodeStore}:
 * the same hostile-safe unpack, content-addressed, counted in the account's code storage). Another
 * account may read a version and use it in its functions only when the version's policy names that
 * account or {@code *}; otherwise AccessDeniedException, as Lambda answers. Writes hold the
 * {@link ConfigStore}'s lock, so validation sees the state the record applies to.
 */
public final class LayerStore {
    public static final int MAX_FUNCTION_LAYERS = 5;
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9-_]{1,140}");
    private static final Pattern LAYER_ARN = Pattern.compile("arn:[a-zA-Z0-9-]+:lambda:([a-zA-Z0-9-]+):(\\d{12}):layer:([a-zA-Z0-9-_]+)");
    private static final Pattern VERSION_ARN = Pattern.compile(LAYER_ARN.pattern() + ":([0-9]+)");
    private static final Pattern RUNTIME = Pattern.compile("[a-z][a-z0-9.]{1,31}");
    private static final Pattern SID = Pattern.compile("([a-zA-Z0-9-_]+)");
    private static final Pattern PRINCIPAL = Pattern.compile("\\d{12}|\\*|arn:(aws[a-zA-Z-]*):iam::(\\d{12}):root");
    private static final List<String> ARCHITECTURES = List.of("x86_64", "arm64");

    private final ConfigStore config;

    LayerStore(ConfigStore config) {
        this.config = config;
    }

    /** Parses a name or layer ARN; an ARN of another region names nothing here (404 for reads). */
    public static LayerKey parseName(String raw, String callerAccount) {
        if (raw == null || raw.isEmpty() || raw.length() > 140) {
            throw constraint("layerName", raw, "Member must have length less than or equal to 140 and greater than or equal to 1");
        }
        if (NAME.matcher(raw).matches()) {
            return new LayerKey(callerAccount, raw);
        }
        Matcher m = LAYER_ARN.matcher(raw);
        if (!m.matches()) {
            throw constraint("layerName", raw, "Member must satisfy regular expression pattern: (" + LAYER_ARN.pattern() + ")|[a-zA-Z0-9-_]+");
        }
        if (!m.group(1).equals(Region.NAME)) {
            throw notFound();
        }
        return new LayerKey(m.group(2), m.group(3));
    }

    /** A layer version ARN (GetLayerVersionByArn, a function's Layers); {@code field} names it in the error. */
    public static LayerKeyVersion parseVersionArn(String raw, String field) {
        Matcher m = VERSION_ARN.matcher(raw == null ? "" : raw);
        if (raw == null || raw.isEmpty() || raw.length() > 140 || !m.matches()) {
            throw constraint(field, raw, "Member must have length less than or equal to 140, greater than or equal to 1 and satisfy "
                    + "regular expression pattern: " + VERSION_ARN.pattern());
        }
        long version;
        try {
            version = Long.parseLong(m.group(4));
        } catch (NumberFormatException e) {
            throw constraint(field, raw, "the version must be a number");
        }
        return new LayerKeyVersion(new LayerKey(m.group(2), m.group(3)), version, m.group(1).equals(Region.NAME));
    }

    /** A parsed layer version ARN; {@code here} is false for another region's. */
    public record LayerKeyVersion(LayerKey key, long version, boolean here) {}

    // ---- operations ---------------------------------------------------------------------------

    public LayerVersion publish(String accountId, FunctionRequests.PublishLayer r) {
        LayerKey key = parseName(r.layerName(), accountId);
        owner(key, accountId, r.layerName());
        Limits.description(r.description());
        if (r.licenseInfo() != null && r.licenseInfo().length() > 512) {
            throw constraint("licenseInfo", "(" + r.licenseInfo().length() + " characters)", "Member must have length less than or equal to 512");
        }
        List<String> runtimes = r.compatibleRuntimes() == null ? List.of() : r.compatibleRuntimes();
        if (runtimes.size() > 15 || runtimes.stream().anyMatch(rt -> rt == null || !RUNTIME.matcher(rt).matches())) {
            throw constraint("compatibleRuntimes", runtimes, "Member must have length less than or equal to 15 and each a runtime identifier");
        }
        List<String> arch = r.compatibleArchitectures() == null ? List.of() : r.compatibleArchitectures();
        if (arch.size() > 2 || !ARCHITECTURES.containsAll(arch)) {
            throw constraint("compatibleArchitectures", arch, "Member must have length less than or equal to 2 and each satisfy enum value set: "
                    + ARCHITECTURES);
        }
        if (r.zipFile() == null) {
            throw LambdaException.invalidParameter("Content is required: Content.ZipFile, or Content.S3Bucket and Content.S3Key");
        }
        synchronized (config) {
            var ref = config.code().put(r.zipFile(), candidate -> config.admitCode(accountId, null, candidate));
            long unzipped = config.code().unzippedSize(ref.sha256Hex());
            long version = config.image().layer(key).map(LayerEntry::lastVersion).orElse(0L) + 1;
            var v = new LayerVersion(accountId, key.layerName(), version, r.description(), config.now(), runtimes, arch,
                    r.licenseInfo(), ref.sha256Hex(), ref.size(), unzipped, null);
            config.append(new ConfigRecord.LayerVersionPut(v));
            return v;
        }
    }

    /** GetLayerVersion / GetLayerVersionByArn: the owner's, or another account's whose policy grants the caller. */
    public LayerVersion get(String callerAccount, LayerKey key, long version) {
        LayerVersion v = config.image().layerVersion(key, version).orElseThrow(LayerStore::notFound);
        if (!v.grants(callerAccount)) {
            throw denied(callerAccount, v.arn());
        }
        return v;
    }

    /** ListLayerVersions: newest first, as Lambda lists them; those of another account the caller may read. */
    public List<LayerVersion> versions(String callerAccount, LayerKey key, String runtime, String architecture) {
        return config.image().layer(key).stream()
                .flatMap(e -> e.versions().descendingMap().values().stream())
                .filter(v -> v.grants(callerAccount) && matches(v, runtime, architecture))
                .toList();
    }

    /** ListLayers: the caller's layers with their newest version matching the filters. */
    public List<LayerVersion> latestOfEach(String callerAccount, String runtime, String architecture) {
        return config.image().layersOf(callerAccount)
                .map(e -> e.versions().descendingMap().values().stream().filter(v -> matches(v, runtime, architecture)).findFirst())
                .flatMap(java.util.Optional::stream)
                .sorted(java.util.Comparator.comparing(LayerVersion::layerName))
                .toList();
    }

    /** DeleteLayerVersion: idempotent, as in Lambda (deleting what is not there succeeds and changes nothing). */
    public void delete(String accountId, LayerKey key, long version) {
        owner(key, accountId, key.arn());
        synchronized (config) {
            if (config.image().layerVersion(key, version).isPresent()) {
                config.append(new ConfigRecord.LayerVersionRemoved(key, version));
            }
        }
    }

    public LayerPolicy.Statement addPermission(String accountId, LayerKey key, long version, FunctionRequests.AddLayerPermission r) {
        owner(key, accountId, key.arn());
        if (r.statementId() == null || r.statementId().isEmpty() || r.statementId().length() > 100 || !SID.matcher(r.statementId()).matches()) {
            throw constraint("statementId", r.statementId(), "Member must satisfy regular expression pattern: " + SID.pattern()
                    + " and have length 1 to 100");
        }
        if (!"lambda:GetLayerVersion".equals(r.action())) {
            throw constraint("action", r.action(), "Member must satisfy regular expression pattern: lambda:GetLayerVersion");
        }
        Matcher p = PRINCIPAL.matcher(r.principal() == null ? "" : r.principal());
        if (!p.matches()) {
            throw constraint("principal", r.principal(), "Member must satisfy regular expression pattern: " + PRINCIPAL.pattern());
        }
        String principal = p.group(2) != null ? p.group(2) : r.principal();
        synchronized (config) {
            LayerVersion v = config.image().layerVersion(key, version).orElseThrow(LayerStore::notFound);
            LayerPolicy old = v.policy();
            policyRevision(old, r.revisionId());
            if (old != null && old.statement(r.statementId()) != null) {
                throw LambdaException.conflict("The statement id (" + r.statementId() + ") provided already exists. Please provide a new "
                        + "statement id, or remove the existing statement.");
            }
            var statement = new LayerPolicy.Statement(r.statementId(), principal, r.action(), v.arn());
            var statements = new ArrayList<>(old == null ? List.<LayerPolicy.Statement>of() : old.statements());
            statements.add(statement);
            var next = new LayerPolicy(UUID.randomUUID().toString(), statements);
            int bytes = Permissions.json(next.document()).getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            if (bytes > Permissions.MAX_POLICY_BYTES) {
                throw new LambdaException(400, "PolicyLengthExceededException",
                        "The final policy size (" + bytes + ") is bigger than the limit (" + Permissions.MAX_POLICY_BYTES + ").");
            }
            config.append(new ConfigRecord.LayerVersionPut(v.withPolicy(next)));
            return statement;
        }
    }

    public void removePermission(String accountId, LayerKey key, long version, String sid, String revisionId) {
        owner(key, accountId, key.arn());
        synchronized (config) {
            LayerVersion v = config.image().layerVersion(key, version).orElseThrow(LayerStore::notFound);
            policyRevision(v.policy(), revisionId);
            if (v.policy() == null || v.policy().statement(sid) == null) {
                throw LambdaException.notFound("Statement " + sid + " is not found in resource policy.");
            }
            var rest = v.policy().statements().stream().filter(s -> !s.sid().equals(sid)).toList();
            config.append(new ConfigRecord.LayerVersionPut(v.withPolicy(rest.isEmpty() ? null : new LayerPolicy(UUID.randomUUID().toString(), rest))));
        }
    }

    /** The owner's view of a version's policy: 404 when it has none, as Lambda answers. */
    public LayerPolicy policy(String accountId, LayerKey key, long version) {
        owner(key, accountId, key.arn());
        LayerVersion v = config.image().layerVersion(key, version).orElseThrow(LayerStore::notFound);
        if (v.policy() == null) {
            throw LambdaException.notFound("No policy is associated with the given resource.");
        }
        return v.policy();
    }

    // ---- a function's Layers ------------------------------------------------------------------

    /**
     * Resolves a function's {@code Layers}: at most five version ARNs, each of a version that exists
     * and that the account may use, one version per layer, compatible with the function's runtime
     * and architecture when the version declares them. Changes nothing.
     */
    List<FunctionLayer> resolve(String accountId, String runtime, List<String> architectures, List<String> arns) {
        if (arns == null || arns.isEmpty()) {
            return List.of();
        }
        if (arns.size() > MAX_FUNCTION_LAYERS) {
            throw LambdaException.invalidParameter("Cannot reference more than " + MAX_FUNCTION_LAYERS + " layers (" + arns.size() + " given).");
        }
        var seen = new HashSet<LayerKey>();
        var out = new ArrayList<FunctionLayer>();
        for (String arn : arns) {
            LayerKeyVersion k = parseVersionArn(arn, "layers");
            if (!seen.add(k.key())) {
                throw LambdaException.invalidParameter("Two different versions of the same layer are not allowed: " + k.key().arn()
                        + " is listed twice.");
            }
            LayerVersion v = k.here() ? config.image().layerVersion(k.key(), k.version()).orElse(null) : null;
            if (v == null) {
                throw LambdaException.invalidParameter("Layer version " + arn + " does not exist.");
            }
            if (!v.grants(accountId)) {
                throw denied(accountId, arn);
            }
            if (!v.compatibleRuntimes().isEmpty() && !v.compatibleRuntimes().contains(runtime)) {
                throw LambdaException.invalidParameter("Layer version " + arn + " is not compatible with runtime " + runtime
                        + ": its compatible runtimes are " + v.compatibleRuntimes());
            }
            if (!v.compatibleArchitectures().isEmpty() && !v.compatibleArchitectures().containsAll(architectures)) {
                throw LambdaException.invalidParameter("Layer version " + arn + " is not compatible with architectures " + architectures
                        + ": its compatible architectures are " + v.compatibleArchitectures());
            }
            out.add(new FunctionLayer(v.arn(), v.codeSha256Hex(), v.codeSize(), v.unzippedSize()));
        }
        return out;
    }

    // ---- helpers ------------------------------------------------------------------------------

    private static boolean matches(LayerVersion v, String runtime, String architecture) {
        return (runtime == null || v.compatibleRuntimes().contains(runtime))
                && (architecture == null || v.compatibleArchitectures().contains(architecture));
    }

    /** Only the owner publishes, deletes or manages permissions. */
    private static void owner(LayerKey key, String callerAccount, String raw) {
        if (!key.accountId().equals(callerAccount)) {
            throw LambdaException.accessDenied("User is not authorized to perform this action on resource " + raw
                    + " because the layer belongs to another account");
        }
    }

    private static void policyRevision(LayerPolicy policy, String expected) {
        if (expected != null && (policy == null || !expected.equals(policy.revisionId()))) {
            throw LambdaException.preconditionFailed("The Revision Id provided does not match the latest Revision Id. "
                    + "Call the GetLayerVersionPolicy API to retrieve the latest Revision Id");
        }
    }

    static LambdaException notFound() {
        return LambdaException.notFound("The resource you requested does not exist.");
    }

    private static LambdaException denied(String callerAccount, String arn) {
        return LambdaException.accessDenied("User: arn:aws:iam::" + callerAccount + ":root is not authorized to perform: "
                + "lambda:GetLayerVersion on resource: " + arn + " because no resource-based policy allows the lambda:GetLayerVersion action");
    }

    private static LambdaException constraint(String field, Object value, String rule) {
        return Limits.constraint(field, value, rule);
    }
}

package dev.ignis.config;

import dev.ignis.common.ElsewhereException;
import dev.ignis.common.Json;
import dev.ignis.common.LambdaException;
import dev.ignis.journal.Journal;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The config component: accounts, keys, functions, versions, aliases and code. Every change is
 * validated against the current image, turned into one journal record and appended; the record
 * changes the image only when the journal applies it. Writes are serialized (one writer at a
 * time) so validation always sees the state the record will be applied to.
 *
 * <p>Over 400 lines because every function, version, alias, concurrency, tag and policy write
 * holds that one lock while it checks against the image; the rules that stand alone are out of
 * it ({@link Limits}, {@link Permissions}, layers in {@link LayerStore}, which shares the lock).
 */
public final class ConfigStore implements AutoCloseable {
    private static final DateTimeFormatter LAST_MODIFIED = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSxx").withZone(ZoneOffset.UTC);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final ConfigStateMachine stateMachine;
    private final Journal journal;
    private final CodeStore code;
    private final SecretSealer sealer;
    private final Set<String> runtimes;
    private final Clock clock;
    private final ConcurrentHashMap<String, String> secretCache = new ConcurrentHashMap<>();
    private final LayerStore layers = new LayerStore(this);

    /** Where a store gets its journal: the store hands over the state machine the journal must apply to. */
    public interface JournalFactory {
        Journal open(dev.ignis.journal.JournalStateMachine stateMachine);
    }

    /**
     * @param runtimes runtime ids that CreateFunction accepts (known to Lambda and served on this host)
     */
    public ConfigStore(JournalFactory journals, CodeStore code, SecretSealer sealer, Set<String> runtimes, Clock clock) {
        this.stateMachine = new ConfigStateMachine();
        this.code = code;
        this.sealer = sealer;
        this.runtimes = Set.copyOf(runtimes);
        this.clock = clock;
        this.journal = journals.open(stateMachine);
    }

    /** The current image: the frontend's config cache. Never blocks. */
    public ConfigImage image() {
        return stateMachine.image();
    }

    /** Called after every applied record with the new image (e.g. to retire sandboxes of old revisions). */
    public void onChange(Consumer<ConfigImage> listener) {
        stateMachine.onChange(listener);
    }

    /** Receives the configuration log as it is applied: what a frontend's replica is fed with. */
    public interface RecordSink {
        /** The whole image as of {@code index} (the first call, and after a snapshot install). */
        void snapshot(long index, byte[] snapshot);

        /** One record, applied right after the previous call's index. */
        void record(long index, byte[] record);
    }

    /**
     * Streams this member's configuration to the sink: a snapshot now, then every record as it is
     * applied. Returns what cancels the watch. The sink is called on the journal's apply thread and
     * must not block.
     */
    public Runnable watch(RecordSink sink) {
        return stateMachine.watch(sink);
    }

    /** The journal behind this store (its leadership decides whether writes are accepted here). */
    public Journal journal() {
        return journal;
    }

    public CodeStore code() {
        return code;
    }

    /** Layers: publish, read, share and delete layer versions. */
    public LayerStore layers() {
        return layers;
    }

    public Set<String> runtimes() {
        return runtimes;
    }

    // ---- accounts and keys ------------------------------------------------------------------

    /** A new key's secret is shown once, at creation. */
    public record IssuedKey(String accountId, String accessKeyId, String secretAccessKey) {}

    public synchronized IssuedKey createAccount(String name) {
        if (name == null || !name.matches("[a-zA-Z0-9._-]{1,64}")) {
            throw LambdaException.invalidParameter("Account name must be 1 to 64 letters, digits, '.', '_' or '-'");
        }
        if (image().allAccounts().stream().anyMatch(a -> a.name().equals(name))) {
            throw LambdaException.conflict("Account already exists: " + name);
        }
        String id;
        do {
            id = String.format("%012d", Math.floorMod(RANDOM.nextLong(), 1_000_000_000_000L));
        } while (image().account(id).isPresent() || id.startsWith("0000"));
        var account = new Account(id, name, clock.instant());
        var key = newKey(id);
        append(new ConfigRecord.Batch(List.of(new ConfigRecord.AccountPut(account), new ConfigRecord.KeyPut(key.key()))));
        return key.issued();
    }

    public synchronized void deleteAccount(String accountIdOrName) {
        Account a = findAccount(accountIdOrName);
        append(new ConfigRecord.AccountRemoved(a.accountId()));
    }

    public Account findAccount(String accountIdOrName) {
        return image().allAccounts().stream()
                .filter(a -> a.accountId().equals(accountIdOrName) || a.name().equals(accountIdOrName))
                .findFirst()
                .orElseThrow(() -> LambdaException.notFound("Account not found: " + accountIdOrName));
    }

    public synchronized IssuedKey createKey(String accountIdOrName) {
        Account a = findAccount(accountIdOrName);
        var key = newKey(a.accountId());
        append(new ConfigRecord.KeyPut(key.key()));
        return key.issued();
    }

    /** Issues a new key for the same account and revokes the old one, in one record. */
    public synchronized IssuedKey rotateKey(String accessKeyId) {
        AccessKey old = image().key(accessKeyId).orElseThrow(() -> LambdaException.notFound("Access key not found: " + accessKeyId));
        var key = newKey(old.accountId());
        append(new ConfigRecord.Batch(List.of(new ConfigRecord.KeyPut(key.key()), new ConfigRecord.KeyRemoved(accessKeyId))));
        return key.issued();
    }

    public synchronized void revokeKey(String accessKeyId) {
        if (image().key(accessKeyId).isEmpty()) {
            throw LambdaException.notFound("Access key not found: " + accessKeyId);
        }
        append(new ConfigRecord.KeyRemoved(accessKeyId));
    }

    /** The secret of an active key (what SigV4 verification needs), or empty for an unknown key. */
    public Optional<String> secret(AccessKey key) {
        return Optional.of(secretCache.computeIfAbsent(key.accessKeyId() + ":" + java.util.Arrays.hashCode(key.sealedSecret()),
                k -> sealer.unseal(key)));
    }

    private record NewKey(AccessKey key, IssuedKey issued) {}

    private NewKey newKey(String accountId) {
        String id = "AKIG" + randomString("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16);
        String secret = randomString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40);
        return new NewKey(new AccessKey(id, accountId, sealer.seal(id, secret), clock.instant()), new IssuedKey(accountId, id, secret));
    }

    private static String randomString(String alphabet, int n) {
        var sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            sb.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
        }
        return sb.toString();
    }

    // ---- functions ----------------------------------------------------------------------------

    public FunctionEntry function(FunctionKey key) {
        return image().function(key).orElseThrow(() -> notFound(key.accountId(), key.functionName(), null));
    }

    public synchronized FunctionConfig createFunction(String accountId, FunctionRequests.Create r) {
        checkCreate(accountId, r);
        int timeout = r.timeout() == null ? Limits.DEFAULT_TIMEOUT : r.timeout();
        int memory = r.memorySize() == null ? Limits.DEFAULT_MEMORY : r.memorySize();
        int ephemeral = r.ephemeralStorageSize() == null ? Limits.DEFAULT_EPHEMERAL : r.ephemeralStorageSize();
        List<String> arch = architectures(r.architectures());
        if (r.zipFile() == null) {
            throw LambdaException.invalidParameter("Code.ZipFile, or Code.S3Bucket and Code.S3Key, is required (image packages are not supported)");
        }
        var key = new FunctionKey(accountId, r.functionName());
        List<FunctionLayer> layers = this.layers.resolve(accountId, r.runtime(), arch, r.layers());
        var ref = code.put(r.zipFile(), candidate -> admitCode(accountId, null, candidate));
        unzippedLimit(ref.sha256Hex(), layers);
        var latest = new FunctionConfig(accountId, r.functionName(), FunctionConfig.LATEST, r.runtime(), r.role(), r.handler(),
                r.description() == null ? "" : r.description(), timeout, memory, ephemeral, r.environment(), ref.sha256Hex(), ref.size(),
                now(), UUID.randomUUID().toString(), arch, "Active", "Successful", layers);
        var records = new ArrayList<ConfigRecord>();
        records.add(new ConfigRecord.LatestPut(latest));
        if (r.tags() != null && !r.tags().isEmpty()) {
            records.add(new ConfigRecord.TagsPut(key, r.tags()));
        }
        if (r.publish()) {
            records.add(new ConfigRecord.VersionPut(latest.withVersion("1", UUID.randomUUID().toString(), latest.lastModified())));
        }
        append(records.size() == 1 ? records.getFirst() : new ConfigRecord.Batch(records));
        return r.publish() ? function(key).versions().lastEntry().getValue() : function(key).latest();
    }

    /**
     * What CreateFunction checks before it looks at the package (the package itself is not needed):
     * lets the frontend refuse a bad request before it fetches a package from S3. Changes nothing.
     */
    public void checkCreate(String accountId, FunctionRequests.Create r) {
        FunctionName.parse(r.functionName(), accountId);
        if (r.functionName().contains(":")) {
            throw LambdaException.invalidParameter("CreateFunction takes a function name, not an ARN: " + r.functionName());
        }
        if (r.packageType() != null && !r.packageType().equals("Zip")) {
            throw LambdaException.invalidParameter("Only PackageType Zip is supported");
        }
        if (r.runtime() == null) {
            throw LambdaException.invalidParameter("Runtime is required for a .zip deployment package");
        }
        runtime(r.runtime());
        if (r.handler() == null && !r.runtime().startsWith("provided")) {
            throw LambdaException.invalidParameter("Handler is required for a .zip deployment package");
        }
        Limits.handler(r.handler());
        Limits.role(r.role());
        Limits.description(r.description());
        Limits.timeout(r.timeout() == null ? Limits.DEFAULT_TIMEOUT : r.timeout());
        Limits.memory(r.memorySize() == null ? Limits.DEFAULT_MEMORY : r.memorySize());
        Limits.ephemeral(r.ephemeralStorageSize() == null ? Limits.DEFAULT_EPHEMERAL : r.ephemeralStorageSize());
        Limits.environment(r.environment());
        architectures(r.architectures());
        Limits.tags(r.tags());
        if (image().function(new FunctionKey(accountId, r.functionName())).isPresent()) {
            throw LambdaException.conflict("Function already exist: " + r.functionName());
        }
        layers.resolve(accountId, r.runtime(), architectures(r.architectures()), r.layers());
    }

    public synchronized FunctionConfig updateCode(FunctionName fn, FunctionRequests.UpdateCode r) {
        FunctionEntry entry = function(fn.key());
        revision(entry.latest().revisionId(), r.revisionId());
        List<String> arch = r.architectures() == null ? entry.latest().architectures() : architectures(r.architectures());
        if (r.zipFile() == null) {
            throw LambdaException.invalidParameter("ZipFile, or S3Bucket and S3Key, is required (image packages are not supported)");
        }
        var ref = code.put(r.zipFile(), candidate -> admitCode(fn.accountId(), fn.key(), candidate));
        FunctionConfig old = entry.latest();
        unzippedLimit(ref.sha256Hex(), old.layers());
        var latest = new FunctionConfig(old.accountId(), old.functionName(), FunctionConfig.LATEST, old.runtime(), old.role(),
                old.handler(), old.description(), old.timeout(), old.memorySize(), old.ephemeralStorageSize(), old.environment(),
                ref.sha256Hex(), ref.size(), now(), UUID.randomUUID().toString(), arch, "Active", "Successful", old.layers());
        if (r.dryRun()) {
            return latest;
        }
        var records = new ArrayList<ConfigRecord>();
        records.add(new ConfigRecord.LatestPut(latest));
        FunctionConfig published = r.publish() ? publishRecord(entry, latest, null, records) : null;
        append(records.size() == 1 ? records.getFirst() : new ConfigRecord.Batch(records));
        return published != null ? published : function(fn.key()).latest();
    }

    public synchronized FunctionConfig updateConfiguration(FunctionName fn, FunctionRequests.UpdateConfiguration r) {
        FunctionEntry entry = function(fn.key());
        FunctionConfig old = entry.latest();
        revision(old.revisionId(), r.revisionId());
        if (r.runtime() != null) {
            runtime(r.runtime());
        }
        if (r.role() != null) {
            Limits.role(r.role());
        }
        Limits.handler(r.handler());
        Limits.description(r.description());
        if (r.timeout() != null) {
            Limits.timeout(r.timeout());
        }
        if (r.memorySize() != null) {
            Limits.memory(r.memorySize());
        }
        if (r.ephemeralStorageSize() != null) {
            Limits.ephemeral(r.ephemeralStorageSize());
        }
        Limits.environment(r.environment());
        // Layers given replace the function's (an empty list removes them); else they stay as resolved, even if deleted since
        List<FunctionLayer> layers = r.layers() == null ? old.layers()
                : this.layers.resolve(fn.accountId(), or(r.runtime(), old.runtime()), old.architectures(), r.layers());
        unzippedLimit(old.codeSha256Hex(), layers);
        var latest = new FunctionConfig(old.accountId(), old.functionName(), FunctionConfig.LATEST,
                or(r.runtime(), old.runtime()), or(r.role(), old.role()), or(r.handler(), old.handler()),
                or(r.description(), old.description()), or(r.timeout(), old.timeout()), or(r.memorySize(), old.memorySize()),
                or(r.ephemeralStorageSize(), old.ephemeralStorageSize()), or(r.environment(), old.environment()),
                old.codeSha256Hex(), old.codeSize(), now(), UUID.randomUUID().toString(), old.architectures(), "Active", "Successful",
                layers);
        append(new ConfigRecord.LatestPut(latest));
        return function(fn.key()).latest();
    }

    public synchronized FunctionConfig publishVersion(FunctionName fn, FunctionRequests.Publish r) {
        FunctionEntry entry = function(fn.key());
        FunctionConfig latest = entry.latest();
        revision(latest.revisionId(), r.revisionId());
        if (r.codeSha256() != null && !r.codeSha256().equals(new CodeStore.CodeRef(latest.codeSha256Hex(), 0).sha256Base64())) {
            throw LambdaException.invalidParameter("CodeSHA256 (" + r.codeSha256() + ") is different from current CodeSHA256 in $LATEST. Please try again with the CodeSHA256 in $LATEST.");
        }
        var records = new ArrayList<ConfigRecord>();
        FunctionConfig v = publishRecord(entry, latest, r.description(), records);
        if (!records.isEmpty()) {
            append(records.getFirst());
        }
        return v;
    }

    /** AWS publishes nothing new when $LATEST equals the newest version: it returns that version. */
    private FunctionConfig publishRecord(FunctionEntry entry, FunctionConfig latest, String description, List<ConfigRecord> out) {
        var newest = entry.versions().isEmpty() ? null : entry.versions().lastEntry().getValue();
        if (newest != null && newest.sameContentAs(latest) && out.isEmpty()) {
            return newest;
        }
        String version = Long.toString(entry.lastPublished() + 1);
        FunctionConfig v = latest.withVersion(version, UUID.randomUUID().toString(), latest.lastModified());
        if (description != null) {
            Limits.description(description);
            v = new FunctionConfig(v.accountId(), v.functionName(), v.version(), v.runtime(), v.role(), v.handler(), description,
                    v.timeout(), v.memorySize(), v.ephemeralStorageSize(), v.environment(), v.codeSha256Hex(), v.codeSize(),
                    v.lastModified(), v.revisionId(), v.architectures(), v.state(), v.lastUpdateStatus(), v.layers());
        }
        out.add(new ConfigRecord.VersionPut(v));
        return v;
    }

    public synchronized void deleteFunction(FunctionName fn, String qualifier) {
        FunctionEntry entry = function(fn.key());
        if (qualifier == null) {
            append(new ConfigRecord.FunctionRemoved(fn.key()));
            return;
        }
        if (FunctionConfig.LATEST.equals(qualifier)) {
            throw LambdaException.invalidParameter("$LATEST version cannot be deleted without deleting the function.");
        }
        FunctionConfig v = entry.version(qualifier);
        if (v == null) {
            throw notFound(fn.accountId(), fn.name(), qualifier);
        }
        for (Alias a : entry.aliases().values()) {
            if (a.functionVersion().equals(qualifier) || a.additionalVersionWeights().containsKey(qualifier)) {
                throw LambdaException.conflict("Unable to delete version because the following aliases reference it: [" + a.name() + "]");
            }
        }
        append(new ConfigRecord.VersionRemoved(fn.key(), Long.parseLong(qualifier)));
    }

    // ---- code storage -------------------------------------------------------------------------

    /**
     * Bytes of code the account keeps: every distinct package that its functions' $LATEST and
     * published versions and its layer versions name, counted once (the store keeps one copy of identical zips).
     */
    public long codeStorageUsed(String accountId) {
        return codeSizes(accountId, null).values().stream().mapToLong(Long::longValue).sum();
    }

    /** The most {@link #codeStorageUsed} may reach (Lambda's "function and layer storage" quota). */
    public long codeStorageLimit() {
        return code.settings().accountStorageLimit();
    }

    /** Refuses a package that would take the account over its code storage quota, before it is unpacked or stored. */
    void admitCode(String accountId, FunctionKey replacingLatestOf, CodeStore.CodeRef ref) {
        var sizes = codeSizes(accountId, replacingLatestOf);
        if (sizes.containsKey(ref.sha256Hex())) {
            return;
        }
        long used = sizes.values().stream().mapToLong(Long::longValue).sum();
        if (used + ref.size() > codeStorageLimit()) {
            throw new LambdaException(400, "CodeStorageExceededException", "Code storage limit exceeded. The account stores "
                    + used + " bytes of code and may store " + codeStorageLimit() + "; delete unused functions or versions.");
        }
    }

    private java.util.Map<String, Long> codeSizes(String accountId, FunctionKey replacingLatestOf) {
        var sizes = new java.util.HashMap<String, Long>();
        image().functionsOf(accountId).forEach(e -> {
            if (!new FunctionKey(accountId, e.latest().functionName()).equals(replacingLatestOf)) {
                sizes.put(e.latest().codeSha256Hex(), e.latest().codeSize());
            }
            e.versions().values().forEach(v -> sizes.put(v.codeSha256Hex(), v.codeSize()));
            // the layers functions use stay stored after their versions are deleted
            java.util.stream.Stream.concat(java.util.stream.Stream.of(e.latest()), e.versions().values().stream())
                    .flatMap(c -> c.layers().stream()).forEach(l -> sizes.put(l.codeSha256Hex(), l.codeSize()));
        });
        image().layersOf(accountId).forEach(l -> l.versions().values().forEach(v -> sizes.put(v.codeSha256Hex(), v.codeSize())));
        return sizes;
    }

    /** Lambda's 250 MB unzipped limit, over the function's code and its layers together. */
    private void unzippedLimit(String codeSha256Hex, List<FunctionLayer> layers) {
        if (layers.isEmpty()) {
            return; // the code alone was held to it while unpacking
        }
        long total = code.unzippedSize(codeSha256Hex) + layers.stream().mapToLong(FunctionLayer::unzippedSize).sum();
        if (total > ZipValidator.MAX_UNZIPPED) {
            throw LambdaException.invalidParameter("Function code combined with layers exceeds the maximum allowed size of "
                    + ZipValidator.MAX_UNZIPPED + " bytes. The actual size is " + total + " bytes.");
        }
    }

    // ---- aliases ------------------------------------------------------------------------------

    public synchronized Alias createAlias(FunctionName fn, FunctionRequests.AliasInput in) {
        FunctionEntry entry = function(fn.key());
        Limits.aliasName(in.name());
        if (entry.aliases().containsKey(in.name())) {
            throw LambdaException.conflict("Alias already exists: " + aliasArn(fn, in.name()));
        }
        var alias = checkedAlias(fn, entry, in.name(), in.functionVersion(), in.description(), in.additionalVersionWeights());
        append(new ConfigRecord.AliasPut(fn.key(), alias));
        return alias;
    }

    public synchronized Alias updateAlias(FunctionName fn, String name, FunctionRequests.AliasInput in) {
        FunctionEntry entry = function(fn.key());
        Alias old = alias(fn, name);
        revision(old.revisionId(), in.revisionId());
        var alias = checkedAlias(fn, entry, name, or(in.functionVersion(), old.functionVersion()), or(in.description(), old.description()),
                in.additionalVersionWeights() == null ? old.additionalVersionWeights() : in.additionalVersionWeights());
        append(new ConfigRecord.AliasPut(fn.key(), alias));
        return alias;
    }

    public synchronized void deleteAlias(FunctionName fn, String name) {
        function(fn.key());
        alias(fn, name);
        append(new ConfigRecord.AliasRemoved(fn.key(), name));
    }

    public Alias alias(FunctionName fn, String name) {
        Alias a = function(fn.key()).aliases().get(name);
        if (a == null) {
            throw LambdaException.notFound("Cannot find alias arn: " + aliasArn(fn, name));
        }
        return a;
    }

    private Alias checkedAlias(FunctionName fn, FunctionEntry entry, String name, String version, String description,
                               java.util.Map<String, Double> weights) {
        if (version == null || entry.version(version) == null) {
            throw LambdaException.notFound("Function not found: " + functionArn(fn.accountId(), fn.name()) + ":" + version);
        }
        Limits.description(description);
        if (weights != null && !weights.isEmpty()) {
            if (weights.size() > 1) {
                throw LambdaException.invalidParameter("RoutingConfig supports only one additional version");
            }
            var e = weights.entrySet().iterator().next();
            if (e.getValue() == null || e.getValue() < 0.0 || e.getValue() > 1.0) {
                throw LambdaException.invalidParameter("Additional version weight must be between 0.0 and 1.0");
            }
            if (e.getKey().equals(version)) {
                throw LambdaException.invalidParameter("Primary and additional version must differ");
            }
            if (FunctionConfig.LATEST.equals(version) || FunctionConfig.LATEST.equals(e.getKey())) {
                throw LambdaException.invalidParameter("$LATEST is not supported for an alias pointing to more than 1 version");
            }
            if (entry.version(e.getKey()) == null) {
                throw LambdaException.notFound("Function not found: " + functionArn(fn.accountId(), fn.name()) + ":" + e.getKey());
            }
        }
        return new Alias(name, version, description == null ? "" : description, weights, UUID.randomUUID().toString());
    }

    // ---- concurrency --------------------------------------------------------------------------

    public synchronized int putConcurrency(FunctionName fn, Integer reserved, int accountLimit) {
        function(fn.key());
        if (reserved == null || reserved < 0) {
            throw LambdaException.invalidParameter("ReservedConcurrentExecutions must be 0 or more");
        }
        if (reserved > accountLimit) {
            throw LambdaException.invalidParameter("Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [0].");
        }
        append(new ConfigRecord.ConcurrencyPut(fn.key(), reserved));
        return reserved;
    }

    public synchronized void deleteConcurrency(FunctionName fn) {
        function(fn.key());
        append(new ConfigRecord.ConcurrencyPut(fn.key(), null));
    }

    // ---- tags ---------------------------------------------------------------------------------

    /** TagResource: adds or replaces the given tags; the result must stay within {@link Limits#tags}. */
    public synchronized java.util.Map<String, String> tag(FunctionKey function, java.util.Map<String, String> add) {
        FunctionEntry entry = function(function);
        if (add == null || add.isEmpty()) {
            throw LambdaException.invalidParameter("Tags is required and must name at least one tag");
        }
        Limits.tags(add);
        var next = new java.util.TreeMap<>(entry.tags());
        next.putAll(add);
        Limits.tags(next);
        if (!next.equals(entry.tags())) {
            append(new ConfigRecord.TagsPut(function, next));
        }
        return function(function).tags();
    }

    /** UntagResource: removes the given keys; keys the function does not have are ignored, as Lambda does. */
    public synchronized java.util.Map<String, String> untag(FunctionKey function, List<String> keys) {
        FunctionEntry entry = function(function);
        if (keys == null || keys.isEmpty()) {
            throw LambdaException.invalidParameter("TagKeys is required and must name at least one tag key");
        }
        var next = new java.util.TreeMap<>(entry.tags());
        keys.forEach(next.keySet()::remove);
        if (!next.equals(entry.tags())) {
            append(new ConfigRecord.TagsPut(function, next));
        }
        return function(function).tags();
    }

    // ---- resource policies --------------------------------------------------------------------

    /**
     * AddPermission on the function (qualifier null) or one of its versions or aliases: the
     * statement id must be new in that policy (409), RevisionId must match the policy's (412; a
     * function without a policy has no revision to match).
     */
    public synchronized PolicyStatement addPermission(FunctionKey function, String qualifier, FunctionRequests.AddPermission r) {
        FunctionEntry entry = policyTarget(function, qualifier);
        String resource = functionArn(function.accountId(), function.functionName()) + (qualifier == null ? "" : ":" + qualifier);
        PolicyStatement statement = Permissions.statement(r, resource);
        FunctionPolicy old = entry.policy(qualifier);
        policyRevision(old, r.revisionId());
        if (old != null && old.statement(statement.sid()) != null) {
            throw LambdaException.conflict("The statement id (" + statement.sid() + ") provided already exists. Please provide a new "
                    + "statement id, or remove the existing statement.");
        }
        var statements = new ArrayList<PolicyStatement>(old == null ? List.of() : old.statements());
        statements.add(statement);
        var next = new FunctionPolicy(UUID.randomUUID().toString(), statements);
        Permissions.size(next);
        append(new ConfigRecord.PolicyPut(function, qualifier, next));
        return statement;
    }

    /** RemovePermission: an unknown statement id is 404; RevisionId as for {@link #addPermission}. */
    public synchronized void removePermission(FunctionKey function, String qualifier, String sid, String revisionId) {
        FunctionEntry entry = policyTarget(function, qualifier);
        FunctionPolicy old = entry.policy(qualifier);
        policyRevision(old, revisionId);
        if (old == null || old.statement(sid) == null) {
            throw LambdaException.notFound("Statement " + sid + " is not found in resource policy.");
        }
        var statements = old.statements().stream().filter(s -> !s.sid().equals(sid)).toList();
        append(new ConfigRecord.PolicyPut(function, qualifier, new FunctionPolicy(UUID.randomUUID().toString(), statements)));
    }

    /** GetPolicy: 404 when the function, version or alias has no policy, as Lambda answers. */
    public FunctionPolicy policy(FunctionKey function, String qualifier) {
        FunctionPolicy p = policyTarget(function, qualifier).policy(qualifier);
        if (p == null) {
            throw LambdaException.notFound("The resource you requested does not exist.");
        }
        return p;
    }

    /** The policy document serialized as GetPolicy's {@code Policy} and AddPermission's {@code Statement} carry it. */
    public static String json(Object document) {
        return Permissions.json(document);
    }

    private FunctionEntry policyTarget(FunctionKey function, String qualifier) {
        FunctionEntry entry = function(function);
        if (qualifier != null && entry.resolve(qualifier) == null) {
            throw notFound(function.accountId(), function.functionName(), qualifier);
        }
        return entry;
    }

    private static void policyRevision(FunctionPolicy policy, String expected) {
        if (expected != null && (policy == null || !expected.equals(policy.revisionId()))) {
            throw LambdaException.preconditionFailed("The Revision Id provided does not match the latest Revision Id. "
                    + "Call the GetPolicy API to retrieve the latest Revision Id");
        }
    }

    // ---- function URLs ------------------------------------------------------------------------

    /**
     * CreateFunctionUrlConfig for the function (qualifier null), an alias or $LATEST: one URL each
     * (409 for a second), a new random id. What may call it is the resource policy's business
     * ({@link PolicyStatement#grantsUrl}), not the URL's: as in Lambda, a NONE URL answers 403 until
     * the policy grants everyone.
     */
    public synchronized FunctionUrl createUrl(FunctionKey function, String qualifier, FunctionRequests.UrlConfig r) {
        FunctionEntry entry = urlTarget(function, qualifier);
        String authType = FunctionUrls.authType(r.authType());
        var cors = FunctionUrls.cors(r.cors());
        String mode = or(FunctionUrls.invokeMode(r.invokeMode()), FunctionUrl.BUFFERED);
        if (entry.url(qualifier) != null) {
            throw LambdaException.conflict("Failed to create function url config for [functionArn = "
                    + functionArn(function.accountId(), function.functionName()) + (qualifier == null ? "" : ":" + qualifier)
                    + "]. Error message:  FunctionUrlConfig exists for this Lambda function");
        }
        String now = clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MICROS).toString();
        var url = new FunctionUrl(FunctionUrls.newId(image()), qualifier, authType, cors, mode, now, now);
        append(new ConfigRecord.UrlPut(function, qualifier, url));
        return url;
    }

    /** UpdateFunctionUrlConfig: members left out keep their value (the id never changes). */
    public synchronized FunctionUrl updateUrl(FunctionKey function, String qualifier, FunctionRequests.UrlConfig r) {
        FunctionUrl old = url(function, qualifier);
        String authType = r.authType() == null ? old.authType() : FunctionUrls.authType(r.authType());
        var cors = r.cors() == null ? old.cors() : FunctionUrls.cors(r.cors());
        String mode = or(FunctionUrls.invokeMode(r.invokeMode()), old.invokeMode());
        var url = new FunctionUrl(old.urlId(), qualifier, authType, cors, mode, old.creationTime(),
                clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MICROS).toString());
        append(new ConfigRecord.UrlPut(function, qualifier, url));
        return url;
    }

    public synchronized void deleteUrl(FunctionKey function, String qualifier) {
        url(function, qualifier);
        append(new ConfigRecord.UrlPut(function, qualifier, null));
    }

    /** GetFunctionUrlConfig: 404 when there is none. */
    public FunctionUrl url(FunctionKey function, String qualifier) {
        FunctionUrl u = urlTarget(function, qualifier).url(qualifier);
        if (u == null) {
            throw LambdaException.notFound("The resource you requested does not exist.");
        }
        return u;
    }

    /** True for a string shaped as a URL id (32 lower-case letters and digits). */
    public static boolean isUrlId(String s) {
        return FunctionUrls.isId(s);
    }

    private FunctionEntry urlTarget(FunctionKey function, String qualifier) {
        FunctionUrls.qualifier(qualifier);
        FunctionEntry entry = function(function);
        if (qualifier != null && !FunctionConfig.LATEST.equals(qualifier) && !entry.aliases().containsKey(qualifier)) {
            throw notFound(function.accountId(), function.functionName(), qualifier);
        }
        return entry;
    }

    // ---- helpers ------------------------------------------------------------------------------

    public static String functionArn(String accountId, String name) {
        return "arn:aws:lambda:" + Region.NAME + ":" + accountId + ":function:" + name;
    }

    public static String aliasArn(FunctionName fn, String alias) {
        return functionArn(fn.accountId(), fn.name()) + ":" + alias;
    }

    public static LambdaException notFound(String accountId, String name, String qualifier) {
        return LambdaException.notFound("Function not found: " + functionArn(accountId, name) + (qualifier == null ? "" : ":" + qualifier));
    }

    private void runtime(String runtime) {
        if (!runtimes.contains(runtime)) {
            throw Limits.constraint("runtime", runtime, "Member must satisfy enum value set: " + new java.util.TreeSet<>(runtimes));
        }
    }

    private static List<String> architectures(List<String> arch) {
        if (arch == null || arch.isEmpty()) {
            return List.of("x86_64");
        }
        if (!arch.equals(List.of("x86_64"))) {
            throw LambdaException.invalidParameter("Architectures must be [x86_64]: this Ignis installation has no arm64 workers");
        }
        return arch;
    }

    private static void revision(String current, String expected) {
        if (expected != null && !expected.equals(current)) {
            throw LambdaException.preconditionFailed("The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id");
        }
    }

    private static <T> T or(T value, T fallback) {
        return value != null ? value : fallback;
    }

    String now() {
        return LAST_MODIFIED.format(clock.instant());
    }

    void append(ConfigRecord record) {
        byte[] bytes;
        try {
            bytes = Json.mapper().writeValueAsBytes(record);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            journal.append(bytes).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw LambdaException.service("Interrupted while writing the configuration");
        } catch (java.util.concurrent.ExecutionException | CompletionException e) {
            if (e.getCause() instanceof ElsewhereException notHere) {
                throw notHere; // refused before it was appended (leadership moved): retried at the leader
            }
            throw LambdaException.service("The configuration journal refused the write: " + e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw LambdaException.service("The configuration journal did not commit within 30 s");
        }
    }

    /** Snapshots the state machine through the journal (lets the log be truncated). */
    public long snapshot() {
        return journal.snapshot();
    }

    @Override
    public void close() {
        journal.close();
    }
}

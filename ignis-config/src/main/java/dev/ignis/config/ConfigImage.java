package dev.ignis.config;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * An immutable view of the whole configuration at one log index. Readers (the frontend on every
 * request) hold one without locking; {@link #replay} returns the next image.
 *
 * <p>Design note (KRaft's MetadataImage): all state changes go through {@code replay}, which the
 * leader, followers, snapshot loading and restart recovery share.
 */
public record ConfigImage(long appliedIndex,
                          Map<String, Account> accounts,
                          Map<String, AccessKey> keys,
                          Map<FunctionKey, FunctionEntry> functions,
                          Map<LayerKey, LayerEntry> layers) {

    public static final ConfigImage EMPTY = new ConfigImage(0, Map.of(), Map.of(), Map.of(), Map.of());

    public ConfigImage {
        accounts = Map.copyOf(accounts);
        keys = Map.copyOf(keys);
        functions = Map.copyOf(functions);
        layers = layers == null ? Map.of() : Map.copyOf(layers);
    }

    public Optional<LayerEntry> layer(LayerKey key) {
        return Optional.ofNullable(layers.get(key));
    }

    /** One layer version; empty when the layer or that version does not exist (or was deleted). */
    public Optional<LayerVersion> layerVersion(LayerKey key, long version) {
        return layer(key).map(e -> e.versions().get(version));
    }

    public Stream<LayerEntry> layersOf(String accountId) {
        return layers.entrySet().stream().filter(e -> e.getKey().accountId().equals(accountId)).map(Map.Entry::getValue);
    }

    public Optional<Account> account(String accountId) {
        return Optional.ofNullable(accounts.get(accountId));
    }

    public Optional<AccessKey> key(String accessKeyId) {
        return Optional.ofNullable(keys.get(accessKeyId));
    }

    public Optional<FunctionEntry> function(FunctionKey key) {
        return Optional.ofNullable(functions.get(key));
    }

    public Stream<FunctionEntry> functionsOf(String accountId) {
        return functions.values().stream().filter(f -> f.latest().accountId().equals(accountId));
    }

    public Collection<Account> allAccounts() {
        return accounts.values();
    }

    /** The image after one more record. Pure: the same record on the same image gives the same result. */
    public ConfigImage replay(long index, ConfigRecord record) {
        var next = new Builder(this);
        next.apply(record);
        return next.build(index);
    }

    private static final class Builder {
        private final Map<String, Account> accounts;
        private final Map<String, AccessKey> keys;
        private final Map<FunctionKey, FunctionEntry> functions;
        private final Map<LayerKey, LayerEntry> layers;

        Builder(ConfigImage from) {
            accounts = new HashMap<>(from.accounts);
            keys = new HashMap<>(from.keys);
            functions = new HashMap<>(from.functions);
            layers = new HashMap<>(from.layers);
        }

        void apply(ConfigRecord record) {
            switch (record) {
                case ConfigRecord.Batch b -> b.records().forEach(this::apply);
                case ConfigRecord.AccountPut a -> accounts.put(a.account().accountId(), a.account());
                case ConfigRecord.AccountRemoved a -> {
                    accounts.remove(a.accountId());
                    keys.values().removeIf(k -> k.accountId().equals(a.accountId()));
                    functions.keySet().removeIf(f -> f.accountId().equals(a.accountId()));
                    layers.keySet().removeIf(l -> l.accountId().equals(a.accountId()));
                }
                case ConfigRecord.KeyPut k -> keys.put(k.key().accessKeyId(), k.key());
                case ConfigRecord.KeyRemoved k -> keys.remove(k.accessKeyId());
                case ConfigRecord.LatestPut l -> functions.compute(l.config().key(), (key, old) -> old == null
                        ? FunctionEntry.of(l.config())
                        : new FunctionEntry(l.config(), old.versions(), old.aliases(), old.reservedConcurrency(), old.lastPublished(), old.tags(), old.policies(), old.urls()));
                case ConfigRecord.VersionPut v -> functions.computeIfPresent(v.config().key(), (key, old) -> {
                    var versions = new TreeMap<>(old.versions());
                    long n = Long.parseLong(v.config().version());
                    versions.put(n, v.config());
                    return new FunctionEntry(old.latest(), versions, old.aliases(), old.reservedConcurrency(),
                            Math.max(n, old.lastPublished()), old.tags(), old.policies(), old.urls());
                });
                case ConfigRecord.VersionRemoved v -> functions.computeIfPresent(v.function(), (key, old) -> {
                    var versions = new TreeMap<>(old.versions());
                    versions.remove(v.version());
                    return new FunctionEntry(old.latest(), versions, old.aliases(), old.reservedConcurrency(), old.lastPublished(), old.tags(),
                            withPolicy(old.policies(), Long.toString(v.version()), null), old.urls()); // a deleted version's policy goes with it
                });
                case ConfigRecord.FunctionRemoved f -> functions.remove(f.function());
                case ConfigRecord.AliasPut a -> functions.computeIfPresent(a.function(), (key, old) -> {
                    var aliases = new HashMap<>(old.aliases());
                    aliases.put(a.alias().name(), a.alias());
                    return new FunctionEntry(old.latest(), old.versions(), aliases, old.reservedConcurrency(), old.lastPublished(), old.tags(), old.policies(), old.urls());
                });
                case ConfigRecord.AliasRemoved a -> functions.computeIfPresent(a.function(), (key, old) -> {
                    var aliases = new HashMap<>(old.aliases());
                    aliases.remove(a.name());
                    return new FunctionEntry(old.latest(), old.versions(), aliases, old.reservedConcurrency(), old.lastPublished(), old.tags(),
                            withPolicy(old.policies(), a.name(), null), without(old.urls(), a.name())); // and an alias's URL
                });
                case ConfigRecord.ConcurrencyPut c -> functions.computeIfPresent(c.function(), (key, old) ->
                        new FunctionEntry(old.latest(), old.versions(), old.aliases(), c.reserved(), old.lastPublished(), old.tags(), old.policies(), old.urls()));
                case ConfigRecord.TagsPut t -> functions.computeIfPresent(t.function(), (key, old) ->
                        new FunctionEntry(old.latest(), old.versions(), old.aliases(), old.reservedConcurrency(), old.lastPublished(), t.tags(), old.policies(), old.urls()));
                case ConfigRecord.PolicyPut p -> functions.computeIfPresent(p.function(), (key, old) ->
                        new FunctionEntry(old.latest(), old.versions(), old.aliases(), old.reservedConcurrency(), old.lastPublished(), old.tags(),
                                withPolicy(old.policies(), p.qualifier() == null ? FunctionEntry.UNQUALIFIED : p.qualifier(),
                                        p.policy() == null || p.policy().statements().isEmpty() ? null : p.policy()), old.urls()));
                case ConfigRecord.UrlPut u -> functions.computeIfPresent(u.function(), (key, old) -> {
                    String k = u.qualifier() == null ? FunctionEntry.UNQUALIFIED : u.qualifier();
                    var urls = without(old.urls(), k);
                    if (u.url() != null) {
                        urls.put(k, u.url());
                    }
                    return new FunctionEntry(old.latest(), old.versions(), old.aliases(), old.reservedConcurrency(), old.lastPublished(),
                            old.tags(), old.policies(), urls);
                });
                case ConfigRecord.LayerVersionPut l -> layers.compute(l.version().key(), (key, old) -> {
                    var versions = new TreeMap<Long, LayerVersion>(old == null ? Map.of() : old.versions());
                    versions.put(l.version().version(), l.version());
                    return new LayerEntry(versions, Math.max(l.version().version(), old == null ? 0 : old.lastVersion()));
                });
                case ConfigRecord.LayerVersionRemoved l -> layers.computeIfPresent(l.layer(), (key, old) -> {
                    var versions = new TreeMap<>(old.versions());
                    versions.remove(l.version());
                    return new LayerEntry(versions, old.lastVersion()); // kept without versions: numbers are never reused
                });
            }
        }

        private static Map<String, FunctionPolicy> withPolicy(Map<String, FunctionPolicy> policies, String qualifier, FunctionPolicy policy) {
            var next = new HashMap<>(policies);
            if (policy == null) {
                next.remove(qualifier);
            } else {
                next.put(qualifier, policy);
            }
            return next;
        }

        private static Map<String, FunctionUrl> without(Map<String, FunctionUrl> urls, String qualifier) {
            var next = new HashMap<>(urls);
            next.remove(qualifier);
            return next;
        }

        ConfigImage build(long index) {
            return new ConfigImage(index, accounts, keys, functions, layers);
        }
    }
}

package dev.ignis.config;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.util.List;

/**
 * A change to the configuration, as written to the journal. Records carry every value the change
 * needs (ids, timestamps, revision ids are chosen before the append), so replaying them is
 * deterministic on every member and after every restart.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "t")
@JsonSubTypes({
        @JsonSubTypes.Type(value = ConfigRecord.Batch.class, name = "batch"),
        @JsonSubTypes.Type(value = ConfigRecord.AccountPut.class, name = "account"),
        @JsonSubTypes.Type(value = ConfigRecord.AccountRemoved.class, name = "account-"),
        @JsonSubTypes.Type(value = ConfigRecord.KeyPut.class, name = "key"),
        @JsonSubTypes.Type(value = ConfigRecord.KeyRemoved.class, name = "key-"),
        @JsonSubTypes.Type(value = ConfigRecord.LatestPut.class, name = "latest"),
        @JsonSubTypes.Type(value = ConfigRecord.VersionPut.class, name = "version"),
        @JsonSubTypes.Type(value = ConfigRecord.VersionRemoved.class, name = "version-"),
        @JsonSubTypes.Type(value = ConfigRecord.FunctionRemoved.class, name = "function-"),
        @JsonSubTypes.Type(value = ConfigRecord.AliasPut.class, name = "alias"),
        @JsonSubTypes.Type(value = ConfigRecord.AliasRemoved.class, name = "alias-"),
        @JsonSubTypes.Type(value = ConfigRecord.ConcurrencyPut.class, name = "concurrency"),
        @JsonSubTypes.Type(value = ConfigRecord.TagsPut.class, name = "tags"),
        @JsonSubTypes.Type(value = ConfigRecord.PolicyPut.class, name = "policy"),
        @JsonSubTypes.Type(value = ConfigRecord.UrlPut.class, name = "url"),
        @JsonSubTypes.Type(value = ConfigRecord.LayerVersionPut.class, name = "layer"),
        @JsonSubTypes.Type(value = ConfigRecord.LayerVersionRemoved.class, name = "layer-"),
})
public sealed interface ConfigRecord {

    /** Several records applied atomically (one log entry), e.g. CreateFunction with Publish. */
    record Batch(List<ConfigRecord> records) implements ConfigRecord {}

    record AccountPut(Account account) implements ConfigRecord {}

    /** Removes the account, its keys and its functions. */
    record AccountRemoved(String accountId) implements ConfigRecord {}

    record KeyPut(AccessKey key) implements ConfigRecord {}

    record KeyRemoved(String accessKeyId) implements ConfigRecord {}

    /** Creates the function or replaces its $LATEST. */
    record LatestPut(FunctionConfig config) implements ConfigRecord {}

    record VersionPut(FunctionConfig config) implements ConfigRecord {}

    record VersionRemoved(FunctionKey function, long version) implements ConfigRecord {}

    record FunctionRemoved(FunctionKey function) implements ConfigRecord {}

    record AliasPut(FunctionKey function, Alias alias) implements ConfigRecord {}

    record AliasRemoved(FunctionKey function, String name) implements ConfigRecord {}

    /** Sets (or clears, with null) reserved concurrency. */
    record ConcurrencyPut(FunctionKey function, Integer reserved) implements ConfigRecord {}

    /** Replaces the function's whole tag map (TagResource and UntagResource compute it before the append). */
    record TagsPut(FunctionKey function, java.util.Map<String, String> tags) implements ConfigRecord {}

    /**
     * Replaces the resource policy of the function (qualifier null) or of one version or alias;
     * a policy without statements removes it (AddPermission / RemovePermission compute it first).
     */
    record PolicyPut(FunctionKey function, String qualifier, FunctionPolicy policy) implements ConfigRecord {}

    /**
     * Creates or replaces the function URL of the function (qualifier null) or of an alias or
     * {@code $LATEST}; a null url removes it.
     */
    record UrlPut(FunctionKey function, String qualifier, FunctionUrl url) implements ConfigRecord {}

    /** Publishes a layer version, or replaces it with the same version under a new policy. */
    record LayerVersionPut(LayerVersion version) implements ConfigRecord {}

    /** Deletes a layer version; functions configured with it keep its content ({@link FunctionLayer}). */
    record LayerVersionRemoved(LayerKey layer, long version) implements ConfigRecord {}
}

package dev.ignis.config;

import java.util.List;

/**
 * One published, immutable version of a layer: its archive (content-addressed in the {@link CodeStore}
 * like function code, stored once), the unzipped size it adds to a function, the metadata
 * PublishLayerVersion takes, and its permission policy (AddLayerVersionPermission; null for none).
 */
public record LayerVersion(String accountId, String layerName, long version, String description, String createdDate,
                           List<String> compatibleRuntimes, List<String> compatibleArchitectures, String licenseInfo,
                           String codeSha256Hex, long codeSize, long unzippedSize, LayerPolicy policy) {

    public LayerVersion {
        compatibleRuntimes = compatibleRuntimes == null ? List.of() : List.copyOf(compatibleRuntimes);
        compatibleArchitectures = compatibleArchitectures == null ? List.of() : List.copyOf(compatibleArchitectures);
        description = description == null ? "" : description;
    }

    public LayerKey key() {
        return new LayerKey(accountId, layerName);
    }

    public String arn() {
        return key().versionArn(version);
    }

    /** True when another account may use (and read) this version: its policy names that account, or everyone. */
    public boolean grants(String callerAccount) {
        return callerAccount.equals(accountId) || policy != null && policy.statements().stream().anyMatch(s -> s.grants(callerAccount));
    }

    LayerVersion withPolicy(LayerPolicy next) {
        return new LayerVersion(accountId, layerName, version, description, createdDate, compatibleRuntimes, compatibleArchitectures,
                licenseInfo, codeSha256Hex, codeSize, unzippedSize, next);
    }
}

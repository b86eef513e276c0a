package dev.ignis.config;

import java.util.List;
import java.util.Map;

/**
 * One function version's configuration: {@code $LATEST} or a published, immutable version.
 * Field names follow AWS's FunctionConfiguration.
 */
public record FunctionConfig(
        String accountId,
        String functionName,
        String version,
        String runtime,
        String role,
        String handler,
        String description,
        int timeout,
        int memorySize,
        int ephemeralStorageSize,
        Map<String, String> environment,
        String codeSha256Hex,
        long codeSize,
        String lastModified,
        String revisionId,
        List<String> architectures,
        String state,
        String lastUpdateStatus,
        List<FunctionLayer> layers) {

    public static final String LATEST = "$LATEST";

    public FunctionConfig {
        environment = environment == null ? Map.of() : Map.copyOf(environment);
        architectures = List.copyOf(architectures);
        layers = layers == null ? List.of() : List.copyOf(layers); // null: a record from before layers
    }

    public FunctionKey key() {
        return new FunctionKey(accountId, functionName);
    }

    /** Same code and configuration (what PublishVersion compares), ignoring version and revision. */
    boolean sameContentAs(FunctionConfig other) {
        return other != null
                && codeSha256Hex.equals(other.codeSha256Hex)
                && runtime.equals(other.runtime)
                && java.util.Objects.equals(handler, other.handler)
                && java.util.Objects.equals(role, other.role)
                && java.util.Objects.equals(description, other.description)
                && timeout == other.timeout
                && memorySize == other.memorySize
                && ephemeralStorageSize == other.ephemeralStorageSize
                && environment.equals(other.environment)
                && layers.equals(other.layers);
    }

    FunctionConfig withVersion(String newVersion, String newRevisionId, String newLastModified) {
        return new FunctionConfig(accountId, functionName, newVersion, runtime, role, handler, description, timeout,
                memorySize, ephemeralStorageSize, environment, codeSha256Hex, codeSize, newLastModified, newRevisionId,
                architectures, state, lastUpdateStatus, layers);
    }

    /** The layers' archives, in the order they are extracted into /opt. */
    public List<String> layerSha256Hexes() {
        return layers.stream().map(FunctionLayer::codeSha256Hex).toList();
    }
}

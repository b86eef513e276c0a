package dev.ignis.config;

import java.util.List;
import java.util.Map;

/** The control-plane requests the config store accepts, already decoded from JSON by the frontend. */
public final class FunctionRequests {
    private FunctionRequests() {}

    public record Create(String functionName, String runtime, String role, String handler, String description,
                         Integer timeout, Integer memorySize, Integer ephemeralStorageSize, Map<String, String> environment,
                         byte[] zipFile, boolean publish, List<String> architectures, String packageType,
                         Map<String, String> tags, List<String> layers) {

        /** Without layers. */
        public Create(String functionName, String runtime, String role, String handler, String description, Integer timeout,
                      Integer memorySize, Integer ephemeralStorageSize, Map<String, String> environment, byte[] zipFile,
                      boolean publish, List<String> architectures, String packageType, Map<String, String> tags) {
            this(functionName, runtime, role, handler, description, timeout, memorySize, ephemeralStorageSize, environment, zipFile,
                    publish, architectures, packageType, tags, null);
        }

        /** Without tags. */
        public Create(String functionName, String runtime, String role, String handler, String description, Integer timeout,
                      Integer memorySize, Integer ephemeralStorageSize, Map<String, String> environment, byte[] zipFile,
                      boolean publish, List<String> architectures, String packageType) {
            this(functionName, runtime, role, handler, description, timeout, memorySize, ephemeralStorageSize, environment, zipFile,
                    publish, architectures, packageType, null, null);
        }
    }

    /** Null fields are left unchanged ({@code layers} empty removes every layer). */
    public record UpdateConfiguration(String runtime, String role, String handler, String description, Integer timeout,
                                      Integer memorySize, Integer ephemeralStorageSize, Map<String, String> environment,
                                      String revisionId, List<String> layers) {}

    /** PublishLayerVersion: the archive (already fetched when it came from S3) and the metadata. */
    public record PublishLayer(String layerName, String description, byte[] zipFile, List<String> compatibleRuntimes,
                               List<String> compatibleArchitectures, String licenseInfo) {}

    /** AddLayerVersionPermission's members that Ignis stores. */
    public record AddLayerPermission(String statementId, String action, String principal, String revisionId) {}

    public record UpdateCode(byte[] zipFile, boolean publish, String revisionId, List<String> architectures, boolean dryRun) {}

    public record Publish(String codeSha256, String description, String revisionId) {}

    public record AliasInput(String name, String functionVersion, String description, Map<String, Double> additionalVersionWeights,
                             String revisionId) {}

    /**
     * AddPermission's members that Ignis stores (the rest are refused by the frontend).
     *
     * @param functionUrlAuthType   the {@code lambda:FunctionUrlAuthType} condition of a {@code lambda:InvokeFunctionUrl} grant
     * @param invokedViaFunctionUrl the {@code lambda:InvokedViaFunctionUrl} condition of a {@code lambda:InvokeFunction} grant
     */
    public record AddPermission(String statementId, String action, String principal, String sourceArn, String sourceAccount,
                                String revisionId, String functionUrlAuthType, Boolean invokedViaFunctionUrl) {
        public AddPermission(String statementId, String action, String principal, String sourceArn, String sourceAccount, String revisionId) {
            this(statementId, action, principal, sourceArn, sourceAccount, revisionId, null, null);
        }
    }

    /** Create/UpdateFunctionUrlConfig's body; on update a null member keeps the URL's current value. */
    public record UrlConfig(String authType, FunctionUrl.Cors cors, String invokeMode) {}
}

package dev.ignis.worker;

import java.nio.file.Path;
import java.util.Map;

/**
 * Everything a worker needs to start one sandbox for one function version.
 *
 * @param codeDirectory the unpacked deployment package on the host; mounted read-only at /var/task
 * @param layersDirectory the function's layers, merged on the host in their order; mounted read-only at /opt
 *                        (null: no layers, an empty /opt)
 * @param revisionId    the configuration revision this sandbox runs; a newer revision means new sandboxes
 */
public record SandboxSpec(
        String accountId,
        String region,
        String functionName,
        String functionArn,
        String version,
        String revisionId,
        String runtime,
        String handler,
        int memoryMb,
        int timeoutSeconds,
        int ephemeralStorageMb,
        Map<String, String> environment,
        Path codeDirectory,
        Path layersDirectory) {
    public SandboxSpec {
        environment = Map.copyOf(environment);
    }

    /** A function without layers. */
    public SandboxSpec(String accountId, String region, String functionName, String functionArn, String version, String revisionId,
                       String runtime, String handler, int memoryMb, int timeoutSeconds, int ephemeralStorageMb,
                       Map<String, String> environment, Path codeDirectory) {
        this(accountId, region, functionName, functionArn, version, revisionId, runtime, handler, memoryMb, timeoutSeconds,
                ephemeralStorageMb, environment, codeDirectory, null);
    }
}

package dev.ignis.worker;

import java.nio.file.Path;
import java.util.Map;

/**
 * Everything a worker needs to start one sandbox for one function version.
 *
 * @param codeDirectory the unpacked deployment package on the host; mounted read-only at /var/task
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
        Path codeDirectory) {
    public SandboxSpec {
        environment = Map.copyOf(environment);
    }
}

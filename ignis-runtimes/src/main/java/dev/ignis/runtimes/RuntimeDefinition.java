package dev.ignis.runtimes;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * How a managed runtime is started inside a sandbox, the way Lambda starts it.
 *
 * @param id               the Lambda runtime id, e.g. python3.11, java21, nodejs20.x, provided.al2023
 * @param servedBy         the honest name of what serves it on this host, e.g. "Temurin 25.0.1 (/usr/lib/jvm/temurin-25-jdk-amd64)"
 * @param runtimeDirectory host directory mounted read-only at /var/runtime (bootstrap and client), or null
 * @param hostReadOnlyPaths host paths bound read-only at the same path inside the sandbox (interpreter, JDK, libraries)
 * @param command          argv run inside the sandbox, with cwd /var/task
 * @param environment      extra environment variables (e.g. AWS_EXECUTION_ENV, PATH, LD_LIBRARY_PATH)
 * @param directoryBinds   sandbox directory -> host directory bound read-only there (the runtime's own copies of
 *                         its shared libraries, {@link LibraryCopies}); bound after {@code hostReadOnlyPaths}
 */
public record RuntimeDefinition(
        String id,
        String servedBy,
        Path runtimeDirectory,
        List<Path> hostReadOnlyPaths,
        List<String> command,
        Map<String, String> environment,
        Map<Path, Path> directoryBinds) {
    public RuntimeDefinition {
        hostReadOnlyPaths = List.copyOf(hostReadOnlyPaths);
        command = List.copyOf(command);
        environment = Map.copyOf(environment);
        directoryBinds = Map.copyOf(directoryBinds);
    }

    public RuntimeDefinition(String id, String servedBy, Path runtimeDirectory, List<Path> hostReadOnlyPaths,
                             List<String> command, Map<String, String> environment) {
        this(id, servedBy, runtimeDirectory, hostReadOnlyPaths, command, environment, Map.of());
    }
}

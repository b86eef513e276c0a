package dev.ignis.assignment;

/**
 * Which sandboxes can serve an invoke: one function version at one configuration revision. A new
 * revision (code or configuration update) never reuses a sandbox of an older one.
 */
public record SandboxKey(String accountId, String functionName, String version, String revisionId) {}

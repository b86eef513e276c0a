package dev.ignis.chunk;

/**
 * What one garbage collection did.
 *
 * @param roots           manifests found (each one a root)
 * @param reachableChunks distinct chunks referenced by the roots
 * @param deletedChunks   unreachable chunks deleted from the origin (and caches)
 * @param protectedChunks unreachable chunks kept because an in-flight ingest holds them or they are
 *                        younger than the grace period
 * @param deletedLogs     page access logs whose manifest no longer exists
 */
public record GcReport(int roots, int reachableChunks, int deletedChunks, int protectedChunks, int deletedLogs) {
}

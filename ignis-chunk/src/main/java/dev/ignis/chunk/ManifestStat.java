package dev.ignis.chunk;

/**
 * A summary of one manifest ({@code ignis chunks stat}).
 *
 * @param id             manifest id
 * @param layer          layer tag
 * @param owner          owner
 * @param size           plaintext bytes
 * @param chunkSize      bytes per chunk
 * @param chunks         chunk count
 * @param zeroChunks     all-zero chunks (not stored)
 * @param distinctChunks distinct stored chunk ids
 * @param hasAccessLog   whether a page access log is stored beside it
 */
public record ManifestStat(ManifestId id, Layer layer, Owner owner, long size, int chunkSize, int chunks,
                           int zeroChunks, int distinctChunks, boolean hasAccessLog) {
}

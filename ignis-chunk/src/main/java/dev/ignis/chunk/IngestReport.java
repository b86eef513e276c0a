package dev.ignis.chunk;

/**
 * The outcome of one ingest.
 *
 * @param manifestId    name of the new manifest
 * @param chunks        chunks in the object (including zero chunks)
 * @param zeroChunks    all-zero chunks (not stored)
 * @param newChunks     chunks uploaded to the origin
 * @param dedupedChunks chunks already present (shared with an earlier ingest), not uploaded again
 * @param baseChunks    chunks equal to a chunk of a base layer, recorded as that chunk (not uploaded)
 * @param uploadedBytes ciphertext bytes uploaded
 */
public record IngestReport(ManifestId manifestId, int chunks, int zeroChunks, int newChunks, int dedupedChunks,
                           int baseChunks, long uploadedBytes) {
}

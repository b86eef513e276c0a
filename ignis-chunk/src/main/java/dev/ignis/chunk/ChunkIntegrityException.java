package dev.ignis.chunk;

/**
 * A chunk, manifest or log failed authentication: its bytes were altered, swapped for another
 * chunk's, or encrypted under a key this reader does not hold. Nothing is served when this is thrown.
 */
public final class ChunkIntegrityException extends RuntimeException {
    public ChunkIntegrityException(String message) {
        super(message);
    }

    public ChunkIntegrityException(String message, Throwable cause) {
        super(message, cause);
    }
}

package dev.ignis.worker;

/**
 * The sandbox's runtime had exited before it took the invoke (for example, a Java runtime that
 * exits after reporting an OutOfMemoryError): nothing of the invoke ran, so the caller retires the
 * sandbox and may safely send the invoke to another one.
 */
public final class SandboxGoneException extends RuntimeException {
    public SandboxGoneException(String sandboxId, String exit) {
        super("sandbox " + sandboxId + " is gone (" + exit + ") before the invoke started");
    }
}

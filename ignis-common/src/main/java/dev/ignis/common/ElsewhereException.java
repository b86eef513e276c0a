package dev.ignis.common;

/**
 * This member could not serve the request and changed nothing: another member can (a journal's
 * follower refusing an append, or a leader that stepped down before appending). The request path
 * answers it as retryable instead of as an internal failure, and a cluster frontend retries it at
 * the member that leads now.
 */
public class ElsewhereException extends RuntimeException {
    public ElsewhereException(String message) {
        super(message);
    }
}

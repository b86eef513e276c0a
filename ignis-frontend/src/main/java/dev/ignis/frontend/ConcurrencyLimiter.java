package dev.ignis.frontend;

import dev.ignis.common.LambdaException;
import dev.ignis.config.FunctionKey;
import java.util.HashMap;
import java.util.Map;

/**
 * Lambda's concurrency model: a function with reserved concurrency runs at most that many invokes
 * at once (0 throttles every invoke); all other functions of the account share what is left of the
 * account limit (1,000 by default).
 */
final class ConcurrencyLimiter {
    private final int accountLimit;
    private final Map<FunctionKey, Integer> running = new HashMap<>();
    private final Map<String, Integer> unreservedRunning = new HashMap<>();
    private final Map<String, Integer> accountRunning = new HashMap<>();

    ConcurrencyLimiter(int accountLimit) {
        this.accountLimit = accountLimit;
    }

    /** Invokes of the function running now (ConcurrentExecutions). */
    synchronized int running(FunctionKey fn) {
        return running.getOrDefault(fn, 0);
    }

    /** Invokes of the account running now. */
    synchronized int accountRunning(String accountId) {
        return accountRunning.getOrDefault(accountId, 0);
    }

    /** Invokes of the account running now in functions without reserved concurrency (UnreservedConcurrentExecutions). */
    synchronized int unreservedRunning(String accountId) {
        return unreservedRunning.getOrDefault(accountId, 0);
    }

    /** A slot to release exactly once. */
    interface Slot extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * @param reserved      the function's reserved concurrency, or null
     * @param reservedTotal the sum of reserved concurrency over the account's functions
     */
    synchronized Slot acquire(FunctionKey fn, Integer reserved, int reservedTotal) {
        int now = running.getOrDefault(fn, 0);
        if (reserved != null) {
            if (now >= reserved) {
                throw LambdaException.throttled("ReservedFunctionConcurrentInvocationLimitExceeded", "Rate Exceeded.");
            }
        } else {
            int shared = unreservedRunning.getOrDefault(fn.accountId(), 0);
            if (shared >= accountLimit - reservedTotal) {
                throw LambdaException.throttled("ConcurrentInvocationLimitExceeded", "Rate Exceeded.");
            }
            unreservedRunning.merge(fn.accountId(), 1, Integer::sum);
        }
        running.merge(fn, 1, Integer::sum);
        accountRunning.merge(fn.accountId(), 1, Integer::sum);
        boolean shared = reserved == null;
        return new Slot() {
            private boolean closed;

            @Override
            public void close() {
                synchronized (ConcurrencyLimiter.this) {
                    if (closed) {
                        return;
                    }
                    closed = true;
                    running.merge(fn, -1, (a, b) -> a + b == 0 ? null : a + b);
                    accountRunning.merge(fn.accountId(), -1, (a, b) -> a + b == 0 ? null : a + b);
                    if (shared) {
                        unreservedRunning.merge(fn.accountId(), -1, (a, b) -> a + b == 0 ? null : a + b);
                    }
                }
            }
        };
    }
}

package dev.ignis.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.common.LambdaException;
import dev.ignis.config.FunctionKey;
import org.junit.jupiter.api.Test;

/** The counts the concurrency gauges read follow the slots, whatever order they close in, and never go below zero. */
class ConcurrencyLimiterTest {
    private static final FunctionKey SHARED = new FunctionKey("111111111111", "shared");
    private static final FunctionKey RESERVED = new FunctionKey("111111111111", "reserved");

    @Test
    void runningCountsFollowTheSlots() {
        var limiter = new ConcurrencyLimiter(3);
        var a = limiter.acquire(SHARED, null, 1);
        var b = limiter.acquire(SHARED, null, 1);
        var c = limiter.acquire(RESERVED, 1, 1);
        assertThatThrownBy(() -> limiter.acquire(RESERVED, 1, 1)).isInstanceOf(LambdaException.class);
        assertThatThrownBy(() -> limiter.acquire(SHARED, null, 1)).isInstanceOf(LambdaException.class);
        assertThat(limiter.running(SHARED)).isEqualTo(2);
        assertThat(limiter.running(RESERVED)).isEqualTo(1);
        assertThat(limiter.accountRunning("111111111111")).isEqualTo(3);
        assertThat(limiter.unreservedRunning("111111111111")).isEqualTo(2);
        a.close();
        a.close();
        c.close();
        assertThat(limiter.accountRunning("111111111111")).isEqualTo(1);
        assertThat(limiter.unreservedRunning("111111111111")).isEqualTo(1);
        b.close();
        assertThat(limiter.running(SHARED)).isZero();
        assertThat(limiter.accountRunning("111111111111")).isZero();
        assertThat(limiter.unreservedRunning("111111111111")).isZero();
        assertThat(limiter.accountRunning("222222222222")).isZero();
    }
}

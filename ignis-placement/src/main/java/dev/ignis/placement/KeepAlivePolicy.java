package dev.ignis.placement;

import java.time.Duration;

/**
 * How long an idle sandbox of a function is kept before it is retired. The policy learns from each function's
 * idle times (the gap between the end of one invoke on a sandbox and the next request for the function).
 */
public interface KeepAlivePolicy {

    /** How long an idle sandbox of {@code function} is kept now. */
    Duration keepAlive(String function);

    /** One observed gap between two invocations of {@code function}. */
    void observeIdle(String function, Duration idle);

    String name();

    /** The same window for every function (Lambda's and Ignis's default: minutes). */
    static KeepAlivePolicy fixed(Duration window) {
        return new KeepAlivePolicy() {
            @Override
            public Duration keepAlive(String function) {
                return window;
            }

            @Override
            public void observeIdle(String function, Duration idle) {}

            @Override
            public String name() {
                return "fixed " + window.toMinutes() + " min";
            }
        };
    }
}

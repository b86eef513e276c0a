package dev.ignis.worker;

/** {@link InvokeRoundTripTest} with every sandbox started in a ready shell: both start paths run the same suite. */
class InvokeRoundTripInShellTest extends InvokeRoundTripTest {
    @Override
    BubblewrapDriver.StartPath startPath() {
        return BubblewrapDriver.StartPath.READY_SHELL;
    }
}

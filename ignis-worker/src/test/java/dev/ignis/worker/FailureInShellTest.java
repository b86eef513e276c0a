package dev.ignis.worker;

/** {@link FailureTest} with every sandbox started in a ready shell: both start paths run the same suite. */
class FailureInShellTest extends FailureTest {
    @Override
    BubblewrapDriver.StartPath startPath() {
        return BubblewrapDriver.StartPath.READY_SHELL;
    }
}

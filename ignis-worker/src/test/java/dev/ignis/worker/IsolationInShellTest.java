package dev.ignis.worker;

/** {@link IsolationTest} with every sandbox started in a ready shell: both start paths run the same suite. */
class IsolationInShellTest extends IsolationTest {
    @Override
    BubblewrapDriver.StartPath startPath() {
        return BubblewrapDriver.StartPath.READY_SHELL;
    }
}

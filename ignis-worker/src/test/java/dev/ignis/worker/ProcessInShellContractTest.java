package dev.ignis.worker;

/** {@link SandboxContract} on the process driver with every sandbox started in a ready shell: both start paths run it. */
class ProcessInShellContractTest extends ProcessContractTest {
    @Override
    BubblewrapDriver.StartPath startPath() {
        return BubblewrapDriver.StartPath.READY_SHELL;
    }
}

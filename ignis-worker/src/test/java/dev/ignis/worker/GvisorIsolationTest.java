package dev.ignis.worker;

import static dev.ignis.worker.IsolationTest.HOSTILE;
import static dev.ignis.worker.TestSandboxes.text;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@link IsolationTest}'s hostile probes against sandboxes of the gvisor driver. Where gVisor answers differently
 * the expectation says why (docs/sandbox-gvisor.md): ptrace among the sandbox's own tasks is gVisor's (the host's
 * ptrace is never reached), gVisor's /proc/net lists its own sockets only, and a fork bomb meets the memory limit
 * (the Sentry's per-process cost counts) before or at the task limit.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GvisorIsolationTest {
    TestSandboxes t;
    SandboxHandle hostile;
    SandboxHandle neighbour;
    Path neighbourCode;

    @BeforeAll
    void start() {
        t = GvisorSuites.sandboxes(Duration.ofSeconds(30));
        hostile = t.python(HOSTILE, 512, 20, 16);
        neighbourCode = t.code(Map.of("function.py", HOSTILE));
        neighbour = t.worker.createSandbox(TestSandboxes.spec("python3.11", neighbourCode, 512, 20, 16, Map.of()));
        assertThat(probe(neighbour, "{\"probe\":\"marker\",\"name\":\"neighbour\"}")).startsWith("\"ALLOWED");
    }

    @AfterAll
    void stop() {
        if (t != null) {
            t.close();
        }
    }

    String probe(SandboxHandle h, String event) {
        InvokeOutcome o = t.invoke(h, event);
        assertThat(o.status()).as(text(o)).isEqualTo(InvokeOutcome.Status.SUCCESS);
        return text(o);
    }

    @Test
    void hostSecretsWorkerStateAndOtherSandboxesAreInvisible() {
        assertThat(probe(hostile, "{\"probe\":\"read\",\"path\":\"/etc/shadow\"}")).startsWith("\"DENIED: ENOENT");
        assertThat(probe(hostile, "{\"probe\":\"list\",\"path\":\"" + t.base.resolve("data") + "\"}")).startsWith("\"DENIED: ENOENT");
        assertThat(probe(hostile, "{\"probe\":\"list\",\"path\":\"/root\"}")).startsWith("\"DENIED: ENOENT");
        assertThat(probe(hostile, "{\"probe\":\"list\",\"path\":\"" + neighbourCode + "\"}")).startsWith("\"DENIED: ENOENT");
        assertThat(probe(hostile, "{\"probe\":\"read\",\"path\":\"/tmp/marker-neighbour\"}")).startsWith("\"DENIED: ENOENT");
        assertThat(probe(neighbour, "{\"probe\":\"read\",\"path\":\"/tmp/marker-neighbour\"}")).startsWith("\"ALLOWED");
        // read-only binds: gVisor answers EACCES to the sandbox's uid where the host kernel says EROFS
        for (String path : List.of("/var/task/x", "/var/runtime/x", "/usr/x", "/x")) {
            assertThat(probe(hostile, "{\"probe\":\"write\",\"path\":\"" + path + "\"}")).as(path).startsWith("\"DENIED: E");
        }
    }

    @Test
    void onlyTheSandboxsOwnProcessesAreVisible() {
        // no bwrap init: the runtime is gVisor's pid 1
        assertThat(probe(hostile, "{\"probe\":\"pids\"}")).isEqualTo("[1]");
    }

    @Test
    void hostLoopbackAndOtherRuntimeApisAreUnreachable() throws IOException {
        try (ServerSocket host = new ServerSocket()) {
            host.bind(new InetSocketAddress("0.0.0.0", 0));
            int port = host.getLocalPort();
            assertThat(probe(hostile, "{\"probe\":\"connect\",\"host\":\"127.0.0.1\",\"port\":" + port + "}"))
                    .isEqualTo("\"DENIED: ECONNREFUSED\"");
            assertThat(probe(hostile, "{\"probe\":\"connect\",\"host\":\"1.1.1.1\",\"port\":53}")).startsWith("\"DENIED: ENETUNREACH");
        }
        // hostinet sockets are the host's: gVisor's /proc/net/tcp does not list them (the process driver's lists 9001)
        assertThat(probe(hostile, "{\"probe\":\"listeners\"}")).isEqualTo("[]");
        long neighbourRequests = t.worker.runtimeApiRequests(neighbour.sandboxId());
        assertThat(probe(hostile, "{\"probe\":\"connect\",\"host\":\"127.0.0.1\",\"port\":9001}")).isEqualTo("\"ALLOWED: 'connected'\"");
        assertThat(t.worker.runtimeApiRequests(neighbour.sandboxId())).isEqualTo(neighbourRequests);
    }

    @Test
    void aRuntimeCannotOpenUnboundedRuntimeApiConnections() {
        assertThat(Integer.parseInt(probe(hostile, "{\"probe\":\"flood\"}"))).isGreaterThanOrEqualTo(50 - 8);
    }

    @Test
    void privilegedCallsAreDeniedAndNoCapabilitiesRemain() {
        // PTRACE_TRACEME succeeds: gVisor implements ptrace between the sandbox's own tasks; the host's is never called
        assertThat(probe(hostile, "{\"probe\":\"ptrace\"}")).isEqualTo("\"ALLOWED: 0\"");
        assertThat(probe(hostile, "{\"probe\":\"mount\"}")).isEqualTo("\"DENIED: EPERM\"");
        // no user namespace of gVisor's either (the bundle's seccomp, runsc --oci-seccomp): without it this succeeded
        // and the tenant then held every capability in it (CapEff 3fffffffff, uid 65534)
        assertThat(probe(hostile, "{\"probe\":\"unshare\"}")).isEqualTo("\"DENIED: EPERM\"");
        // gVisor's kernel serves these, under the bundle's seccomp program (Seccomp 2); its /proc has no NoNewPrivs line
        assertThat(probe(hostile, "{\"probe\":\"status\"}")).contains("\"CapEff\": \"0000000000000000\"",
                "\"CapPrm\": \"0000000000000000\"", "\"CapBnd\": \"0000000000000000\"", "\"Seccomp\": \"2\"",
                "\"Uid\": \"993\\t993\\t993\\t993\"");
    }

    @Test
    void everyHostProcessOfEverySandboxIsItsOwnUnprivilegedUid() throws IOException {
        assertThat(probe(hostile, "{\"probe\":\"uid\"}")).isEqualTo("[993, 993, 993, []]"); // inside gVisor: the bundle's
        List<ProcessHandle> sandboxProcesses = ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").contains("/gvisor/state/sb-")).toList();
        assertThat(sandboxProcesses).as("runsc, Sentry and Gofer of two sandboxes").hasSizeGreaterThanOrEqualTo(6);
        for (ProcessHandle p : sandboxProcesses) {
            String uidLine = Files.readAllLines(Path.of("/proc/" + p.pid() + "/status")).stream()
                    .filter(l -> l.startsWith("Uid:")).findFirst().orElseThrow();
            assertThat(uidLine.split("\\s+")[1]).as("host uid of pid " + p.pid()).matches("2\\d{5}");
        }
    }

    @Test
    void fileDescriptorsAndCoreFilesAreBoundedAsOnLambda() {
        String r = probe(hostile, "{\"probe\":\"rlimits\"}");
        assertThat(r).contains("\"nofile\": [1024, 1024]", "\"core\": [0, 0]", "\"error\": \"EMFILE\"", "\"raise\": \"DENIED: EPERM\"");
        assertThat(Integer.parseInt(r.replaceAll(".*\"opened\": (\\d+).*", "$1"))).isLessThan(1024);
    }

    @Test
    void writingPastTheTmpCapFailsWithEnospc() {
        assertThat(probe(hostile, "{\"probe\":\"fill\",\"mb\":8}")).isEqualTo("\"ALLOWED: 'wrote all'\"");
        assertThat(probe(hostile, "{\"probe\":\"fill\",\"mb\":20}")).isEqualTo("\"DENIED: ENOSPC\"");
    }

    @Test
    void forkBombIsContainedByTheSandboxsTaskLimit() {
        SandboxHandle h = t.python(HOSTILE, 512, 40, 16);
        try {
            long t0 = System.nanoTime();
            InvokeOutcome o = t.invoke(h, "{\"probe\":\"forkbomb\"}");
            String r = text(o);
            System.out.printf("gvisor: fork bomb ended in %d ms: %s %s%n", (System.nanoTime() - t0) / 1_000_000, o.status(), r);
            if (o.status() == InvokeOutcome.Status.SUCCESS) { // stopped by RLIMIT_NPROC inside gVisor
                assertThat(r).matches("\"stopped after \\d+ forks: EAGAIN\"");
                assertThat(Integer.parseInt(r.replaceAll("\\D+(\\d+).*", "$1"))).isLessThan(TestSandboxes.PIDS_MAX);
            } else { // or the whole sandbox was killed at its memory limit first
                assertThat(o.status()).isEqualTo(InvokeOutcome.Status.EXIT_ERROR);
                assertThat(r).contains("signal: killed", "out of memory");
            }
        } finally {
            t.worker.retire(h.sandboxId());
        }
        assertThat(probe(hostile, "{\"probe\":\"uid\"}")).isEqualTo("[993, 993, 993, []]");
    }
}

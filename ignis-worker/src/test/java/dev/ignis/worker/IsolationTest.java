package dev.ignis.worker;

import static dev.ignis.worker.TestSandboxes.text;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A hostile python function probes its sandbox; every probe must be denied. One sandbox serves the
 * read-only probes (one invoke each); probes that wreck a sandbox get their own. Every sandbox starts
 * from scratch here, in a ready shell in {@link IsolationInShellTest}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IsolationTest {
    /** Dispatches on event["probe"]; returns what happened, never raises. */
    static final String HOSTILE = """
            import os, socket, ctypes, errno, time
            libc = ctypes.CDLL(None, use_errno=True)
            def attempt(f):
                try:
                    return "ALLOWED: " + repr(f())
                except OSError as e:
                    return "DENIED: " + errno.errorcode.get(e.errno, str(e.errno))
            def connect(host, port):
                s = socket.socket(); s.settimeout(2)
                try:
                    s.connect((host, port)); return "connected"
                finally:
                    s.close()
            def syscall(name, *args):
                r = getattr(libc, name)(*args)
                if r != 0:
                    e = ctypes.get_errno(); raise OSError(e, os.strerror(e))
                return r
            def fill_tmp(mb):
                with open("/tmp/fill", "wb") as f:
                    for i in range(mb):
                        f.write(b"x" * 1048576); f.flush()
                return "wrote all"
            def fork_bomb():
                n = 0
                while True:
                    try:
                        pid = os.fork()
                    except OSError as e:
                        return "stopped after %d forks: %s" % (n, errno.errorcode.get(e.errno))
                    if pid == 0:
                        time.sleep(60); os._exit(0)
                    n += 1
            def handler(event):
                p = event["probe"]
                if p == "read": return attempt(lambda: open(event["path"]).read(100))
                if p == "list": return attempt(lambda: sorted(os.listdir(event["path"])))
                if p == "write": return attempt(lambda: open(event["path"], "w").write("x"))
                if p == "connect": return attempt(lambda: connect(event["host"], event["port"]))
                if p == "pids": return sorted(int(d) for d in os.listdir("/proc") if d.isdigit())
                if p == "listeners": return [l.split()[1] for l in open("/proc/net/tcp").read().splitlines()[1:] if l.split()[3] == "0A"]
                if p == "ptrace": return attempt(lambda: syscall("ptrace", 0, 0, 0, 0))
                if p == "mount": return attempt(lambda: syscall("mount", b"none", b"/tmp", b"tmpfs", 0, None))
                if p == "unshare": return attempt(lambda: syscall("unshare", 0x10000000))
                if p == "status": return {l.split(":")[0]: l.split(":")[1].strip() for l in open("/proc/self/status") if ":" in l}
                if p == "uid": return [os.getuid(), os.geteuid(), os.getgid(), os.getgroups()]
                if p == "fill": return attempt(lambda: fill_tmp(event["mb"]))
                if p == "forkbomb": return fork_bomb()
                if p == "flood":
                    socks, refused = [], 0
                    for i in range(50):
                        s = socket.socket(); s.settimeout(2); s.connect(("127.0.0.1", 9001)); socks.append(s)
                    time.sleep(0.3)
                    for s in socks:
                        try:
                            s.send(b"GET /2018-06-01/runtime/restore/next HTTP/1.1\\r\\n\\r\\n")
                            if s.recv(100) == b"": refused += 1
                        except OSError:
                            refused += 1
                        s.close()
                    return refused
                if p == "rlimits":
                    import resource
                    fds, err = [], "none"
                    try:
                        for i in range(2000):
                            fds.append(os.open("/dev/null", os.O_RDONLY))
                    except OSError as e:
                        err = errno.errorcode.get(e.errno)
                    for fd in fds:
                        os.close(fd)
                    lim = (ctypes.c_ulong * 2)(4096, 4096)  # the kernel, not python's own check
                    raise_hard = attempt(lambda: syscall("setrlimit", resource.RLIMIT_NOFILE, ctypes.byref(lim)))
                    return {"nofile": list(resource.getrlimit(resource.RLIMIT_NOFILE)), "core": list(resource.getrlimit(resource.RLIMIT_CORE)),
                            "opened": len(fds), "error": err, "raise": raise_hard}
                if p == "marker": return attempt(lambda: open("/tmp/marker-" + event["name"], "w").write("secret"))
                return "unknown probe"
            """;

    static TestSandboxes t;
    static SandboxHandle hostile;
    static SandboxHandle neighbour;
    static Path neighbourCode;

    BubblewrapDriver.StartPath startPath() {
        return BubblewrapDriver.StartPath.FROM_SCRATCH;
    }

    /** The worker the suite runs on (overridden to run the suite on another driver). */
    TestSandboxes sandboxes() {
        return new TestSandboxes(startPath());
    }

    @BeforeAll
    void start() {
        t = sandboxes();
        hostile = t.python(HOSTILE, 512, 10, 16);
        neighbourCode = t.code(java.util.Map.of("function.py", HOSTILE));
        neighbour = t.worker.createSandbox(TestSandboxes.spec("python3.11", neighbourCode, 512, 10, 16, java.util.Map.of()));
        assertThat(probe(neighbour, "{\"probe\":\"marker\",\"name\":\"neighbour\"}")).startsWith("\"ALLOWED");
    }

    @AfterAll
    void stop() {
        t.worker.retire(hostile.sandboxId());
        t.worker.retire(neighbour.sandboxId());
        t.close();
    }

    static String probe(SandboxHandle h, String event) {
        InvokeOutcome o = t.invoke(h, event);
        assertThat(o.status()).as(text(o)).isEqualTo(InvokeOutcome.Status.SUCCESS);
        return text(o);
    }

    @Test
    void hostSecretsAndWorkerStateAreInvisible() {
        assertThat(probe(hostile, "{\"probe\":\"read\",\"path\":\"/etc/shadow\"}")).startsWith("\"DENIED");
        assertThat(probe(hostile, "{\"probe\":\"list\",\"path\":\"" + t.base.resolve("data") + "\"}")).startsWith("\"DENIED");
        assertThat(probe(hostile, "{\"probe\":\"list\",\"path\":\"/root\"}")).startsWith("\"DENIED");
        assertThat(probe(hostile, "{\"probe\":\"write\",\"path\":\"/var/task/x\"}")).startsWith("\"DENIED: EROFS");
        assertThat(probe(hostile, "{\"probe\":\"write\",\"path\":\"/usr/x\"}")).startsWith("\"DENIED");
        assertThat(probe(hostile, "{\"probe\":\"write\",\"path\":\"/x\"}")).startsWith("\"DENIED");
    }

    @Test
    void anotherSandboxsCodeAndTmpAreInvisible() {
        assertThat(probe(hostile, "{\"probe\":\"list\",\"path\":\"" + neighbourCode + "\"}")).startsWith("\"DENIED");
        assertThat(probe(hostile, "{\"probe\":\"list\",\"path\":\"/tmp\"}")).doesNotContain("marker-neighbour");
        assertThat(probe(hostile, "{\"probe\":\"read\",\"path\":\"/tmp/marker-neighbour\"}")).startsWith("\"DENIED: ENOENT");
        assertThat(probe(neighbour, "{\"probe\":\"read\",\"path\":\"/tmp/marker-neighbour\"}")).startsWith("\"ALLOWED");
    }

    @Test
    void onlyTheSandboxsOwnProcessesAreVisible() {
        String pids = probe(hostile, "{\"probe\":\"pids\"}");
        // bwrap's init (1) and the runtime (2), nothing of the host
        assertThat(pids).isEqualTo("[1, 2]");
    }

    @Test
    void hostLoopbackHostAddressesAndOtherRuntimeApisAreUnreachable() throws IOException {
        try (ServerSocket host = new ServerSocket()) {
            host.bind(new InetSocketAddress("0.0.0.0", 0));
            int port = host.getLocalPort();
            assertThat(probe(hostile, "{\"probe\":\"connect\",\"host\":\"127.0.0.1\",\"port\":" + port + "}"))
                    .isEqualTo("\"DENIED: ECONNREFUSED\"");
            Optional<String> external = hostAddress();
            if (external.isPresent()) {
                assertThat(probe(hostile, "{\"probe\":\"connect\",\"host\":\"" + external.get() + "\",\"port\":" + port + "}"))
                        .isEqualTo("\"DENIED: ENETUNREACH\"");
            }
        }
        // the only listener in the sandbox's network namespace is its own Runtime API (9001 = 0x2329);
        // the neighbour's Runtime API listens in the neighbour's namespace, out of reach
        assertThat(probe(hostile, "{\"probe\":\"listeners\"}")).isEqualTo("[\"0100007F:2329\"]");
        long neighbourRequests = t.worker.runtimeApiRequests(neighbour.sandboxId());
        assertThat(probe(hostile, "{\"probe\":\"connect\",\"host\":\"127.0.0.1\",\"port\":9001}")).isEqualTo("\"ALLOWED: 'connected'\"");
        assertThat(t.worker.runtimeApiRequests(neighbour.sandboxId())).isEqualTo(neighbourRequests);
    }

    @Test
    void aRuntimeCannotOpenUnboundedRuntimeApiConnections() {
        // the runtime's own keep-alive connection counts too; at most MAX_CONNECTIONS are served
        String refused = probe(hostile, "{\"probe\":\"flood\"}");
        assertThat(Integer.parseInt(refused)).isGreaterThanOrEqualTo(50 - 8);
        assertThat(probe(hostile, "{\"probe\":\"uid\"}")).startsWith("[2");
    }

    @Test
    void privilegedSyscallsAreDeniedBySeccompAndNoCapabilitiesRemain() {
        assertThat(probe(hostile, "{\"probe\":\"ptrace\"}")).isEqualTo("\"DENIED: EPERM\"");
        assertThat(probe(hostile, "{\"probe\":\"mount\"}")).isEqualTo("\"DENIED: EPERM\"");
        assertThat(probe(hostile, "{\"probe\":\"unshare\"}")).isEqualTo("\"DENIED: EPERM\"");
        String status = probe(hostile, "{\"probe\":\"status\"}");
        assertThat(status).contains("\"Seccomp\": \"2\"", "\"CapEff\": \"0000000000000000\"",
                "\"CapPrm\": \"0000000000000000\"", "\"CapBnd\": \"0000000000000000\"", "\"NoNewPrivs\": \"1\"");
    }

    @Test
    void theRuntimeRunsAsAnUnprivilegedHostUid() throws IOException {
        String ids = probe(hostile, "{\"probe\":\"uid\"}");
        assertThat(ids).matches("\\[2\\d{5}, 2\\d{5}, 2\\d{5}, \\[\\]\\]");
        // and as seen from the host: every process of every sandbox has a non-root uid
        List<ProcessHandle> runtimes = ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").contains("/var/runtime/runtime.py")).toList();
        assertThat(runtimes).isNotEmpty();
        for (ProcessHandle p : runtimes) {
            String uidLine = Files.readAllLines(Path.of("/proc/" + p.pid() + "/status")).stream()
                    .filter(l -> l.startsWith("Uid:")).findFirst().orElseThrow();
            assertThat(uidLine.split("\\s+")[1]).as("host uid of pid " + p.pid()).isNotEqualTo("0").matches("2\\d{5}");
        }
    }

    @Test
    void fileDescriptorsAndCoreFilesAreBoundedAsOnLambda() {
        // Lambda's quota is 1,024 descriptors; before, a sandbox inherited the worker JVM's limit (20,000 here)
        String r = probe(hostile, "{\"probe\":\"rlimits\"}");
        assertThat(r).contains("\"nofile\": [1024, 1024]", "\"core\": [0, 0]", "\"error\": \"EMFILE\"",
                "\"raise\": \"DENIED: EPERM\"");
        int opened = Integer.parseInt(r.replaceAll(".*\"opened\": (\\d+).*", "$1"));
        assertThat(opened).isLessThan(1024);
    }

    @Test
    void writingPastTheTmpCapFailsWithEnospc() {
        SandboxHandle h = t.python(HOSTILE, 512, 10, 16);
        try {
            assertThat(probe(h, "{\"probe\":\"fill\",\"mb\":8}")).isEqualTo("\"ALLOWED: 'wrote all'\"");
            assertThat(probe(h, "{\"probe\":\"fill\",\"mb\":20}")).isEqualTo("\"DENIED: ENOSPC\"");
        } finally {
            t.worker.retire(h.sandboxId());
        }
    }

    @Test
    void forkBombIsContainedByThePidsLimit() {
        SandboxHandle h = t.python(HOSTILE, 512, 20, 16);
        try {
            long t0 = System.nanoTime();
            String r = probe(h, "{\"probe\":\"forkbomb\"}");
            System.out.printf("fork bomb stopped in %d ms: %s%n", (System.nanoTime() - t0) / 1_000_000, r);
            assertThat(r).matches("\"stopped after \\d+ forks: EAGAIN\"");
            int forks = Integer.parseInt(r.replaceAll("\\D+(\\d+).*", "$1"));
            assertThat(forks).isLessThan(TestSandboxes.PIDS_MAX);
        } finally {
            long t0 = System.nanoTime();
            t.worker.retire(h.sandboxId());
            System.out.printf("fork-bombed sandbox retired in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        }
        // the worker is fine: other sandboxes still answer
        assertThat(probe(hostile, "{\"probe\":\"uid\"}")).startsWith("[2");
    }

    private static Optional<String> hostAddress() throws IOException {
        for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (nif.isUp() && !nif.isLoopback()) {
                for (InetAddress a : Collections.list(nif.getInetAddresses())) {
                    if (a instanceof Inet4Address) {
                        return Optional.of(a.getHostAddress());
                    }
                }
            }
        }
        return Optional.empty();
    }
}

package dev.ignis.worker.gvisor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ignis.worker.runtimeapi.RuntimeEvent;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * gVisor sandboxes started as the gvisor driver starts them: the runtime reaches its Runtime API and nothing
 * else, and every host process of the sandbox is its own unprivileged uid. Needs runsc (Debian: apt-get install
 * runsc) and root; skipped, saying so, only when runsc is not installed.
 */
class GvisorStartTest {
    static final String PY_RUNTIME = """
            import http.client, os
            host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
            conn = http.client.HTTPConnection(host, int(port))
            while True:
                conn.request("GET", "/2018-06-01/runtime/invocation/next")
                r = conn.getresponse(); event = r.read()
                rid = r.getheader("Lambda-Runtime-Aws-Request-Id")
                conn.request("POST", "/2018-06-01/runtime/invocation/" + rid + "/response", event)
                conn.getresponse().read()
            """;

    static GvisorHarness h;

    @BeforeAll
    static void start() {
        assumeTrue(Files.exists(Runsc.DEFAULT), "gVisor's runsc is not installed (" + Runsc.DEFAULT + "; Debian: apt-get install runsc)");
        h = new GvisorHarness(Runsc.probe(Runsc.DEFAULT)); // installed but broken fails here, never skips
    }

    @AfterAll
    static void stop() {
        if (h != null) {
            h.close();
        }
    }

    @Test
    void pythonReachesItsFirstNextAndEveryHostProcessIsTheSandboxesUid() throws Exception {
        Path rt = h.dir(Map.of("runtime.py", PY_RUNTIME));
        try (var sb = h.start(GvisorHarness.python(rt), h.dir(Map.of()), 1769, 64, Map.of())) {
            RuntimeEvent first = sb.init(Duration.ofSeconds(40));
            long ms = (System.nanoTime() - sb.startNanos) / 1_000_000;
            assertThat(first).as(sb.output()).isInstanceOf(RuntimeEvent.Ready.class);
            System.out.printf("gvisor python3.11 launcher start to first /next: %d ms (%s)%n", ms, h.runsc.version());
            var pids = sb.pids();
            assertThat(pids).as("runsc, its Sentry, Gofer and stubs").hasSizeGreaterThanOrEqualTo(3);
            String hostUserNs = Files.readSymbolicLink(Path.of("/proc/self/ns/user")).toString();
            String sandboxNet = "net:[" + Files.getAttribute(sb.ns.path(), "unix:ino") + "]";
            int sentries = 0;
            for (long pid : pids) {
                String status = Files.readString(Path.of("/proc/" + pid + "/status"));
                assertThat(status).as("pid %d", pid).containsPattern("(?m)^Uid:\\t" + sb.uid + "\\t" + sb.uid + "\\t" + sb.uid + "\\t" + sb.uid + "$")
                        .containsPattern("(?m)^Gid:\\t" + sb.uid + "\\t");
                String userNs = Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/user")).toString();
                if (userNs.equals(hostUserNs)) {
                    // only the runsc command itself stays in the host's user namespace, and with no capability there
                    assertThat(status).as("pid %d", pid).containsPattern("(?m)^CapEff:\\t0000000000000000$");
                }
                // the Sentry (and runsc) in the sandbox's namespace; the Gofer in an empty one of its own
                assertThat(Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/net")).toString()).as("pid %d", pid)
                        .isNotEqualTo(Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString());
                if (Files.readString(Path.of("/proc/" + pid + "/cmdline")).startsWith("runsc-sandbox")) {
                    assertThat(Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/net")).toString()).isEqualTo(sandboxNet);
                    sentries++;
                }
            }
            assertThat(sentries).as("the Sentry").isEqualTo(1);
        }
    }

    @Test
    void theRuntimeSeesOnlyItsReadOnlyFilesASizedTmpAndTheRuntimeApi() throws Exception {
        try (ServerSocket hostService = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String probe = """
                    #!/bin/sh
                    echo "uid=$(id -u)"
                    grep -E '^Cap(Eff|Bnd)' /proc/self/status
                    echo "nofile=$(ulimit -n) core=$(ulimit -c)"
                    echo x > /var/task/written 2>/dev/null && echo task-writable || echo task-readonly
                    echo x > /var/runtime/written 2>/dev/null && echo runtime-writable || echo runtime-readonly
                    echo x > /written 2>/dev/null && echo root-writable || echo root-readonly
                    ls /etc >/dev/null 2>&1 && echo etc-visible || echo no-etc
                    head -c 20971520 /dev/zero > /tmp/fill 2>/dev/null && echo tmp-unbounded || echo "tmp-full at $(wc -c < /tmp/fill)"
                    python3.11 -c "import socket; socket.create_connection(('127.0.0.1', %d), 2)" 2>/dev/null && echo host-loopback-reached || echo host-loopback-unreachable
                    python3.11 -c "import socket; socket.create_connection(('1.1.1.1', 53), 2)" 2>/dev/null && echo internet-reached || echo internet-unreachable
                    echo "interfaces=$(ls /sys/class/net | tr '\\n' ' ')"
                    exec python3.11 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9001/2018-06-01/runtime/invocation/next')"
                    """.formatted(hostService.getLocalPort());
            try (var sb = h.start(GvisorHarness.provided(), h.dir(Map.of("bootstrap", probe)), 512, 16, Map.of())) {
                RuntimeEvent first = sb.init(Duration.ofSeconds(40));
                assertThat(first).as(sb.output()).isInstanceOf(RuntimeEvent.Ready.class);
                String out = sb.output();
                assertThat(out).contains("uid=993", "CapEff:\t0000000000000000", "CapBnd:\t0000000000000000", "nofile=1024 core=0",
                        "task-readonly", "runtime-readonly", "root-readonly", "no-etc", "tmp-full at 16777216",
                        "host-loopback-unreachable", "internet-unreachable");
            }
        }
    }

    @Test
    void theRuntimeGetsLambdasThousandDescriptorsNotTheSentrysHostLimit() throws Exception {
        Map<String, String> files = new java.util.HashMap<>();
        for (int i = 0; i < 1100; i++) {
            files.put("f" + i, Integer.toString(i));
        }
        files.put("bootstrap", """
                #!/bin/sh
                exec python3.11 -c "
                import resource
                fs = []
                try:
                    for i in range(1100): fs.append(open('/var/task/f%d' % i))
                except OSError as e: print('opened', len(fs), 'then errno', e.errno)
                print('limits', resource.getrlimit(resource.RLIMIT_NOFILE))
                "
                """);
        try (var sb = h.start(GvisorHarness.provided(), h.dir(files), 512, 16, Map.of())) {
            String out = sb.outputAfterExit(Duration.ofSeconds(40));
            // stdin, stdout and stderr are open: 1,021 more, then EMFILE (24) from gVisor's own limit
            assertThat(out).contains("opened 1021 then errno 24", "limits (1024, 1024)");
        }
    }
}

package dev.ignis.worker;

import static dev.ignis.worker.TestSandboxes.text;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The microvm driver through the worker: echo, a timeout, a crash, OOM and isolation probes, each in its own VM.
 * Tagged {@code microvm} (slow under TCG: every VM boots a kernel); run with {@code -Pmicrovm}.
 */
@Tag("microvm")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MicroVmSandboxTest {
    MicroVmSandboxes t;

    @BeforeAll
    void start() {
        t = new MicroVmSandboxes();
    }

    @AfterAll
    void stop() {
        if (t != null) {
            t.close();
        }
    }

    @Test
    void pythonEchoWarmReuseLogsAndIsolation() throws Exception {
        Path hostSecret = t.base.resolve("host-secret");
        Files.writeString(hostSecret, "host only");
        SandboxHandle h = t.python("""
                import json, os, socket
                print("init in the guest")
                def handler(event):
                    if event == "probe":
                        def can_connect(host, port):
                            try:
                                socket.create_connection((host, port), timeout=1).close(); return True
                            except OSError:
                                return False
                        return {"uid": os.getuid(), "root": sorted(os.listdir("/")),
                                "etc": os.path.exists("/etc/passwd"), "hostSecret": os.path.exists(%s),
                                "ifaces": sorted(os.listdir("/sys/class/net")),
                                "taskWritable": os.access("/var/task", os.W_OK),
                                "usrWritable": os.access("/usr/bin", os.W_OK),
                                "host": can_connect("10.0.2.2", 22),
                                "env": os.environ.get("SECRET_OF_THE_FUNCTION"),
                                "tmp": os.statvfs("/tmp").f_blocks * os.statvfs("/tmp").f_frsize}
                    print("handling", event)
                    return event
                """.formatted("\"" + hostSecret + "\""), 128, 30);
        try {
            assertThat(h.initDuration()).isPositive();
            InvokeOutcome first = t.invoke(h, "{\"hello\":\"world\"}");
            assertThat(first.status()).as(text(first)).isEqualTo(InvokeOutcome.Status.SUCCESS);
            assertThat(text(first)).isEqualTo("{\"hello\": \"world\"}");
            assertThat(TestSandboxes.tail(first)).contains("START RequestId: ", "handling {'hello': 'world'}", "END RequestId: ",
                    "\tInit Duration: ");
            // Max Memory Used: the guest's runtime cgroup peak, reported by the agent ahead of the response
            assertThat(TestSandboxes.tail(first)).containsPattern("\tMax Memory Used: [1-9]\\d* MB");
            InvokeOutcome probe = t.invoke(h, "\"probe\"");
            String p = text(probe);
            assertThat(p).contains("\"uid\": 993", "\"etc\": false", "\"hostSecret\": false", "\"ifaces\": [\"lo\"]",
                    "\"taskWritable\": false", "\"usrWritable\": false", "\"host\": false", "\"env\": \"s3cr3t\"",
                    "\"tmp\": 67108864");
            // the guest's root: the initramfs (agent, modules, mount points) and the runtime's 9p shares; no /etc, /home, /work
            assertThat(p).contains("\"root\": [\"bin\", \"dev\", \"ignis\", \"init\", \"lib\", \"lib64\", \"proc\", \"root\", "
                    + "\"sbin\", \"sys\", \"tmp\", \"usr\", \"var\"]");
            // warm latency, this driver (the process driver's figure is measured by the same loop in WorkerBenchmarkTest)
            List<Long> micros = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                long t0 = System.nanoTime();
                InvokeOutcome o = t.invoke(h, "\"w" + i + "\"");
                micros.add((System.nanoTime() - t0) / 1000);
                assertThat(text(o)).isEqualTo("\"w" + i + "\"");
            }
            micros.sort(null);
            System.out.printf("microvm(%s): init %d ms, warm invoke median %d us, p90 %d us%n", t.driver.accel().name(),
                    h.initDuration().toMillis(), micros.get(15), micros.get(27));
        } finally {
            t.worker.retire(h.sandboxId());
        }
        assertThat(t.driver.info(h.sandboxId())).isEmpty();
    }

    @Test
    void shellRuntimeEchoOverNewConnectionsEachRequest() {
        SandboxHandle h = t.shell(TestSandboxes.ECHO_BOOTSTRAP, 128, 30);
        try {
            for (int i = 0; i < 3; i++) {
                InvokeOutcome o = t.invoke(h, "{\"n\":" + i + "}");
                assertThat(o.status()).as(text(o)).isEqualTo(InvokeOutcome.Status.SUCCESS);
                assertThat(text(o)).isEqualTo("{\"n\":" + i + "}");
            }
        } finally {
            t.worker.retire(h.sandboxId());
        }
    }

    @Test
    void timeoutKillsTheVm() throws Exception {
        SandboxHandle h = t.python("""
                import time
                def handler(event):
                    time.sleep(60)
                """, 128, 2);
        try {
            long pid = t.driver.info(h.sandboxId()).orElseThrow().qemuPid();
            assertThat(ProcessHandle.of(pid)).as("QEMU's process").isPresent();
            InvokeOutcome o = t.invoke(h, "{}");
            assertThat(o.status()).isEqualTo(InvokeOutcome.Status.TIMEOUT);
            assertThat(text(o)).contains("Task timed out after 2.00 seconds");
            assertThat(o.sandboxReusable()).isFalse();
            // the whole VM is gone, not just the runtime
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        } finally {
            t.worker.retire(h.sandboxId());
        }
        assertThat(t.driver.info(h.sandboxId())).isEmpty();
    }

    @Test
    void crashIsAnExitErrorAndOomIsReported() {
        SandboxHandle crash = t.python("""
                import os
                def handler(event):
                    os._exit(3)
                """, 128, 30);
        try {
            InvokeOutcome o = t.invoke(crash, "{}");
            assertThat(o.status()).isEqualTo(InvokeOutcome.Status.EXIT_ERROR);
            assertThat(text(o)).contains("Runtime.ExitError").contains("exit status 3").doesNotContain("out of memory");
            assertThat(o.sandboxReusable()).isFalse();
        } finally {
            t.worker.retire(crash.sandboxId());
        }
        SandboxHandle oom = t.python("""
                def handler(event):
                    hog = []
                    while True:
                        hog.append(bytearray(8 << 20))
                """, 128, 60);
        try {
            InvokeOutcome m = t.invoke(oom, "{}");
            assertThat(m.status()).isEqualTo(InvokeOutcome.Status.EXIT_ERROR);
            assertThat(text(m)).contains("Runtime.ExitError").contains("out of memory");
        } finally {
            t.worker.retire(oom.sandboxId());
        }
        assertThat(t.driver.info(crash.sandboxId())).isEmpty();
        assertThat(t.driver.info(oom.sandboxId())).isEmpty();
    }
}

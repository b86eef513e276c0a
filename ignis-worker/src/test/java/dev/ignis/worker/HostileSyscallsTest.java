package dev.ignis.worker;

import static dev.ignis.worker.TestSandboxes.text;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A hostile function calls, from inside a real sandbox, what the seccomp allow list leaves out (each
 * with arguments the kernel would accept, so that only seccomp can make it fail) and opens sockets of
 * every family it should not reach; the runtime's own families and calls keep working.
 */
class HostileSyscallsTest {
    static final String PROBE = """
            import ctypes, errno, os, socket
            libc = ctypes.CDLL(None, use_errno=True)
            libc.syscall.restype = ctypes.c_long
            def call(nr, *args):
                r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
                if r == -1:
                    e = ctypes.get_errno()
                    return errno.errorcode.get(e, str(e))
                return "ALLOWED"
            def sock(family, kind, proto=0):
                try:
                    socket.socket(family, kind, proto).close()
                    return "ALLOWED"
                except OSError as e:
                    return errno.errorcode.get(e.errno, str(e.errno))
            def pair(family):
                try:
                    a, b = socket.socketpair(family)
                    a.close(); b.close()
                    return "ALLOWED"
                except OSError as e:
                    return errno.errorcode.get(e.errno, str(e.errno))
            def handler(event):
                pid = os.getpid()
                return {
                    "kcmp": call(312, pid, pid, 0, 0, 0),              # KCMP_FILE of fd 0 with itself
                    "personality": call(135, 0x0040000),              # ADDR_NO_RANDOMIZE
                    "modify_ldt": call(154, 0, 0, 0),                 # read 0 bytes of the LDT
                    "pidfd_getfd": call(438, os.pidfd_open(pid), 1, 0),
                    "move_pages": call(279, 0, 0, 0, 0, 0, 0),        # no pages: a no-op
                    "uselib": call(134, 0),
                    "syslog": call(103, 10, 0, 0),                    # SYSLOG_ACTION_SIZE_BUFFER
                    "userfaultfd": call(323, 0),
                    "io_uring_setup": call(425, 1, 0),
                    "af_vsock": sock(40, socket.SOCK_STREAM),
                    "af_packet": sock(17, socket.SOCK_RAW),
                    "af_netlink_route": sock(16, socket.SOCK_RAW, 0),
                    "af_netlink_uevent": sock(16, socket.SOCK_RAW, 15),  # NETLINK_KOBJECT_UEVENT
                    "af_alg": sock(38, socket.SOCK_SEQPACKET),
                    "socketpair_netlink": pair(16),
                    # what runtimes use stays
                    "af_inet": sock(socket.AF_INET, socket.SOCK_STREAM),
                    "af_inet6": sock(socket.AF_INET6, socket.SOCK_DGRAM),
                    "af_unix": sock(socket.AF_UNIX, socket.SOCK_STREAM),
                    "socketpair_unix": pair(socket.AF_UNIX),
                    "personality_query": call(135, 0xffffffff),
                    "getpid": call(39),
                }
            """;

    static TestSandboxes t;
    static SandboxHandle hostile;

    @BeforeAll
    static void start() {
        t = new TestSandboxes();
        hostile = t.python(PROBE, 256, 10, 16);
    }

    @AfterAll
    static void stop() {
        t.worker.retire(hostile.sandboxId());
        t.close();
    }

    @Test
    void callsOutsideTheAllowListFailWithEpermAndForeignSocketFamiliesWithEafnosupport() {
        InvokeOutcome o = t.invoke(hostile, "{}");
        assertThat(o.status()).as(text(o)).isEqualTo(InvokeOutcome.Status.SUCCESS);
        Map<String, String> expected = new java.util.LinkedHashMap<>();
        for (String call : new String[] {"kcmp", "personality", "modify_ldt", "pidfd_getfd", "move_pages", "uselib",
                "syslog", "userfaultfd", "io_uring_setup"}) {
            expected.put(call, "EPERM");
        }
        for (String family : new String[] {"af_vsock", "af_packet", "af_netlink_route", "af_netlink_uevent", "af_alg",
                "socketpair_netlink"}) {
            expected.put(family, "EAFNOSUPPORT");
        }
        for (String allowed : new String[] {"af_inet", "af_inet6", "af_unix", "socketpair_unix", "personality_query", "getpid"}) {
            expected.put(allowed, "ALLOWED");
        }
        String out = text(o);
        org.assertj.core.api.SoftAssertions.assertSoftly(soft -> expected.forEach((k, v) ->
                soft.assertThat(out).as(k).contains("\"" + k + "\": \"" + v + "\"")));
    }
}

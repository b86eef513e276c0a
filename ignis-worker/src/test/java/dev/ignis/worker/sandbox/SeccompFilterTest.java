package dev.ignis.worker.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SeccompFilterTest {
    private static final int X86_64 = SeccompFilter.AUDIT_ARCH_X86_64;
    private static final int ALLOW = SeccompFilter.RET_ALLOW;
    private static final int EPERM = SeccompFilter.RET_ERRNO | 1;
    private static final int ENOSYS = SeccompFilter.RET_ERRNO | 38;
    private static final int EAFNOSUPPORT = SeccompFilter.RET_ERRNO | 97;

    /** x86_64 numbers of calls that must stay out, the ones issue #14 found reachable among them. */
    static final Map<String, Integer> DENIED = Map.ofEntries(Map.entry("kcmp", 312), Map.entry("modify_ldt", 154),
            Map.entry("pidfd_getfd", 438), Map.entry("move_pages", 279), Map.entry("uselib", 134), Map.entry("syslog", 103),
            Map.entry("ptrace", 101), Map.entry("mount", 165), Map.entry("umount2", 166), Map.entry("pivot_root", 155),
            Map.entry("chroot", 161), Map.entry("kexec_load", 246), Map.entry("kexec_file_load", 320), Map.entry("bpf", 321),
            Map.entry("perf_event_open", 298), Map.entry("keyctl", 250), Map.entry("add_key", 248), Map.entry("request_key", 249),
            Map.entry("userfaultfd", 323), Map.entry("unshare", 272), Map.entry("setns", 308), Map.entry("process_vm_readv", 310),
            Map.entry("process_vm_writev", 311), Map.entry("open_by_handle_at", 304), Map.entry("name_to_handle_at", 303),
            Map.entry("fsopen", 430), Map.entry("fsmount", 432), Map.entry("open_tree", 428), Map.entry("move_mount", 429),
            Map.entry("io_uring_setup", 425), Map.entry("io_uring_enter", 426), Map.entry("io_uring_register", 427),
            Map.entry("init_module", 175), Map.entry("finit_module", 313), Map.entry("iopl", 172), Map.entry("ioperm", 173),
            Map.entry("migrate_pages", 256), Map.entry("mbind", 237), Map.entry("set_mempolicy", 238), Map.entry("acct", 163),
            Map.entry("swapon", 167), Map.entry("reboot", 169), Map.entry("sethostname", 170), Map.entry("settimeofday", 164),
            Map.entry("clock_settime", 227), Map.entry("fanotify_init", 300), Map.entry("vhangup", 153),
            Map.entry("process_madvise", 440), Map.entry("quotactl", 179), Map.entry("lookup_dcookie", 212));

    @Test
    void callsOutsideTheAllowListReturnEperm() {
        DENIED.forEach((name, nr) -> {
            assertThat(SeccompFilter.ALLOWED).as(name).doesNotContainKey(name).doesNotContainValue(nr);
            assertThat(SeccompFilter.evaluate(X86_64, nr, 0)).as(name).isEqualTo(EPERM);
        });
    }

    @Test
    void everyNumberIsAllowedDeniedOrCheckedExactlyAsListed() {
        Set<Integer> checked = Set.of(SeccompFilter.SYS_SOCKET, SeccompFilter.SYS_SOCKETPAIR, SeccompFilter.SYS_CLONE,
                SeccompFilter.SYS_PERSONALITY, SeccompFilter.SYS_CLONE3);
        for (int nr = 0; nr <= SeccompFilter.LAST_KNOWN; nr++) {
            if (!checked.contains(nr)) {
                int expected = SeccompFilter.ALLOWED.containsValue(nr) ? ALLOW : EPERM;
                assertThat(SeccompFilter.evaluate(X86_64, nr, 0)).as("nr " + nr).isEqualTo(expected);
            }
        }
        assertThat(SeccompFilter.ALLOWED).containsKeys("read", "write", "openat", "mmap", "futex", "epoll_wait", "execve",
                "exit_group", "arch_prctl", "rseq", "clock_nanosleep", "getrandom", "prctl", "statx");
    }

    @Test
    void callsNewerThanTheListReturnEnosysSoLibcFallsBack() {
        for (int nr : new int[] {451, 452, 453, 460, 511}) { // cachestat, fchmodat2, map_shadow_stack, ...
            assertThat(SeccompFilter.evaluate(X86_64, nr, 0)).as("nr " + nr).isEqualTo(ENOSYS);
        }
    }

    @Test
    void onlyUnixAndInternetSocketsMayBeOpened() {
        for (int call : new int[] {SeccompFilter.SYS_SOCKET, SeccompFilter.SYS_SOCKETPAIR}) {
            for (int family : new int[] {1, 2, 10}) { // AF_UNIX, AF_INET, AF_INET6
                assertThat(SeccompFilter.evaluate(X86_64, call, family)).as(call + " family " + family).isEqualTo(ALLOW);
            }
            // AF_UNSPEC, AF_NETLINK, AF_PACKET, AF_BLUETOOTH, AF_ALG, AF_VSOCK, AF_XDP, AF_KEY, AF_TIPC, AF_RDS
            for (int family : new int[] {0, 16, 17, 31, 38, 40, 44, 15, 30, 21}) {
                assertThat(SeccompFilter.evaluate(X86_64, call, family)).as(call + " family " + family).isEqualTo(EAFNOSUPPORT);
            }
            // the family is an int: high bits of the register do not turn AF_VSOCK into AF_INET
            assertThat(SeccompFilter.evaluate(X86_64, call, 0x1_0000_0028L)).isEqualTo(EAFNOSUPPORT);
        }
    }

    @Test
    void personalityOnlyWithTheHarmlessValues() {
        for (long persona : new long[] {0, 8, 0x20000, 0x20008, 0xffffffffL}) {
            assertThat(SeccompFilter.evaluate(X86_64, SeccompFilter.SYS_PERSONALITY, persona)).as("0x%x", persona).isEqualTo(ALLOW);
        }
        // ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, ADDR_COMPAT_LAYOUT, MMAP_PAGE_ZERO
        for (long persona : new long[] {0x0040000, 0x0400000, 0x0200000, 0x0100000, 0x0040008}) {
            assertThat(SeccompFilter.evaluate(X86_64, SeccompFilter.SYS_PERSONALITY, persona)).as("0x%x", persona).isEqualTo(EPERM);
        }
    }

    @Test
    void cloneWithNamespaceFlagsIsDeniedButThreadsAndForksAreNot() {
        long threadFlags = 0x003d0f00L; // CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID
        assertThat(SeccompFilter.evaluate(X86_64, 56, threadFlags)).isEqualTo(ALLOW);
        assertThat(SeccompFilter.evaluate(X86_64, 56, 0x01200011L)).isEqualTo(ALLOW); // fork()
        assertThat(SeccompFilter.evaluate(X86_64, 56, 0x10000000L | 17)).isEqualTo(EPERM); // CLONE_NEWUSER
        assertThat(SeccompFilter.evaluate(X86_64, 56, 0x40000000L)).isEqualTo(EPERM); // CLONE_NEWNET
        assertThat(SeccompFilter.evaluate(X86_64, 56, 0x00020000L)).isEqualTo(EPERM); // CLONE_NEWNS
        assertThat(SeccompFilter.evaluate(X86_64, 435, 0)).isEqualTo(ENOSYS); // clone3
    }

    @Test
    void foreignArchitectureIsKilledAndX32IsDenied() {
        assertThat(SeccompFilter.evaluate(0x40000003, 1, 0)).isEqualTo(SeccompFilter.RET_KILL_PROCESS); // i386
        assertThat(SeccompFilter.evaluate(X86_64, 0x40000000 | 1, 0)).isEqualTo(EPERM); // x32 write
        assertThat(SeccompFilter.evaluate(X86_64, -1, 0)).isEqualTo(EPERM);
    }

    @Test
    void binaryLayoutIsSockFilterArrayAndASyscallTakesFewSteps() {
        byte[] b = SeccompFilter.bytes();
        assertThat(b.length % 8).isZero();
        assertThat(b.length / 8).isEqualTo(SeccompFilter.program().size()).isLessThan(4096);
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(buf.getShort(0)).isEqualTo((short) 0x20); // ld [arch]
        assertThat(buf.getInt(4)).isEqualTo(4);
        assertThat(buf.getInt(8 + 4)).isEqualTo(X86_64);
    }
}

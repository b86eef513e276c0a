package dev.ignis.worker.sandbox;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The sandbox's seccomp filter, as a classic-BPF program in the binary form that
 * {@code bwrap --seccomp FD} reads (an array of {@code struct sock_filter}, 8 bytes each).
 *
 * <p>Design note: an <em>allow list</em>. It starts from Docker's default profile (moby
 * {@code profiles/seccomp/default.json}: the calls it allows unconditionally on x86_64, without any
 * capability), less io_uring (a large, often exploited surface; libuv and the JVM fall back to epoll)
 * and {@code name_to_handle_at}; it was then checked against what the runtimes we host measurably call
 * (docs/sandbox-process.md, "Seccomp": every call outside the list logged instead of denied while the
 * invoke suites of every runtime ran). A deny list let every call nobody had thought of through
 * ({@code kcmp}, {@code modify_ldt}, {@code pidfd_getfd}, {@code move_pages}, {@code syslog}, every
 * socket family, ...). The program is:
 * <ol>
 *   <li>{@code seccomp_data.arch} must be {@code AUDIT_ARCH_X86_64}, else the process is killed
 *       (no i386 entry via int 0x80, whose numbers differ);</li>
 *   <li>numbers with the x32 bit (0x40000000) set return EPERM (aliases of the same calls);</li>
 *   <li>numbers above {@link #LAST_KNOWN} (calls newer than this list) return ENOSYS, so that libc
 *       falls back to the older call as it does on an older kernel, rather than failing with EPERM;</li>
 *   <li>a binary search over the numbers (about 8 comparisons per call), whose leaves return
 *       ALLOW for {@link #ALLOWED}, EPERM for everything else, or go to one of the argument checks:
 *       {@code socket}/{@code socketpair} only for AF_UNIX, AF_INET and AF_INET6 (any other family,
 *       AF_NETLINK, AF_PACKET, AF_VSOCK, ..., returns EAFNOSUPPORT, what a kernel without that family
 *       answers, which libraries already handle: glibc's getaddrinfo falls back when its netlink probe
 *       fails); {@code clone} without any {@code CLONE_NEW*} flag (EPERM otherwise; fork and threads
 *       pass); {@code clone3} ENOSYS (its flags live in user memory, which BPF cannot read; glibc then
 *       falls back to clone, which we can inspect); {@code personality} only with the values Docker
 *       allows (query, PER_LINUX, PER_LINUX32, UNAME26 and their sum; EPERM otherwise).</li>
 * </ol>
 */
public final class SeccompFilter {

    /** x86_64 numbers of the calls allowed whatever their arguments (arch/x86/entry/syscalls/syscall_64.tbl). */
    public static final Map<String, Integer> ALLOWED = ordered(
            entry("read", 0), entry("write", 1), entry("open", 2), entry("close", 3), entry("stat", 4),
            entry("fstat", 5), entry("lstat", 6), entry("poll", 7), entry("lseek", 8), entry("mmap", 9),
            entry("mprotect", 10), entry("munmap", 11), entry("brk", 12), entry("rt_sigaction", 13),
            entry("rt_sigprocmask", 14), entry("rt_sigreturn", 15), entry("ioctl", 16), entry("pread64", 17),
            entry("pwrite64", 18), entry("readv", 19), entry("writev", 20), entry("access", 21), entry("pipe", 22),
            entry("select", 23), entry("sched_yield", 24), entry("mremap", 25), entry("msync", 26),
            entry("mincore", 27), entry("madvise", 28), entry("shmget", 29), entry("shmat", 30), entry("shmctl", 31),
            entry("dup", 32), entry("dup2", 33), entry("pause", 34), entry("nanosleep", 35), entry("getitimer", 36),
            entry("alarm", 37), entry("setitimer", 38), entry("getpid", 39), entry("sendfile", 40),
            entry("connect", 42), entry("accept", 43), entry("sendto", 44), entry("recvfrom", 45),
            entry("sendmsg", 46), entry("recvmsg", 47), entry("shutdown", 48), entry("bind", 49),
            entry("listen", 50), entry("getsockname", 51), entry("getpeername", 52),
            entry("setsockopt", 54), entry("getsockopt", 55), entry("fork", 57), entry("vfork", 58),
            entry("execve", 59), entry("exit", 60), entry("wait4", 61), entry("kill", 62), entry("uname", 63),
            entry("semget", 64), entry("semop", 65), entry("semctl", 66), entry("shmdt", 67), entry("msgget", 68),
            entry("msgsnd", 69), entry("msgrcv", 70), entry("msgctl", 71), entry("fcntl", 72), entry("flock", 73),
            entry("fsync", 74), entry("fdatasync", 75), entry("truncate", 76), entry("ftruncate", 77),
            entry("getdents", 78), entry("getcwd", 79), entry("chdir", 80), entry("fchdir", 81), entry("rename", 82),
            entry("mkdir", 83), entry("rmdir", 84), entry("creat", 85), entry("link", 86), entry("unlink", 87),
            entry("symlink", 88), entry("readlink", 89), entry("chmod", 90), entry("fchmod", 91), entry("chown", 92),
            entry("fchown", 93), entry("lchown", 94), entry("umask", 95), entry("gettimeofday", 96),
            entry("getrlimit", 97), entry("getrusage", 98), entry("sysinfo", 99), entry("times", 100),
            entry("getuid", 102), entry("getgid", 104), entry("setuid", 105), entry("setgid", 106),
            entry("geteuid", 107), entry("getegid", 108), entry("setpgid", 109), entry("getppid", 110),
            entry("getpgrp", 111), entry("setsid", 112), entry("setreuid", 113), entry("setregid", 114),
            entry("getgroups", 115), entry("setgroups", 116), entry("setresuid", 117), entry("getresuid", 118),
            entry("setresgid", 119), entry("getresgid", 120), entry("getpgid", 121), entry("setfsuid", 122),
            entry("setfsgid", 123), entry("getsid", 124), entry("capget", 125), entry("capset", 126),
            entry("rt_sigpending", 127), entry("rt_sigtimedwait", 128), entry("rt_sigqueueinfo", 129),
            entry("rt_sigsuspend", 130), entry("sigaltstack", 131), entry("utime", 132), entry("mknod", 133),
            entry("statfs", 137), entry("fstatfs", 138), entry("getpriority", 140), entry("setpriority", 141),
            entry("sched_setparam", 142), entry("sched_getparam", 143), entry("sched_setscheduler", 144),
            entry("sched_getscheduler", 145), entry("sched_get_priority_max", 146),
            entry("sched_get_priority_min", 147), entry("sched_rr_get_interval", 148), entry("mlock", 149),
            entry("munlock", 150), entry("mlockall", 151), entry("munlockall", 152), entry("prctl", 157),
            entry("arch_prctl", 158), entry("adjtimex", 159), entry("setrlimit", 160), entry("sync", 162),
            entry("gettid", 186), entry("readahead", 187), entry("setxattr", 188), entry("lsetxattr", 189),
            entry("fsetxattr", 190), entry("getxattr", 191), entry("lgetxattr", 192), entry("fgetxattr", 193),
            entry("listxattr", 194), entry("llistxattr", 195), entry("flistxattr", 196), entry("removexattr", 197),
            entry("lremovexattr", 198), entry("fremovexattr", 199), entry("tkill", 200), entry("time", 201),
            entry("futex", 202), entry("sched_setaffinity", 203), entry("sched_getaffinity", 204),
            entry("set_thread_area", 205), entry("io_setup", 206), entry("io_destroy", 207),
            entry("io_getevents", 208), entry("io_submit", 209), entry("io_cancel", 210),
            entry("get_thread_area", 211), entry("epoll_create", 213), entry("epoll_ctl_old", 214),
            entry("epoll_wait_old", 215), entry("remap_file_pages", 216), entry("getdents64", 217),
            entry("set_tid_address", 218), entry("restart_syscall", 219), entry("semtimedop", 220),
            entry("fadvise64", 221), entry("timer_create", 222), entry("timer_settime", 223),
            entry("timer_gettime", 224), entry("timer_getoverrun", 225), entry("timer_delete", 226),
            entry("clock_gettime", 228), entry("clock_getres", 229), entry("clock_nanosleep", 230),
            entry("exit_group", 231), entry("epoll_wait", 232), entry("epoll_ctl", 233), entry("tgkill", 234),
            entry("utimes", 235), entry("mq_open", 240), entry("mq_unlink", 241), entry("mq_timedsend", 242),
            entry("mq_timedreceive", 243), entry("mq_notify", 244), entry("mq_getsetattr", 245),
            entry("waitid", 247), entry("ioprio_set", 251), entry("ioprio_get", 252), entry("inotify_init", 253),
            entry("inotify_add_watch", 254), entry("inotify_rm_watch", 255), entry("openat", 257),
            entry("mkdirat", 258), entry("mknodat", 259), entry("fchownat", 260), entry("futimesat", 261),
            entry("newfstatat", 262), entry("unlinkat", 263), entry("renameat", 264), entry("linkat", 265),
            entry("symlinkat", 266), entry("readlinkat", 267), entry("fchmodat", 268), entry("faccessat", 269),
            entry("pselect6", 270), entry("ppoll", 271), entry("set_robust_list", 273),
            entry("get_robust_list", 274), entry("splice", 275), entry("tee", 276), entry("sync_file_range", 277),
            entry("vmsplice", 278), entry("utimensat", 280), entry("epoll_pwait", 281), entry("signalfd", 282),
            entry("timerfd_create", 283), entry("eventfd", 284), entry("fallocate", 285),
            entry("timerfd_settime", 286), entry("timerfd_gettime", 287), entry("accept4", 288),
            entry("signalfd4", 289), entry("eventfd2", 290), entry("epoll_create1", 291), entry("dup3", 292),
            entry("pipe2", 293), entry("inotify_init1", 294), entry("preadv", 295), entry("pwritev", 296),
            entry("rt_tgsigqueueinfo", 297), entry("recvmmsg", 299), entry("fanotify_mark", 301),
            entry("prlimit64", 302), entry("clock_adjtime", 305), entry("syncfs", 306), entry("sendmmsg", 307),
            entry("getcpu", 309), entry("sched_setattr", 314), entry("sched_getattr", 315), entry("renameat2", 316),
            entry("seccomp", 317), entry("getrandom", 318), entry("memfd_create", 319), entry("execveat", 322),
            entry("membarrier", 324), entry("mlock2", 325), entry("copy_file_range", 326), entry("preadv2", 327),
            entry("pwritev2", 328), entry("pkey_mprotect", 329), entry("pkey_alloc", 330), entry("pkey_free", 331),
            entry("statx", 332), entry("io_pgetevents", 333), entry("rseq", 334), entry("pidfd_send_signal", 424),
            entry("pidfd_open", 434), entry("close_range", 436), entry("openat2", 437), entry("faccessat2", 439),
            entry("epoll_pwait2", 441), entry("landlock_create_ruleset", 444), entry("landlock_add_rule", 445),
            entry("landlock_restrict_self", 446), entry("memfd_secret", 447), entry("process_mrelease", 448),
            entry("futex_waitv", 449)
    );

    /** The highest number this list knows (set_mempolicy_home_node, Linux 5.17): above it, ENOSYS. */
    public static final int LAST_KNOWN = 450;

    static final int SYS_SOCKET = 41;
    static final int SYS_SOCKETPAIR = 53;
    static final int SYS_CLONE = 56;
    static final int SYS_PERSONALITY = 135;
    static final int SYS_CLONE3 = 435;
    /** The socket families a sandbox may open: AF_UNIX, AF_INET, AF_INET6. */
    static final List<Integer> SOCKET_FAMILIES = List.of(1, 2, 10);
    /** personality(2) values Docker allows: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, query. */
    static final List<Integer> PERSONALITIES = List.of(0x0, 0x8, 0x20000, 0x20008, 0xffffffff);

    static final int AUDIT_ARCH_X86_64 = 0xC000003E;
    static final int X32_SYSCALL_BIT = 0x40000000;
    /** CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWTIME. */
    static final int CLONE_NS_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000
            | 0x10000000 | 0x20000000 | 0x40000000 | 0x00000080;
    static final int EPERM = 1;
    static final int ENOSYS = 38;
    static final int EAFNOSUPPORT = 97;

    // BPF opcodes (linux/filter.h, linux/bpf_common.h, linux/seccomp.h)
    static final short LD_W_ABS = 0x20;   // BPF_LD | BPF_W | BPF_ABS
    static final short JA = 0x05;         // BPF_JMP | BPF_JA
    static final short JEQ_K = 0x15;      // BPF_JMP | BPF_JEQ | BPF_K
    static final short JGT_K = 0x25;      // BPF_JMP | BPF_JGT | BPF_K
    static final short JGE_K = 0x35;      // BPF_JMP | BPF_JGE | BPF_K
    static final short JSET_K = 0x45;     // BPF_JMP | BPF_JSET | BPF_K
    static final short RET_K = 0x06;      // BPF_RET | BPF_K
    static final int RET_ALLOW = 0x7fff0000;
    static final int RET_ERRNO = 0x00050000;
    static final int RET_KILL_PROCESS = 0x80000000;

    // offsets in struct seccomp_data { int nr; __u32 arch; __u64 ip; __u64 args[6]; }
    static final int OFF_NR = 0;
    static final int OFF_ARCH = 4;
    static final int OFF_ARG0_LOW = 16; // little-endian: low half of args[0]

    private SeccompFilter() {}

    @SafeVarargs
    private static Map<String, Integer> ordered(Map.Entry<String, Integer>... entries) {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (var e : entries) {
            if (m.put(e.getKey(), e.getValue()) != null) {
                throw new IllegalStateException("listed twice: " + e.getKey());
            }
        }
        return Collections.unmodifiableMap(m);
    }

    private static Map.Entry<String, Integer> entry(String name, int nr) {
        return Map.entry(name, nr);
    }

    /** One BPF instruction; {@code label}, when set, is a JA's target, resolved by {@link #program()}. */
    record Insn(short code, byte jt, byte jf, int k, String label) {
        Insn(short code, int jt, int jf, int k) {
            this(code, checkedJump(jt), checkedJump(jf), k, null);
        }

        static Insn ret(int k) {
            return new Insn(RET_K, 0, 0, k);
        }

        static Insn ja(String label) {
            return new Insn(JA, (byte) 0, (byte) 0, 0, label);
        }
    }

    private static byte checkedJump(int off) {
        if (off < 0 || off > 255) {
            throw new IllegalStateException("BPF conditional jump out of range: " + off);
        }
        return (byte) off;
    }

    /** What the search tree's leaf for a number does: return {@code k}, or jump to an argument check. */
    private record Verdict(int ret, String check) {
        static final Verdict ALLOW = new Verdict(RET_ALLOW, null);
        static final Verdict DENY = new Verdict(RET_ERRNO | EPERM, null);

        Insn insn() {
            return check == null ? Insn.ret(ret) : Insn.ja(check);
        }
    }

    /** The program as instructions (exposed for tests and for a human-readable dump). */
    static List<Insn> program() {
        TreeMap<Integer, Verdict> byNr = new TreeMap<>();
        for (int nr = 0; nr <= LAST_KNOWN; nr++) {
            byNr.put(nr, Verdict.DENY);
        }
        ALLOWED.values().forEach(nr -> byNr.put(nr, Verdict.ALLOW));
        byNr.put(SYS_SOCKET, new Verdict(0, "family"));
        byNr.put(SYS_SOCKETPAIR, new Verdict(0, "family"));
        byNr.put(SYS_CLONE, new Verdict(0, "clone"));
        byNr.put(SYS_PERSONALITY, new Verdict(0, "personality"));
        byNr.put(SYS_CLONE3, new Verdict(RET_ERRNO | ENOSYS, null));
        // runs of equal verdicts: [start, verdict]
        List<Integer> starts = new ArrayList<>();
        List<Verdict> verdicts = new ArrayList<>();
        byNr.forEach((nr, v) -> {
            if (verdicts.isEmpty() || !verdicts.getLast().equals(v)) {
                starts.add(nr);
                verdicts.add(v);
            }
        });

        List<Insn> p = new ArrayList<>();
        p.add(new Insn(LD_W_ABS, 0, 0, OFF_ARCH));
        p.add(new Insn(JEQ_K, 1, 0, AUDIT_ARCH_X86_64));
        p.add(Insn.ret(RET_KILL_PROCESS));
        p.add(new Insn(LD_W_ABS, 0, 0, OFF_NR));
        p.add(new Insn(JSET_K, 0, 1, X32_SYSCALL_BIT));
        p.add(Insn.ret(RET_ERRNO | EPERM));
        p.add(new Insn(JGT_K, 0, 1, LAST_KNOWN));
        p.add(Insn.ret(RET_ERRNO | ENOSYS));
        p.addAll(search(starts, verdicts, 0, starts.size()));

        Map<String, Integer> labels = new HashMap<>();
        labels.put("family", p.size());
        p.add(new Insn(LD_W_ABS, 0, 0, OFF_ARG0_LOW));
        p.addAll(oneOf(SOCKET_FAMILIES, RET_ERRNO | EAFNOSUPPORT));
        labels.put("clone", p.size());
        p.add(new Insn(LD_W_ABS, 0, 0, OFF_ARG0_LOW));
        p.add(new Insn(JSET_K, 0, 1, CLONE_NS_FLAGS));
        p.add(Insn.ret(RET_ERRNO | EPERM));
        p.add(Insn.ret(RET_ALLOW));
        labels.put("personality", p.size());
        p.add(new Insn(LD_W_ABS, 0, 0, OFF_ARG0_LOW));
        p.addAll(oneOf(PERSONALITIES, RET_ERRNO | EPERM));

        List<Insn> resolved = new ArrayList<>(p.size());
        for (int i = 0; i < p.size(); i++) {
            Insn in = p.get(i);
            resolved.add(in.label() == null ? in : new Insn(JA, (byte) 0, (byte) 0, labels.get(in.label()) - i - 1, null));
        }
        return resolved;
    }

    /** The accumulator is one of {@code values}: ALLOW; else {@code otherwise}. */
    private static List<Insn> oneOf(List<Integer> values, int otherwise) {
        List<Insn> p = new ArrayList<>();
        for (int i = 0; i < values.size(); i++) {
            p.add(new Insn(JEQ_K, values.size() - i, 0, values.get(i)));
        }
        p.add(Insn.ret(otherwise));
        p.add(Insn.ret(RET_ALLOW));
        return p;
    }

    /**
     * Binary search over the runs {@code [from, to)} (the accumulator holds the number): a leaf returns
     * or jumps to its check; a node is {@code nr >= start of the middle run ? right : left}. Jumps are
     * forward only and relative: the left half follows the test, the right half follows the left.
     */
    private static List<Insn> search(List<Integer> starts, List<Verdict> verdicts, int from, int to) {
        if (to - from == 1) {
            return List.of(verdicts.get(from).insn());
        }
        int mid = (from + to) >>> 1;
        List<Insn> left = search(starts, verdicts, from, mid);
        List<Insn> right = search(starts, verdicts, mid, to);
        List<Insn> p = new ArrayList<>(left.size() + right.size() + 2);
        if (left.size() <= 255) {
            p.add(new Insn(JGE_K, left.size(), 0, starts.get(mid)));
        } else {
            p.add(new Insn(JGE_K, 0, 1, starts.get(mid)));
            p.add(new Insn(JA, (byte) 0, (byte) 0, left.size(), null));
        }
        p.addAll(left);
        p.addAll(right);
        return p;
    }

    /** The program in the kernel's binary layout (native little-endian sock_filter array). */
    public static byte[] bytes() {
        List<Insn> p = program();
        ByteBuffer b = ByteBuffer.allocate(p.size() * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (Insn i : p) {
            b.putShort(i.code()).put(i.jt()).put(i.jf()).putInt(i.k());
        }
        return b.array();
    }

    /**
     * Runs the program in a tiny BPF interpreter over a synthetic {@code seccomp_data}; used by the
     * tests to pin the semantics independently of the kernel, and by nobody else.
     */
    static int evaluate(int arch, int nr, long arg0) {
        List<Insn> p = program();
        int a = 0;
        int pc = 0;
        while (true) {
            Insn i = p.get(pc);
            switch (i.code()) {
                case LD_W_ABS -> {
                    a = switch (i.k()) {
                        case OFF_NR -> nr;
                        case OFF_ARCH -> arch;
                        case OFF_ARG0_LOW -> (int) arg0;
                        default -> throw new IllegalStateException("offset " + i.k());
                    };
                    pc++;
                }
                case JA -> pc += 1 + i.k();
                case JEQ_K -> pc += 1 + ((a == i.k()) ? (i.jt() & 0xff) : (i.jf() & 0xff));
                case JGT_K -> pc += 1 + (Integer.compareUnsigned(a, i.k()) > 0 ? (i.jt() & 0xff) : (i.jf() & 0xff));
                case JGE_K -> pc += 1 + (Integer.compareUnsigned(a, i.k()) >= 0 ? (i.jt() & 0xff) : (i.jf() & 0xff));
                case JSET_K -> pc += 1 + (((a & i.k()) != 0) ? (i.jt() & 0xff) : (i.jf() & 0xff));
                case RET_K -> {
                    return i.k();
                }
                default -> throw new IllegalStateException("opcode " + i.code());
            }
        }
    }
}

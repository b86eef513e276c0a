package dev.ignis.worker.sandbox;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The sandbox's seccomp filter, as a classic-BPF program in the binary form that
 * {@code bwrap --seccomp FD} reads (an array of {@code struct sock_filter}, 8 bytes each).
 *
 * <p>Design note: a deny list, like Docker's default profile, not an allow list: the runtimes
 * we host (CPython, Node, the JVM, any custom {@code bootstrap}) use a wide and changing set of
 * syscalls, while the dangerous ones are few and well known. Every denied call returns
 * {@code EPERM} so well-behaved software sees an ordinary permission error rather than a kill.
 * The program is:
 * <ol>
 *   <li>load {@code seccomp_data.arch}; anything but {@code AUDIT_ARCH_X86_64} is killed
 *       (no i386 entry via int 0x80, whose syscall numbers differ);</li>
 *   <li>load {@code seccomp_data.nr}; numbers with the x32 bit (0x40000000) set return EPERM
 *       (x32 aliases of the same calls would bypass the list);</li>
 *   <li>one {@code JEQ} per blocked syscall jumping to {@code RET ERRNO|EPERM};</li>
 *   <li>{@code clone} with any {@code CLONE_NEW*} flag in its first argument returns EPERM;
 *       {@code clone3} returns ENOSYS (its flags live in user memory, which BPF cannot read;
 *       glibc then falls back to {@code clone}, which we can inspect);</li>
 *   <li>default {@code RET ALLOW}.</li>
 * </ol>
 */
public final class SeccompFilter {

    /** x86_64 syscall numbers that the sandbox may not use (arch/x86/entry/syscalls/syscall_64.tbl). */
    public static final Map<String, Integer> BLOCKED = blocked();

    static final int AUDIT_ARCH_X86_64 = 0xC000003E;
    static final int X32_SYSCALL_BIT = 0x40000000;
    static final int SYS_CLONE = 56;
    static final int SYS_CLONE3 = 435;
    /** CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWTIME. */
    static final int CLONE_NS_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000
            | 0x10000000 | 0x20000000 | 0x40000000 | 0x00000080;
    static final int EPERM = 1;
    static final int ENOSYS = 38;

    // BPF opcodes (linux/filter.h, linux/bpf_common.h, linux/seccomp.h)
    static final short LD_W_ABS = 0x20;   // BPF_LD | BPF_W | BPF_ABS
    static final short JEQ_K = 0x15;      // BPF_JMP | BPF_JEQ | BPF_K
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

    private static Map<String, Integer> blocked() {
        Map<String, Integer> m = new LinkedHashMap<>();
        m.put("ptrace", 101);
        m.put("mount", 165);
        m.put("umount2", 166);
        m.put("pivot_root", 155);
        m.put("chroot", 161);
        m.put("swapon", 167);
        m.put("swapoff", 168);
        m.put("reboot", 169);
        m.put("init_module", 175);
        m.put("finit_module", 313);
        m.put("delete_module", 176);
        m.put("kexec_load", 246);
        m.put("kexec_file_load", 320);
        m.put("bpf", 321);
        m.put("perf_event_open", 298);
        m.put("keyctl", 250);
        m.put("add_key", 248);
        m.put("request_key", 249);
        m.put("userfaultfd", 323);
        m.put("unshare", 272);
        m.put("setns", 308);
        m.put("process_vm_readv", 310);
        m.put("process_vm_writev", 311);
        m.put("open_by_handle_at", 304);
        m.put("name_to_handle_at", 303);
        m.put("fsopen", 430);
        m.put("fsmount", 432);
        m.put("fsconfig", 431);
        m.put("move_mount", 429);
        m.put("open_tree", 428);
        m.put("mount_setattr", 442);
        m.put("acct", 163);
        m.put("quotactl", 179);
        m.put("lookup_dcookie", 212);
        m.put("iopl", 172);
        // io_uring: a large, frequently exploited kernel surface; libuv and others fall back to epoll
        m.put("io_uring_setup", 425);
        m.put("io_uring_enter", 426);
        m.put("io_uring_register", 427);
        m.put("ioperm", 173);
        return java.util.Collections.unmodifiableMap(m);
    }

    /** One BPF instruction. */
    record Insn(short code, byte jt, byte jf, int k) {}

    /** The program as instructions (exposed for tests and for a human-readable dump). */
    static List<Insn> program() {
        List<Insn> p = new ArrayList<>();
        p.add(new Insn(LD_W_ABS, (byte) 0, (byte) 0, OFF_ARCH));
        p.add(new Insn(JEQ_K, (byte) 1, (byte) 0, AUDIT_ARCH_X86_64));
        p.add(new Insn(RET_K, (byte) 0, (byte) 0, RET_KILL_PROCESS));
        p.add(new Insn(LD_W_ABS, (byte) 0, (byte) 0, OFF_NR));
        // x32 ABI: nr >= 0x40000000 -> EPERM. JSET jumps when (A & k) != 0.
        List<Integer> nrs = new ArrayList<>(BLOCKED.values());
        // layout after this point (BPF jumps only go forward):
        // [x32 JSET][JEQ per nr][JEQ clone3][JEQ clone][LD arg0][JSET ns flags][ALLOW][ERRNO EPERM][ERRNO ENOSYS]
        int n = nrs.size();
        int idxX32 = p.size();
        int idxFirstJeq = idxX32 + 1;
        int idxClone3 = idxFirstJeq + n;
        int idxClone = idxClone3 + 1;
        int idxLdArg = idxClone + 1;
        int idxJsetFlags = idxLdArg + 1;
        int idxAllow = idxJsetFlags + 1;
        int idxEperm = idxAllow + 1;
        int idxEnosys = idxEperm + 1;
        p.add(new Insn(JSET_K, jump(idxX32, idxEperm), (byte) 0, X32_SYSCALL_BIT));
        for (int i = 0; i < n; i++) {
            int at = idxFirstJeq + i;
            p.add(new Insn(JEQ_K, jump(at, idxEperm), (byte) 0, nrs.get(i)));
        }
        p.add(new Insn(JEQ_K, jump(idxClone3, idxEnosys), (byte) 0, SYS_CLONE3));
        p.add(new Insn(JEQ_K, (byte) 0, jump(idxClone, idxAllow), SYS_CLONE));
        // clone: load the low 32 bits of the flags; any namespace flag -> EPERM, else ALLOW
        p.add(new Insn(LD_W_ABS, (byte) 0, (byte) 0, OFF_ARG0_LOW));
        p.add(new Insn(JSET_K, jump(idxJsetFlags, idxEperm), jump(idxJsetFlags, idxAllow), CLONE_NS_FLAGS));
        p.add(new Insn(RET_K, (byte) 0, (byte) 0, RET_ALLOW));
        p.add(new Insn(RET_K, (byte) 0, (byte) 0, RET_ERRNO | EPERM));
        p.add(new Insn(RET_K, (byte) 0, (byte) 0, RET_ERRNO | ENOSYS));
        return p;
    }

    /** Relative forward jump from instruction {@code from} to {@code to} (BPF jumps skip k instructions after the next). */
    private static byte jump(int from, int to) {
        int off = to - from - 1;
        if (off < 0 || off > 255) {
            throw new IllegalStateException("BPF jump out of range: " + from + " -> " + to);
        }
        return (byte) off;
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
                case JEQ_K -> pc += 1 + ((a == i.k()) ? (i.jt() & 0xff) : (i.jf() & 0xff));
                case JSET_K -> pc += 1 + (((a & i.k()) != 0) ? (i.jt() & 0xff) : (i.jf() & 0xff));
                case RET_K -> {
                    return i.k();
                }
                default -> throw new IllegalStateException("opcode " + i.code());
            }
        }
    }
}

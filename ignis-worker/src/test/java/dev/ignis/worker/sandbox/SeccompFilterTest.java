package dev.ignis.worker.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class SeccompFilterTest {
    private static final int X86_64 = SeccompFilter.AUDIT_ARCH_X86_64;
    private static final int EPERM = SeccompFilter.RET_ERRNO | 1;

    @Test
    void everyBlockedSyscallReturnsEperm() {
        for (var e : SeccompFilter.BLOCKED.entrySet()) {
            assertThat(SeccompFilter.evaluate(X86_64, e.getValue(), 0)).as(e.getKey()).isEqualTo(EPERM);
        }
        assertThat(SeccompFilter.BLOCKED).containsKeys("ptrace", "mount", "umount2", "kexec_load", "kexec_file_load",
                "bpf", "perf_event_open", "keyctl", "add_key", "request_key", "userfaultfd", "unshare", "setns");
    }

    @Test
    void ordinarySyscallsAreAllowed() {
        for (int nr : new int[] {0, 1, 2, 3, 9, 39, 57, 59, 60, 231, 257}) { // read write open close mmap getpid fork execve exit exit_group openat
            assertThat(SeccompFilter.evaluate(X86_64, nr, 0)).as("nr " + nr).isEqualTo(SeccompFilter.RET_ALLOW);
        }
    }

    @Test
    void cloneWithNamespaceFlagsIsDeniedButThreadsAndForksAreNot() {
        long threadFlags = 0x003d0f00L; // CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID
        assertThat(SeccompFilter.evaluate(X86_64, 56, threadFlags)).isEqualTo(SeccompFilter.RET_ALLOW);
        assertThat(SeccompFilter.evaluate(X86_64, 56, 0x01200011L)).isEqualTo(SeccompFilter.RET_ALLOW); // fork()
        assertThat(SeccompFilter.evaluate(X86_64, 56, 0x10000000L | 17)).isEqualTo(EPERM); // CLONE_NEWUSER
        assertThat(SeccompFilter.evaluate(X86_64, 56, 0x40000000L)).isEqualTo(EPERM); // CLONE_NEWNET
        assertThat(SeccompFilter.evaluate(X86_64, 56, 0x00020000L)).isEqualTo(EPERM); // CLONE_NEWNS
        assertThat(SeccompFilter.evaluate(X86_64, 435, 0)).isEqualTo(SeccompFilter.RET_ERRNO | 38); // clone3 -> ENOSYS
    }

    @Test
    void foreignArchitectureIsKilledAndX32IsDenied() {
        assertThat(SeccompFilter.evaluate(0x40000003, 1, 0)).isEqualTo(SeccompFilter.RET_KILL_PROCESS); // i386
        assertThat(SeccompFilter.evaluate(X86_64, 0x40000000 | 1, 0)).isEqualTo(EPERM); // x32 write
    }

    @Test
    void binaryLayoutIsSockFilterArray() {
        byte[] b = SeccompFilter.bytes();
        assertThat(b.length % 8).isZero();
        assertThat(b.length / 8).isEqualTo(SeccompFilter.program().size()).isLessThan(4096);
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(buf.getShort(0)).isEqualTo((short) 0x20); // ld [arch]
        assertThat(buf.getInt(4)).isEqualTo(4);
        assertThat(buf.getInt(8 + 4)).isEqualTo(X86_64);
    }
}

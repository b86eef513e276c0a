package dev.ignis.worker.microvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The snapshot's copy of a VM's RAM file ({@link MicroVmSnapshots#copyRam}): the file lives in the directory QEMU
 * owns, so a QEMU that escaped its guest could swap it for a link to a host file; the copy must refuse anything but
 * the VM's own regular file of the guest's size, and keep zero pages as holes.
 */
class SnapshotRamCopyTest {
    static final int UID = 54321;
    static final int MB = 2;

    @TempDir Path tmp;

    private Path ram(int uid, long size) throws IOException {
        Path f = tmp.resolve("mem");
        try (FileChannel c = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            byte[] page = new byte[4096];
            new Random(7).nextBytes(page);
            c.write(ByteBuffer.wrap(page), 0);
            c.write(ByteBuffer.wrap(page), 1024 * 1024 + 8192);
            c.write(ByteBuffer.allocate(1), size - 1);
        }
        Files.setAttribute(f, "unix:uid", uid);
        return f;
    }

    @Test
    void copiesTheVmsRamByteForByteWithHolesForZeroPages() throws Exception {
        Path from = ram(UID, MB * 1024L * 1024L);
        Path to = tmp.resolve("copy");
        MicroVmSnapshots.copyRam(from, UID, MB, to);
        assertThat(Files.readAllBytes(to)).isEqualTo(Files.readAllBytes(from));
        long allocated = MicroVmSnapshots.allocatedMb(to);
        assertThat(allocated).as("MB allocated of a 2 MB file with 2 data pages").isZero();
    }

    @Test
    void refusesALinkToAnotherFile() throws Exception {
        Path secret = Files.writeString(tmp.resolve("host-secret"), "x".repeat(100));
        Path link = Files.createSymbolicLink(tmp.resolve("mem"), secret);
        assertThatThrownBy(() -> MicroVmSnapshots.copyRam(link, UID, MB, tmp.resolve("copy"))).isInstanceOf(IOException.class);
        assertThat(tmp.resolve("copy")).satisfiesAnyOf(p -> assertThat(p).doesNotExist(), p -> assertThat(p).isEmptyFile());
    }

    @Test
    void refusesAFileOfAnotherOwnerOrSize() throws Exception {
        Path other = ram(0, MB * 1024L * 1024L);
        assertThatThrownBy(() -> MicroVmSnapshots.copyRam(other, UID, MB, tmp.resolve("copy")))
                .isInstanceOf(IOException.class).hasMessageContaining("not the VM's RAM file");
        Files.delete(tmp.resolve("copy"));
        Files.setAttribute(other, "unix:uid", UID);
        assertThatThrownBy(() -> MicroVmSnapshots.copyRam(other, UID, MB + 1, tmp.resolve("copy")))
                .isInstanceOf(IOException.class).hasMessageContaining("not the VM's RAM file");
    }
}

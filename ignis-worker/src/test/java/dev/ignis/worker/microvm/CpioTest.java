package dev.ignis.worker.microvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CpioTest {
    @Test
    void theSameFilesInAnyOrderGiveTheSameBytes() {
        byte[] a = new Cpio().file("init", "x".getBytes(), true).file("ignis/modules", "m".getBytes(), false).toBytes();
        byte[] b = new Cpio().file("ignis/modules", "m".getBytes(), false).file("/init", "x".getBytes(), true).toBytes();
        assertThat(a).isEqualTo(b);
        String s = new String(a, StandardCharsets.US_ASCII);
        assertThat(s).startsWith("070701").contains("ignis\0", "ignis/modules\0", "init\0", "TRAILER!!!\0");
        assertThat(a.length % 4).isZero();
        // mode 0100755 for the executable init, mtime 0
        assertThat(s).contains("000081ED" + "00000000" + "00000000" + "00000001" + "00000000");
    }

    @Test
    void pathsThatLeaveTheArchiveAreRefused() {
        assertThatThrownBy(() -> new Cpio().file("../etc/passwd", new byte[0], false)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Cpio().file("/", new byte[0], false)).isInstanceOf(IllegalArgumentException.class);
    }
}

package dev.ignis.worker.microvm;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The command line that starts one microVM, jailed the way Firecracker's jailer jails Firecracker: the worker writes
 * the process into the VM's cgroup, drops to the VM's own unprivileged uid with no groups, capabilities or new
 * privileges ({@code setpriv}), and bubblewrap gives QEMU new user, pid, ipc, uts, cgroup and network namespaces in
 * which only the host's system directories (QEMU and its libraries), the kernel, the initramfs, the directories the
 * guest gets over 9p and the VM's own socket directory exist; QEMU then confines itself with its seccomp
 * {@code -sandbox}. The environment is a fixed {@code PATH}; nothing tenant-controlled is on this command line (the
 * runtime's environment goes to the guest agent over the mux port).
 */
final class QemuCommand {
    static final Path QEMU = Path.of("/usr/bin/qemu-system-x86_64");
    static final Path BWRAP = Path.of("/usr/bin/bwrap");
    static final Path SETPRIV = Path.of("/usr/bin/setpriv");
    /** Host paths QEMU itself needs inside its jail (binary, libraries, firmware). */
    static final List<Path> SYSTEM = List.of(Path.of("/usr"), Path.of("/lib"), Path.of("/lib64"), Path.of("/etc/ld.so.cache"));
    /** The kernel command line (docs/sandbox-microvm.md): quiet serial console, the TSC trusted, no reboot on panic. */
    static final String KERNEL_ARGS = "console=ttyS0 quiet loglevel=3 tsc_early_khz=2000000 tsc=reliable panic=-1 "
            + "rdinit=/init i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd cryptomgr.notests random.trust_cpu=on";

    /** One 9p export: {@code tag} mounted read-only at {@code guestPath}, backed by {@code hostPath}. */
    record Share(String tag, String guestPath, Path hostPath) {}

    /**
     * One read-only disk: an ext4 image of a host directory, mounted by the agent at {@code guestPath}; the guest finds
     * it by its virtio serial ({@code tag}). Snapshottable VMs use these instead of 9p shares: QEMU refuses to migrate
     * (so to snapshot) a VM with a mounted 9p export.
     */
    record Drive(String tag, String guestPath, Path image) {}

    /** Where guest RAM lives. */
    sealed interface Memory {
        /** QEMU's own anonymous memory (a VM that is never snapshotted). */
        record Anonymous() implements Memory {}

        /**
         * A file of the VM's own directory, MAP_SHARED: a VM that will be snapshotted (its RAM is then that file), or a
         * restored VM over its own copy of the snapshot's RAM (the guest's writes land in that copy, once: no
         * copy-on-write duplicate of each written page; the snapshot itself is never mapped by any QEMU).
         */
        record SharedFile(Path file) implements Memory {}
    }

    /**
     * @param incoming a restore: QEMU waits for {@code migrate-incoming} of the snapshot's device state
     * @param vmgenid  the VM generation id the guest sees (a fresh one on every restore), or null for none
     */
    record Params(List<Path> cgroupProcs, int uid, Integer kvmGid, Accel accel, GuestImage image, Path vmDir,
                  int guestMemoryMb, int vcpus, List<Share> shares, List<Drive> drives, Memory memory, boolean incoming,
                  String vmgenid) {
        Params(List<Path> cgroupProcs, int uid, Integer kvmGid, Accel accel, GuestImage image, Path vmDir,
               int guestMemoryMb, int vcpus, List<Share> shares) {
            this(cgroupProcs, uid, kvmGid, accel, image, vmDir, guestMemoryMb, vcpus, shares, List.of(),
                    new Memory.Anonymous(), false, null);
        }
    }

    private QemuCommand() {}

    static List<String> of(Params p) {
        List<String> a = new ArrayList<>();
        // sh joins the cgroups with its own pid, then execs (same pid) setpriv -> bwrap -> qemu
        a.addAll(List.of("/bin/sh", "-c", "while [ \"$1\" != -- ]; do echo $$ > \"$1\" || exit 125; shift; done; shift; exec \"$@\"",
                "ignis-microvm-jail"));
        p.cgroupProcs().forEach(f -> a.add(f.toString()));
        a.add("--");
        a.addAll(List.of(SETPRIV.toString(), "--reuid=" + p.uid(), "--regid=" + p.uid()));
        a.add(p.kvmGid() != null ? "--groups=" + p.kvmGid() : "--clear-groups");
        a.addAll(List.of("--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"));
        a.addAll(List.of(BWRAP.toString(), "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
                "--hostname", "qemu"));
        Set<Path> bound = new LinkedHashSet<>();
        for (Path s : SYSTEM) {
            if (Files.exists(s) && bound.add(s)) {
                a.addAll(List.of("--ro-bind", s.toString(), s.toString()));
            }
        }
        // mount points first: a bind below /tmp (a code directory there) must come after the tmpfs
        a.addAll(List.of("--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"));
        for (Path s : List.of(p.image().kernel(), p.image().initramfs())) {
            a.addAll(List.of("--ro-bind", s.toString(), s.toString()));
        }
        for (Share s : p.shares()) {
            if (bound.add(s.hostPath())) {
                a.addAll(List.of("--ro-bind", s.hostPath().toString(), s.hostPath().toString()));
            }
        }
        for (Drive d : p.drives()) {
            if (bound.add(d.image())) {
                a.addAll(List.of("--ro-bind", d.image().toString(), d.image().toString()));
            }
        }
        a.addAll(List.of("--bind", p.vmDir().toString(), p.vmDir().toString()));
        if (p.accel().kvm()) {
            a.addAll(List.of("--dev-bind", "/dev/kvm", "/dev/kvm"));
        }
        a.add(QEMU.toString());
        String machine = "microvm,x-option-roms=off,isa-serial=on,pit=on,pic=on,rtc=on";
        switch (p.memory()) {
            case Memory.Anonymous x -> { }
            case Memory.SharedFile f -> {
                a.addAll(List.of("-object", "memory-backend-file,id=mem,size=" + p.guestMemoryMb() + "M,mem-path=" + f.file()
                        + ",share=on"));
                machine += ",memory-backend=mem";
            }
        }
        a.addAll(List.of("-M", machine));
        if (p.accel().kvm()) {
            a.addAll(List.of("-accel", "kvm", "-cpu", "host"));
        } else {
            a.addAll(List.of("-accel", "tcg,tb-size=" + TB_SIZE_MB));
        }
        a.addAll(List.of("-m", Integer.toString(p.guestMemoryMb()), "-smp", Integer.toString(p.vcpus()),
                "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
                "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
                "-kernel", p.image().kernel().toString(), "-initrd", p.image().initramfs().toString(),
                "-append", KERNEL_ARGS,
                "-serial", "file:" + p.vmDir().resolve("console"),
                "-qmp", "unix:" + p.vmDir().resolve("qmp") + ",server=on,wait=off",
                "-device", "virtio-serial-device",
                "-chardev", "socket,id=mux,path=" + p.vmDir().resolve("mux") + ",server=on,wait=off",
                "-device", "virtserialport,chardev=mux,name=ignis.mux",
                "-chardev", "socket,id=log,path=" + p.vmDir().resolve("log") + ",server=on,wait=off",
                "-device", "virtserialport,chardev=log,name=ignis.log"));
        int i = 0;
        for (Share s : p.shares()) {
            a.addAll(List.of("-fsdev", "local,id=fs" + i + ",path=" + s.hostPath() + ",security_model=none,readonly=on",
                    "-device", "virtio-9p-device,fsdev=fs" + i + ",mount_tag=" + s.tag()));
            i++;
        }
        i = 0;
        for (Drive d : p.drives()) {
            a.addAll(List.of("-drive", "file=" + d.image() + ",format=raw,if=none,readonly=on,id=d" + i,
                    "-device", "virtio-blk-device,drive=d" + i + ",serial=" + d.tag()));
            i++;
        }
        if (p.vmgenid() != null) {
            a.addAll(List.of("-device", "vmgenid,guid=" + p.vmgenid()));
        }
        if (p.incoming()) {
            a.addAll(List.of("-incoming", "defer"));
        }
        return a;
    }

    /** TCG's translation cache, MB: QEMU's default (1 GiB under system emulation) would dominate the VM's memory. */
    static final int TB_SIZE_MB = 32;
}

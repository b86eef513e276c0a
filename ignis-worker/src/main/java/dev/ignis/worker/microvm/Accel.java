package dev.ignis.worker.microvm;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How QEMU runs the guest's CPU: {@code kvm} (hardware virtualization) where the host has a usable {@code /dev/kvm},
 * else {@code tcg} (QEMU's software emulation: the same behaviour, guest CPU work tens of times slower).
 *
 * @param name {@code kvm} or {@code tcg}
 * @param why  why this one (shown by the probe and the worker's log)
 */
public record Accel(String name, String why) {
    /** {@code -Dignis.microvm.accel=kvm|tcg} forces one; otherwise KVM when /dev/kvm is a hardware KVM. */
    public static Accel detect() {
        String forced = System.getProperty("ignis.microvm.accel", "");
        if (forced.equals("kvm") || forced.equals("tcg")) {
            return new Accel(forced, "forced by -Dignis.microvm.accel");
        }
        if (!Files.exists(Path.of("/dev/kvm"))) {
            return new Accel("tcg", "no /dev/kvm on this host");
        }
        if (Files.isDirectory(Path.of("/sys/module/kvm_pvm"))) {
            return new Accel("tcg", "/dev/kvm is the paravirtual kvm_pvm, which stock guest kernels cannot boot under");
        }
        if (Files.isDirectory(Path.of("/sys/module/kvm_intel")) || Files.isDirectory(Path.of("/sys/module/kvm_amd"))) {
            return new Accel("kvm", "/dev/kvm is hardware KVM");
        }
        return new Accel("tcg", "/dev/kvm is there but neither kvm_intel nor kvm_amd is loaded");
    }

    boolean kvm() {
        return name.equals("kvm");
    }
}

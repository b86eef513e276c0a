package dev.ignis.worker.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The root launcher alone (no bwrap): what the program it execs ends up with, and that a bad argument
 * stops it before anything runs.
 */
class SandboxLauncherTest {
    private static final int UID = 299_123;

    @TempDir
    Path dir;
    private Path launcher;
    private Path seccomp;
    private String netns;
    private Cgroups cgroups;
    private Cgroups.Group group;

    @BeforeEach
    void setUp() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        launcher = SandboxLauncher.build(dir);
        seccomp = dir.resolve("seccomp.bin");
        Files.writeString(seccomp, "the seccomp program");
        netns = "ignis-launchtest" + ProcessHandle.current().pid();
        NetNamespaces.run("ip", "netns", "add", netns);
        cgroups = Cgroups.detect("ignis-launchtest" + ProcessHandle.current().pid());
        group = cgroups.create("sb-launch", Cgroups.Limits.forMemory(256, 64));
    }

    @AfterEach
    void tearDown() {
        group.remove();
        cgroups.removeAll();
        NetNamespaces.run("ip", "netns", "delete", netns);
    }

    private record Run(int exit, String output) {}

    private Run run(List<Path> procs, String netnsPath, String uid, String... program) throws Exception {
        List<String> argv = new ArrayList<>(List.of(launcher.toString()));
        procs.forEach(p -> argv.add(p.toString()));
        argv.addAll(List.of("--", seccomp.toString(), netnsPath, uid));
        argv.addAll(List.of(program));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void joinsTheCgroupsEntersTheNetnsDropsRootAndHandsOverTheSeccompFd() throws Exception {
        Run r = run(group.procsFiles(), "/run/netns/" + netns, Integer.toString(UID), "/usr/bin/python3", "-c", """
                import os
                print("ids", os.getresuid(), os.getresgid(), os.getgroups())
                print("fd4", os.read(4, 100).decode())
                print("net", os.readlink("/proc/self/ns/net"))
                print("cgroup", open("/proc/self/cgroup").read().replace("\\n", " "))
                print("caps", [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0])
                """);
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).contains("ids (" + UID + ", " + UID + ", " + UID + ") (" + UID + ", " + UID + ", " + UID + ") []");
        assertThat(r.output()).contains("fd4 the seccomp program");
        String nsInode = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
        assertThat(r.output()).contains("net net:[").doesNotContain("net " + nsInode);
        assertThat(r.output()).contains("caps 0000000000000000");
        for (Path procs : group.procsFiles()) {
            String rel = procs.getParent().getFileName().toString();
            assertThat(r.output()).as("joined " + procs).contains(rel);
        }
    }

    @Test
    void badArgumentsStopItBeforeTheProgramRuns() throws Exception {
        Path marker = dir.resolve("ran");
        String[] program = {"/usr/bin/touch", marker.toString()};
        String ns = "/run/netns/" + netns;
        assertThat(run(group.procsFiles(), ns, "0", program).exit()).isEqualTo(2); // never uid 0
        assertThat(run(group.procsFiles(), ns, "-5", program).exit()).isEqualTo(2);
        assertThat(run(group.procsFiles(), ns, "12x", program).exit()).isEqualTo(2);
        Run noNetns = run(group.procsFiles(), "/run/netns/ignis-no-such-ns", Integer.toString(UID), program);
        assertThat(noNetns.exit()).isEqualTo(126);
        assertThat(noNetns.output()).contains("ignis-no-such-ns");
        Run noCgroup = run(List.of(dir.resolve("no-such-cgroup/cgroup.procs")), ns, Integer.toString(UID), program);
        assertThat(noCgroup.exit()).isEqualTo(126);
        assertThat(noCgroup.output()).contains("cgroup");
        assertThat(marker).doesNotExist();
        assertThat(run(group.procsFiles(), ns, Integer.toString(UID), "/bin/true").exit()).isZero(); // and the good case runs
    }

    @Test
    void aUserSpaceKernelGetsItsOwnDescriptorLimitWithinBoundsAndEverythingElseKeepsLambdas() throws Exception {
        String ns = "/run/netns/" + netns;
        String[] limits = {"/bin/sh", "-c", "echo $(ulimit -Sn) $(ulimit -Hn) $(ulimit -c)"};
        assertThat(run(group.procsFiles(), ns, Integer.toString(UID), limits).output()).contains("1024 1024 0");
        Run kernel = runWith("--kernel-nofile=8192", ns, limits);
        assertThat(kernel.exit()).as(kernel.output()).isZero();
        assertThat(kernel.output()).contains("8192 8192 0");
        for (String bad : List.of("--kernel-nofile=100", "--kernel-nofile=70000", "--kernel-nofile=8k", "--kernel-nofile=")) {
            Run r = runWith(bad, ns, "/usr/bin/touch", dir.resolve("ran").toString());
            assertThat(r.exit()).as(bad).isEqualTo(2);
        }
        assertThat(dir.resolve("ran")).doesNotExist();
    }

    private Run runWith(String first, String netnsPath, String... program) throws Exception {
        List<String> argv = new ArrayList<>(List.of(launcher.toString(), first));
        group.procsFiles().forEach(p -> argv.add(p.toString()));
        argv.addAll(List.of("--", seccomp.toString(), netnsPath, Integer.toString(UID)));
        argv.addAll(List.of(program));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void isBuiltOncePerSourceVersionAndOnlyRootCanTouchIt() throws Exception {
        assertThat(SandboxLauncher.build(dir)).isEqualTo(launcher);
        assertThat(Files.getPosixFilePermissions(launcher)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        try (var s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("ignis-sandbox-exec")).toList())
                    .containsExactly(launcher.getFileName().toString()); // no temporary files left
        }
    }

    @Test
    void aReadyLauncherTakesItsArgumentsFromStdinAndLeavesTheRestToItsProgram() throws Exception {
        java.util.concurrent.ExecutorService owner = java.util.concurrent.Executors.newSingleThreadExecutor();
        try (SandboxLauncher.Ready ready = new SandboxLauncher.Ready(launcher, owner, 1)) {
            List<String> args = new ArrayList<>();
            group.procsFiles().forEach(p -> args.add(p.toString()));
            args.addAll(List.of("--", seccomp.toString(), "/run/netns/" + netns, Integer.toString(UID),
                    "/usr/bin/python3", "-c", "import os, sys; print(os.getuid(), sorted(os.environ.items()), repr(sys.stdin.read()))"));
            // (python adds LC_CTYPE itself when the locale is C: PEP 538)
            byte[] runtime = SandboxLauncher.Ready.runtimeMessage(List.of("/bin/rt"), java.util.Map.of("LD_PRELOAD", "/evil.so"));
            assertThat(new String(runtime, StandardCharsets.UTF_8)).isEqualTo("32\0" + "1\0/bin/rt\0" + "1\0LD_PRELOAD=/evil.so\0");
            for (int i = 0; i < 3; i++) { // the first from the pool, then refilled ones
                Process p = ready.start(args, runtime);
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                        + new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(p.waitFor()).as(out).isZero();
                // the program (bwrap, in a sandbox) gets the launcher's fixed environment, never the JVM's nor
                // the function's, and finds the runtime's message, untouched, on its stdin
                assertThat(out.trim()).isEqualTo(UID + " [('LC_CTYPE', 'C.UTF-8'), ('PATH', '/usr/sbin:/usr/bin:/sbin:/bin')] "
                        + "'32\\x001\\x00/bin/rt\\x001\\x00LD_PRELOAD=/evil.so\\x00'");
            }
            assertThatNul(args);
        } finally {
            owner.shutdownNow();
        }
    }

    @Test
    void theLauncherNeverPassesItsEnvironmentToItsProgram() throws Exception {
        List<String> argv = new ArrayList<>(List.of(launcher.toString()));
        group.procsFiles().forEach(p -> argv.add(p.toString()));
        argv.addAll(List.of("--", seccomp.toString(), "/run/netns/" + netns, Integer.toString(UID),
                "/usr/bin/env"));
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
        pb.environment().put("LD_LIBRARY_PATH", "/nonexistent");
        pb.environment().put("BASH_ENV", "/nonexistent/evil.sh");
        pb.environment().put("SECRET", "the worker's");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out.trim()).isEqualTo("PATH=/usr/sbin:/usr/bin:/sbin:/bin");
    }

    private static void assertThatNul(List<String> args) {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SandboxLauncher.Ready.runtimeMessage(args, java.util.Map.of("X", "a\0b")))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void malformedInstructionsAreRefusedBeforeAnythingRuns() throws Exception {
        Path marker = dir.resolve("ran");
        String withEnv = "7\0x\0--\0s\0n\0" + UID + "\0/usr/bin/touch\0" + marker + "\0" + "1\0X=1\0";
        for (String input : List.of("", "garbage", "9\0a\0b\0", "4\0" + "9\0a\0", "99999999999\0",
                withEnv.length() + "\0" + withEnv)) { // the launcher takes no environment
            Process p = new ProcessBuilder(launcher.toString(), "--stdin").redirectErrorStream(true).start();
            try (var in = p.getOutputStream()) {
                in.write(input.getBytes(StandardCharsets.UTF_8));
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor()).as(input + ": " + out).isEqualTo(2);
            assertThat(out).contains("instructions");
        }
        assertThat(marker).doesNotExist();
    }
}

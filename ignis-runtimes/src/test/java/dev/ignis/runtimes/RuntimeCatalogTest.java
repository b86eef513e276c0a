package dev.ignis.runtimes;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RuntimeCatalogTest {
    private static final List<String> FORBIDDEN = List.of("/etc/shadow", "/etc/passwd", "/root", "/home", "/var", "/work", "/proc", "/sys");

    @Test
    void servesWhatThisHostHasAndNothingElse() throws Exception {
        RuntimeCatalog c = TestRuntimes.catalog();
        assertThat(c.find("python3.11")).isPresent();
        assertThat(c.find("provided.al2023")).isPresent();
        assertThat(c.find("provided.al2")).isPresent();
        assertThat(c.find("java17").orElseThrow().servedBy()).contains("17.0").contains("java-17-openjdk");
        assertThat(c.find("java21").orElseThrow().servedBy()).contains("temurin-25").contains("runtime-interface-client 2.10.1");
        assertThat(c.find("java25").orElseThrow().servedBy()).contains("temurin-25");
        String nodeVersion = new String(new ProcessBuilder("/usr/bin/node", "--version").start().getInputStream().readAllBytes()).trim();
        String nodeId = "nodejs" + nodeVersion.substring(1, nodeVersion.indexOf('.')) + ".x";
        assertThat(c.find(nodeId).orElseThrow().servedBy()).contains(nodeVersion);
        assertThat(c.all()).extracting(RuntimeDefinition::id).filteredOn(id -> id.startsWith("nodejs")).containsExactly(nodeId);
        // Only Debian's interpreters in /usr/bin count (never pyenv's under /root).
        for (RuntimeDefinition d : c.all()) {
            assertThat(Files.exists(Path.of("/usr/bin", d.id())) || !d.id().startsWith("python")).isTrue();
        }
        assertThat(RuntimeCatalog.knownAwsRuntimeIds()).contains("python3.12", "nodejs22.x", "java8.al2", "ruby3.3")
                .doesNotContain("python4", "cobol");
        assertThat(c.find("ruby3.3")).isEmpty();
    }

    @Test
    void sandboxPathsAreMinimalExistingAndNeverSensitive() {
        for (RuntimeDefinition d : TestRuntimes.catalog().all()) {
            assertThat(d.runtimeDirectory()).isDirectory();
            assertThat(d.environment()).containsEntry("AWS_EXECUTION_ENV", "AWS_Lambda_" + d.id());
            for (Path p : d.hostReadOnlyPaths()) {
                assertThat(p).as(d.id()).exists();
                assertThat(p.isAbsolute()).isTrue();
                for (String bad : FORBIDDEN) {
                    assertThat(p.toString().equals(bad) || p.startsWith(bad)).as(d.id() + " exposes " + p).isFalse();
                }
            }
        }
        RuntimeDefinition py = TestRuntimes.runtime("python3.11");
        assertThat(py.hostReadOnlyPaths()).contains(Path.of("/usr/bin/python3.11"), Path.of("/usr/lib/python3.11"))
                .doesNotContain(Path.of("/usr/bin"), Path.of("/usr/lib"), Path.of("/usr/lib/x86_64-linux-gnu"));
        assertThat(py.command()).startsWith("/usr/bin/python3.11", "-u");
        // its host libraries as the runtime's own copies of exactly those files, one bind per directory
        assertThat(py.directoryBinds()).isNotEmpty();
        py.directoryBinds().forEach((inside, copy) -> {
            try (var files = java.nio.file.Files.list(copy)) {
                for (Path f : files.toList()) {
                    assertThat(inside.resolve(f.getFileName())).as("copy of a host library").exists();
                    assertThat(f.getFileName().toString()).contains(".so");
                    assertThat(f).hasSameBinaryContentAs(inside.resolve(f.getFileName()));
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            assertThat(py.hostReadOnlyPaths()).noneMatch(p -> p.startsWith(inside));
        });
        RuntimeDefinition java = TestRuntimes.runtime("java21");
        assertThat(java.hostReadOnlyPaths()).contains(Path.of("/usr/lib/jvm/temurin-25-jdk-amd64"))
                .noneMatch(p -> p.toString().contains("java-17"));
    }

    @Test
    void installIsIdempotentAndRepairsAMissingMarker(@TempDir Path data) throws Exception {
        // Class-sharing training is slow and tested elsewhere; this test is about the copying.
        RuntimeCatalog.install(data, false);
        Path py = data.resolve("runtimes/python3.11");
        Path marker = py.resolve(RuntimeResources.MARKER);
        FileTime before = Files.getLastModifiedTime(py.resolve("ignis_runtime.py"));
        long t0 = System.nanoTime();
        RuntimeCatalog again = RuntimeCatalog.install(data, false);
        long secondMs = (System.nanoTime() - t0) / 1_000_000;
        assertThat(Files.getLastModifiedTime(py.resolve("ignis_runtime.py"))).isEqualTo(before);
        assertThat(again.find("python3.11")).isPresent();
        System.out.printf("catalog re-install (already current): %d ms%n", secondMs);
        Files.delete(marker);
        Files.writeString(py.resolve("ignis_runtime.py"), "tampered");
        RuntimeCatalog.install(data, false);
        assertThat(Files.readString(py.resolve("ignis_runtime.py"))).contains("class RuntimeApi");
        assertThat(Files.getPosixFilePermissions(py.resolve("bootstrap")).toString()).contains("OTHERS_EXECUTE");
    }

    @Test
    void processesSharingOneRuntimeDirectoryInstallOneAtATime(@TempDir Path data) throws Exception {
        // A cluster on one machine: every node process installs into the same directory at startup.
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> installs = new java.util.ArrayList<>();
        for (int i = 0; i < 4; i++) {
            installs.add(new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), InstallMain.class.getName(),
                    data.toString()).redirectErrorStream(true).start());
        }
        for (Process p : installs) {
            String out = new String(p.getInputStream().readAllBytes());
            assertThat(p.waitFor()).as("an install next to three others: %s", out).isZero();
        }
        assertThat(RuntimeCatalog.install(data, false).find("python3.11")).isPresent();
    }

    /** One install in its own process. */
    static final class InstallMain {
        public static void main(String[] args) {
            RuntimeCatalog.install(Path.of(args[0]), false);
        }
    }

    @Test
    void minimalDropsPathsInsideListedDirectoriesAndNormalizes() {
        assertThat(RuntimeCatalog.minimal(List.of(Path.of("/usr/bin/dash"), Path.of("/opt/jdk"),
                Path.of("/opt/jdk/bin/../lib/libjli.so"), Path.of("/lib/x/libc.so.6"), Path.of("/lib/x/libc.so.6"))))
                .containsExactly(Path.of("/usr/bin/dash"), Path.of("/opt/jdk"), Path.of("/lib/x/libc.so.6"));
    }
}

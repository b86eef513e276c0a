package dev.ignis.worker.gvisor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ignis.common.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OciBundleTest {
    private static OciBundle bundle(Path root, List<OciBundle.Mount> mounts) {
        return new OciBundle(root, List.of("/.ignis-await", "--await"), Map.of("PATH", "/usr/bin:/bin"), 993, 993, "/var/task",
                mounts, 64L << 20, 256L << 20, 14_471, 100_000, 128);
    }

    @Test
    void theSpecIsConfinedAsTheThreatModelAsks(@TempDir Path dir) throws Exception {
        JsonNode c = Json.mapper().readTree(bundle(dir, List.of(OciBundle.Mount.readOnly(Path.of("/usr"), "/usr"),
                OciBundle.Mount.readOnly(dir, "/var/task"))).configJson());
        assertThat(c.at("/root/readonly").asBoolean()).isTrue();
        assertThat(c.at("/process/user/uid").asInt()).isEqualTo(993);
        assertThat(c.at("/process/noNewPrivileges").asBoolean()).isTrue();
        for (String set : List.of("bounding", "effective", "inheritable", "permitted", "ambient")) {
            assertThat(c.at("/process/capabilities/" + set).size()).as(set).isZero();
        }
        assertThat(c.at("/process/rlimits").toString()).contains("{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}",
                "{\"type\":\"RLIMIT_CORE\",\"hard\":0,\"soft\":0}", "{\"type\":\"RLIMIT_NPROC\",\"hard\":128,\"soft\":128}");
        assertThat(c.at("/process/env").toString()).isEqualTo("[\"PATH=/usr/bin:/bin\"]");
        assertThat(c.at("/linux/resources/memory/limit").asLong()).isEqualTo(256L << 20);
        assertThat(c.at("/linux/resources/memory/swap").asLong()).isEqualTo(256L << 20);
        assertThat(c.at("/linux/resources/cpu/quota").asLong()).isEqualTo(14_471);
        assertThat(c.at("/linux/resources/pids/limit").asInt()).isEqualTo(128);
        assertThat(c.at("/linux/namespaces").toString()).doesNotContain("network", "user");
        String mounts = c.at("/mounts").toString();
        assertThat(mounts).contains("{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"nodev\",\"mode=1777\",\"size=67108864\"]}",
                "{\"destination\":\"/var/task\",\"type\":\"bind\",\"source\":\"" + dir + "\",\"options\":[\"rbind\",\"ro\",\"nosuid\",\"nodev\"]}");
        for (JsonNode m : c.at("/mounts")) {
            if (m.get("type").asText().equals("bind")) {
                assertThat(m.get("options").toString()).as(m.toString()).contains("\"ro\"");
            }
        }
    }

    @Test
    void badInputIsRefused(@TempDir Path dir) {
        assertThatThrownBy(() -> new OciBundle(dir, List.of("/bin/sh"), Map.of(), 0, 993, "/", List.of(), 1, 1, 1, 1, 1))
                .hasMessageContaining("root");
        assertThatThrownBy(() -> new OciBundle(dir, List.of("/bin/sh"), Map.of("A=B", "x"), 993, 993, "/", List.of(), 1, 1, 1, 1, 1))
                .hasMessageContaining("environment");
        assertThatThrownBy(() -> new OciBundle(dir, List.of("/bin/sh"), Map.of("A", "x\0y"), 993, 993, "/", List.of(), 1, 1, 1, 1, 1))
                .hasMessageContaining("environment");
        assertThatThrownBy(() -> OciBundle.Mount.readOnly(dir, "var/task")).hasMessageContaining("absolute");
        assertThatThrownBy(() -> OciBundle.Mount.readOnly(dir, "/var/../etc")).hasMessageContaining("normalized");
    }

    @Test
    void theConfigIsReadableOnlyByTheSandboxUid(@TempDir Path dir) throws Exception {
        Path f = bundle(dir, List.of()).write(dir, 200_123);
        assertThat(Files.getAttribute(f, "unix:uid")).isEqualTo(200_123);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("r--------");
    }

    @Test
    void theRootSkeletonHoldsOnlyMountPointsAndIsReused(@TempDir Path dir) throws Exception {
        TreeMap<String, Boolean> points = new TreeMap<>(Map.of("/usr", true, "/.ignis-await", false, "/lib64/ld.so", false));
        Path root = RootSkeleton.ensure(dir, points);
        assertThat(Files.isDirectory(root.resolve("usr"))).isTrue();
        assertThat(Files.isRegularFile(root.resolve(".ignis-await"))).isTrue();
        assertThat(Files.size(root.resolve("lib64/ld.so"))).isZero();
        assertThat(Files.isDirectory(root.resolve("opt"))).isTrue();
        assertThat(Files.exists(root.resolve("etc"))).isFalse();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("usr")))).isEqualTo("rwxr-xr-x");
        assertThat(RootSkeleton.ensure(dir, points)).isEqualTo(root);
        assertThatThrownBy(() -> RootSkeleton.ensure(dir, new TreeMap<>(Map.of("/a/../etc", true)))).hasMessageContaining("bad mount point");
    }
}

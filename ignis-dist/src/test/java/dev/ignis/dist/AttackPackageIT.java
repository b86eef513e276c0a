package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * A tenant's package whose symlinks, each pointing inside the package on paper, chain on disk to
 * the host's "/", with a file entry written through the chain: refused at CreateFunction with
 * InvalidParameterValueException, no function created, nothing written on the host. Were the
 * package accepted, the first invoke unpacks it, so the test invokes it before looking.
 */
class AttackPackageIT extends PlatformTestBase {
    /** Names the chain's links, so that cleaning up after a chain that escaped removes only what it made. */
    private static final String TOKEN = "ignis-chain-" + UUID.randomUUID().toString().substring(0, 8) + "-";
    private final Path canary = Path.of("/tmp", "ignis-canary-" + UUID.randomUUID());

    @Test
    void zipSymlinkChainCannotWriteOutsideTheFunctionDirectory() throws IOException {
        // l1 -> ".", l1/l2 -> "..", ...: each link climbs one directory on disk, so l1/.../ln is "/" for n deep enough
        int depth = dir.getNameCount() + 10;
        var entries = new LinkedHashMap<String, String>();
        Set<String> links = new HashSet<>();
        entries.put("app.py", "def handler(e, c):\n    return e\n");
        for (int k = 1; k <= depth; k++) {
            entries.put(path(k), k == 1 ? "." : "..");
            links.add(path(k));
        }
        entries.put(path(depth) + canary + "/owned.txt", "root was here");
        byte[] zip = Zips.withLinks(entries, links);

        String error = null;
        try {
            lambda.createFunction(b -> b.functionName("chain").runtime(Runtime.PYTHON3_11).handler("app.handler")
                    .role(TestPlatform.ROLE).code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
            lambda.invoke(b -> b.functionName("chain").payload(SdkBytes.fromUtf8String("{}")));
        } catch (LambdaException e) {
            error = e.awsErrorDetails().errorCode();
        }

        assertThat(canary).as("a file written as root through the package's links").doesNotExist();
        assertThat(strayLinks()).as("links the package made outside its directory").isEmpty();
        assertThat(error).isEqualTo("InvalidParameterValueException");
        assertThatThrownBy(() -> lambda.getFunction(b -> b.functionName("chain"))).isInstanceOf(ResourceNotFoundException.class);
    }

    private static String path(int k) {
        var sb = new StringBuilder(TOKEN + "1");
        for (int i = 2; i <= k; i++) {
            sb.append('/').append(TOKEN).append(i);
        }
        return sb.toString();
    }

    /** Entries named with this run's token where the chain's steps land: the code store's directories and the data directory's ancestors. */
    private List<Path> strayLinks() throws IOException {
        var found = new java.util.ArrayList<Path>();
        var places = new java.util.ArrayList<>(List.of(dir.resolve("code/unpacked/.staging"), dir.resolve("code/unpacked"), dir.resolve("code")));
        for (Path d = dir; d != null; d = d.getParent()) {
            places.add(d);
        }
        for (Path d : places) {
            if (Files.isDirectory(d)) {
                try (var list = Files.list(d)) {
                    list.filter(p -> p.getFileName().toString().startsWith(TOKEN)).forEach(found::add);
                }
            }
        }
        return found;
    }

    @AfterAll
    void cleanHost() throws IOException {
        for (Path p : strayLinks()) {
            if (Files.isSymbolicLink(p)) {
                Files.delete(p);
            }
        }
        if (Files.exists(canary)) {
            Files.deleteIfExists(canary.resolve("owned.txt"));
            Files.deleteIfExists(canary);
        }
    }
}

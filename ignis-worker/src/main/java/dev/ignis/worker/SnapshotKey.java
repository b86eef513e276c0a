package dev.ignis.worker;

import dev.ignis.runtimes.RuntimeDefinition;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.TreeMap;

/**
 * The key of one function configuration's snapshot: everything a sandbox's init can depend on — the version and
 * configuration revision, the code (its directory, content-addressed by the code's hash), the handler, memory, /tmp,
 * the environment, and the runtime and its command. Two starts with the same key may share one snapshot.
 */
final class SnapshotKey {
    private SnapshotKey() {}

    static String of(SandboxSpec spec, RuntimeDefinition rt) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            StringBuilder b = new StringBuilder();
            java.util.function.Consumer<Object> f = o -> b.append(o).append('\0');
            f.accept(spec.functionArn());
            f.accept(spec.version());
            f.accept(spec.revisionId());
            f.accept(spec.runtime());
            f.accept(spec.handler());
            f.accept(spec.memoryMb());
            f.accept(spec.ephemeralStorageMb());
            f.accept(spec.timeoutSeconds());
            f.accept(spec.codeDirectory());
            f.accept(spec.layersDirectory());
            new TreeMap<>(spec.environment()).forEach((k, v) -> {
                f.accept(k);
                f.accept(v);
            });
            f.accept(rt.id());
            f.accept(rt.command());
            d.update(b.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d.digest(), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

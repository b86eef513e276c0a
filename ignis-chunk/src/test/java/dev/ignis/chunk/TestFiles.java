package dev.ignis.chunk;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/** Test inputs: random files and deterministic tars made with GNU tar. */
final class TestFiles {
    private TestFiles() {
    }

    static Path random(Path dir, String name, int size, long seed) throws IOException {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return Files.write(dir.resolve(name), b);
    }

    /** A deterministic tar (sorted names, mtime 0, uid/gid 0) of {@code paths} relative to {@code base}. */
    static Path deterministicTar(Path out, Path base, List<String> paths) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("tar", "--sort=name", "--mtime=@0", "--owner=0", "--group=0",
                "--numeric-owner", "--format=gnu", "-cf", out.toString(), "-C", base.toString()));
        cmd.addAll(paths);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("tar timed out");
        }
        if (p.exitValue() != 0) {
            throw new IOException("tar failed with " + p.exitValue() + " for " + paths);
        }
        return out;
    }

    static byte[] readAll(ChunkedObjectReader r) {
        byte[] all = new byte[(int) r.size()];
        int pos = 0;
        while (pos < all.length) {
            int n = r.read(pos, all, pos, Math.min(200_000, all.length - pos));
            pos += n;
        }
        return all;
    }
}

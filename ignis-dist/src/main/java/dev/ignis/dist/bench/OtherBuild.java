package dev.ignis.dist.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Another revision of Ignis, built for an A/B run: {@code git archive} of the revision unpacked
 * into a directory of its own (no worktree is registered), then {@code ./mvnw package} there —
 * never {@code install}, so the shared local Maven repository is not touched. A build is kept
 * per commit and reused.
 */
final class OtherBuild {
    private OtherBuild() {}

    /**
     * Another build: its classpath, and its own runtime home — the runtime clients and bootstraps are
     * resources of the build, and a shared runtime home would serve both builds the last one installed.
     */
    record Build(String classpath, Path runtimeHome) {}

    /** The revision's {@code ignis} command (built on first use). */
    static Build of(Path repo, String revision) throws Exception {
        String sha = run(repo, List.of("git", "rev-parse", "--verify", revision + "^{commit}")).trim();
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "ignis-ab", sha);
        Path dist = dir.resolve("ignis-dist/target");
        if (!Files.exists(dir.resolve(".built"))) {
            System.out.println("building " + revision + " (" + sha.substring(0, 10) + ") in " + dir + " ...");
            Files.createDirectories(dir);
            run(repo, List.of("sh", "-c", "git archive " + sha + " | tar -x -C '" + dir + "'"));
            run(dir, List.of("./mvnw", "-q", "-B", "-DskipTests", "package"));
            Files.createFile(dir.resolve(".built"));
        }
        return new Build(dist.resolve("lib") + "/*:" + dist.resolve("classes"), dir.resolve(".ignis-data"));
    }

    private static String run(Path dir, List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed in " + dir + ":\n" + out);
        }
        return out;
    }
}

package dev.ignis.worker.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Whether sandboxes can reach a host directory at all. bwrap binds what a sandbox reads (its code,
 * its runtime, a ready shell's waiting program) with the sandbox's own unprivileged uid, which owns
 * nothing on the host and is in no group: it passes through a directory only if "others" may
 * ({@code o+x}). A data directory under a 0700 directory (what {@code mktemp -d} makes) therefore
 * starts fine and fails every invoke; {@link #requireTraversable} lets a server refuse to start instead,
 * with the directory to change and how.
 */
public final class SandboxReach {
    private SandboxReach() {}

    /**
     * Throws IllegalStateException naming the first directory on the way to {@code dir} (symbolic links
     * resolved; {@code dir} included) that sandboxes cannot pass through, and the command that fixes it.
     *
     * @param what what {@code dir} is, for the message (e.g. "the data directory")
     */
    public static void requireTraversable(Path dir, String what) {
        Path real;
        try {
            real = dir.toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot resolve " + what + " " + dir, e);
        }
        Path closed = firstClosed(real);
        if (closed != null) {
            Set<PosixFilePermission> perms = permissions(closed);
            throw new IllegalStateException(what + " " + dir + " cannot be reached by the sandboxes, which run as"
                    + " unprivileged uids: " + closed + " is " + PosixFilePermissions.toString(perms) + " (others may not pass"
                    + " through it). Allow it with `chmod o+x " + closed + "` (others may then reach, not list, what is below it),"
                    + " or choose a directory outside " + closed + ".");
        }
    }

    /** The first directory from the root down to {@code dir} (included) that "others" may not pass through, or null. */
    static Path firstClosed(Path dir) {
        List<Path> chain = new ArrayList<>();
        for (Path p = dir; p != null; p = p.getParent()) {
            chain.addFirst(p);
        }
        for (Path p : chain) {
            if (!permissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                return p;
            }
        }
        return null;
    }

    private static Set<PosixFilePermission> permissions(Path p) {
        try {
            return Files.getPosixFilePermissions(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

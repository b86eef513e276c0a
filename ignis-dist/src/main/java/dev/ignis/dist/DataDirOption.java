package dev.ignis.dist;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The --data-dir option shared by every command (env IGNIS_DATA_DIR; default ./.ignis-data). */
final class DataDirOption {
    @Option(names = "--data-dir", description = "State directory (env IGNIS_DATA_DIR; default ./.ignis-data)")
    Path dataDir;

    Path get() {
        if (dataDir != null) {
            return dataDir.toAbsolutePath();
        }
        String env = System.getenv("IGNIS_DATA_DIR");
        return Path.of(env != null && !env.isBlank() ? env : ".ignis-data").toAbsolutePath();
    }
}

package dev.ignis.testfunctions;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Fixture deployment packages for integration tests: real Lambda zips, built by this module's build
 * (see {@code src/fixtures}), shipped as classpath resources under {@code /functions/}.
 *
 * <p>Handlers per zip (the {@code Handler} value to deploy with):
 * <ul>
 *   <li>{@code java-handlers} (classes at the zip root) and {@code java-handlers-lib} (lib/handlers.jar):
 *       {@code fixtures.EchoHandler::handleRequest}, {@code fixtures.StreamEchoHandler},
 *       {@code fixtures.ThrowingHandler}, {@code fixtures.SleepHandler} ({"ms":N}),
 *       {@code fixtures.MemoryHandler} ({"mb":N}), {@code fixtures.LoggingHandler}; class files are Java 21.</li>
 *   <li>{@code java17-handlers}: the same handlers as Java 17 class files (classes at the root).</li>
 *   <li>{@code python-handlers}: {@code echo.handler}, {@code echo.none_handler}, {@code errors.handler},
 *       {@code sleep.handler}, {@code memory.handler}, {@code logs.handler}, {@code probes.handler},
 *       {@code pkg.sub.mod.handler}, {@code broken_import.handler}, {@code syntax_error.handler}.</li>
 *   <li>{@code node-cjs}: {@code index.noop} (returns null), {@code index.echo}, {@code index.callbackEcho}, {@code index.callbackError},
 *       {@code index.fail}, {@code index.sleep}, {@code index.logs}, {@code broken.handler}.</li>
 *   <li>{@code node-esm}: {@code index.handler} (.mjs) and {@code app.handler} (.js with "type":"module").</li>
 *   <li>{@code provided-bash}: an executable bash + curl {@code bootstrap} that echoes the event.</li>
 * </ul>
 */
public final class TestFunctions {
    /** Every fixture zip this module builds. */
    public static final List<String> NAMES = List.of(
            "java-handlers", "java-handlers-lib", "java17-handlers", "python-handlers", "node-cjs", "node-esm", "provided-bash");

    private TestFunctions() {
    }

    /** The bytes of fixture zip {@code name} (one of {@link #NAMES}), ready for CreateFunction's Code.ZipFile. */
    public static byte[] zip(String name) {
        if (!NAMES.contains(name)) {
            throw new IllegalArgumentException("unknown test function '" + name + "'; known: " + NAMES);
        }
        try (InputStream in = TestFunctions.class.getResourceAsStream("/functions/" + name + ".zip")) {
            if (in == null) {
                throw new IllegalStateException("fixture " + name + ".zip missing from the classpath; build ignis-testfunctions");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Unpacks fixture {@code name} into {@code dir} (created if needed), keeping the executable bit
     * of entries such as {@code bootstrap}. Returns {@code dir}, usable as a task root.
     */
    public static Path unpack(String name, Path dir) {
        try {
            Files.createDirectories(dir);
            try (ZipInputStream zin = new ZipInputStream(new java.io.ByteArrayInputStream(zip(name)))) {
                for (ZipEntry e; (e = zin.getNextEntry()) != null; ) {
                    Path target = dir.resolve(e.getName()).normalize();
                    if (!target.startsWith(dir)) {
                        throw new IOException("zip entry escapes the target directory: " + e.getName());
                    }
                    if (e.isDirectory()) {
                        Files.createDirectories(target);
                        continue;
                    }
                    Files.createDirectories(target.getParent());
                    Files.copy(zin, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    // ZipInputStream does not expose unix modes; the only executable fixture entry is a bootstrap.
                    if (target.getFileName().toString().equals("bootstrap")) {
                        target.toFile().setExecutable(true, false);
                    }
                }
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

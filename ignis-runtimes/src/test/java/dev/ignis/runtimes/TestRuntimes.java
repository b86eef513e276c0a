package dev.ignis.runtimes;

import dev.ignis.testfunctions.TestFunctions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;

/** One catalog install per test JVM (under target/, so class-sharing training is paid once per checkout). */
final class TestRuntimes {
    static final Path DATA_DIR = Path.of("target", "runtime-test-data").toAbsolutePath();
    private static volatile RuntimeCatalog catalog;
    private static final ConcurrentHashMap<String, Path> TASKS = new ConcurrentHashMap<>();

    private TestRuntimes() {
    }

    static synchronized RuntimeCatalog catalog() {
        if (catalog == null) {
            catalog = RuntimeCatalog.install(DATA_DIR);
        }
        return catalog;
    }

    static RuntimeDefinition runtime(String id) {
        return catalog().find(id).orElseThrow(() -> new AssertionError(id + " is not installed on this host"));
    }

    /** The fixture zip unpacked once into a task root. */
    static Path task(String fixture) {
        return TASKS.computeIfAbsent(fixture, f -> {
            try {
                Path dir = DATA_DIR.resolve("tasks").resolve(f);
                RuntimeResources.deleteTree(dir);
                return TestFunctions.unpack(f, dir);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    static boolean exists(Path p) {
        return Files.exists(p);
    }
}

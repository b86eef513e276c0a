package dev.ignis.worker;

import dev.ignis.worker.gvisor.GvisorDriver;
import java.util.List;

/** The sandbox drivers a worker can run, by the name an operator gives ({@code ignis serve --sandbox NAME}). */
public final class SandboxDrivers {
    private SandboxDrivers() {}

    /** Every name, the default first. */
    public static final List<String> NAMES = List.of("process", "gvisor");

    /**
     * The driver called {@code name}, started for {@code config}.
     *
     * @throws IllegalArgumentException for an unknown name, listing the known ones
     * @throws IllegalStateException    when the driver cannot run on this host (e.g. runsc missing), saying why
     */
    public static SandboxDriver create(String name, WorkerConfig config) {
        return switch (name) {
            case "process" -> new BubblewrapDriver(config);
            case "gvisor" -> new GvisorDriver(config);
            default -> throw new IllegalArgumentException("unknown sandbox driver '" + name + "': choose one of " + String.join(", ", NAMES));
        };
    }
}

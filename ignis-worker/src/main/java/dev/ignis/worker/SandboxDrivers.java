package dev.ignis.worker;

import dev.ignis.worker.gvisor.GvisorDriver;
import dev.ignis.worker.microvm.MicroVmDriver;
import java.util.List;

/** The sandbox drivers a worker can run, by the name an operator gives ({@code ignis serve --sandbox NAME}). */
public final class SandboxDrivers {
    private SandboxDrivers() {}

    /** Every name, the default first. */
    public static final List<String> NAMES = List.of("process", "gvisor", "microvm");

    /**
     * The worker configuration a driver needs: a microVM's guest boots inside its init, so its init bound is raised
     * ({@link MicroVmDriver#withBootTime}); the others take {@code config} as it is.
     */
    public static WorkerConfig configFor(String name, WorkerConfig config) {
        return "microvm".equals(name) ? MicroVmDriver.withBootTime(config) : config;
    }

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
            case "microvm" -> new MicroVmDriver(config);
            default -> throw new IllegalArgumentException("unknown sandbox driver '" + name + "': choose one of " + String.join(", ", NAMES));
        };
    }
}

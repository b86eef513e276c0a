package dev.ignis.dist;

import dev.ignis.worker.SandboxWorker;
import dev.ignis.worker.WorkerConfig;
import dev.ignis.worker.microvm.MicroVmDriver;
import java.util.List;

/** The sandbox drivers a worker can be started with ({@code ignis serve --sandbox NAME}). */
final class SandboxDrivers {
    static final List<String> NAMES = List.of("process", "microvm");

    private SandboxDrivers() {}

    static SandboxWorker worker(String driver, WorkerConfig config) {
        return switch (driver) {
            case "process" -> SandboxWorker.process(config);
            case "microvm" -> {
                WorkerConfig c = MicroVmDriver.withBootTime(config); // the guest's boot counts in init
                yield new SandboxWorker(c, new MicroVmDriver(c));
            }
            default -> throw new IllegalArgumentException("unknown sandbox driver " + driver + ": use one of " + NAMES);
        };
    }
}

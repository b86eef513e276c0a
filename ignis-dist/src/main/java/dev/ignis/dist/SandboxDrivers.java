package dev.ignis.dist;

import dev.ignis.worker.SandboxWorker;
import dev.ignis.worker.WorkerConfig;
import dev.ignis.worker.microvm.MicroVmDriver;
import java.time.Duration;
import java.util.List;

/** The sandbox drivers a worker can be started with ({@code ignis serve --sandbox NAME}). */
final class SandboxDrivers {
    static final List<String> NAMES = List.of("process", "microvm");
    /**
     * Init bound of microVM sandboxes: Lambda's 10 s holds the guest kernel's boot too here, which takes seconds under
     * TCG (software emulation); raised to 120 s for this driver (docs/sandbox-microvm.md).
     */
    static final Duration MICROVM_INIT_TIMEOUT = Duration.ofSeconds(120);

    private SandboxDrivers() {}

    static SandboxWorker worker(String driver, WorkerConfig config) {
        return switch (driver) {
            case "process" -> SandboxWorker.process(config);
            case "microvm" -> {
                WorkerConfig c = new WorkerConfig(config.workerId(), config.dataDir(), config.runtimes(), config.clock(),
                        config.uidBase(), config.uidCount(), config.pidsMax(),
                        config.initTimeout().compareTo(MICROVM_INIT_TIMEOUT) < 0 ? MICROVM_INIT_TIMEOUT : config.initTimeout(),
                        config.logFileMaxBytes(), config.logFilesKept(), config.warmNetns(), config.runtimeApi(), config.capacity());
                yield new SandboxWorker(c, new MicroVmDriver(c));
            }
            default -> throw new IllegalArgumentException("unknown sandbox driver " + driver + ": use one of " + NAMES);
        };
    }
}

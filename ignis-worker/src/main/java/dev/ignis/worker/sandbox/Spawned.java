package dev.ignis.worker.sandbox;

import java.io.IOException;

/**
 * A sandbox's first process and the pipe its output goes to ({@link OutputPipe}). Until a sandbox
 * takes it over (its log then owns the pipe), whoever holds it discards it with {@link #discard}.
 */
public record Spawned(Process process, OutputPipe output) {
    /** Starts {@code pb} with its stdout and stderr both going into a new {@link OutputPipe}. */
    public static Spawned start(ProcessBuilder pb) throws IOException {
        OutputPipe pipe = OutputPipe.open();
        try {
            Process p = pb.redirectErrorStream(true).redirectOutput(pipe.childEnd()).start();
            return new Spawned(p, pipe);
        } catch (IOException | RuntimeException e) {
            pipe.close();
            throw e;
        } finally {
            pipe.started();
        }
    }

    /** Kills the process (not waiting for it) and closes the pipe. */
    public void discard() {
        process.destroyForcibly();
        output.close();
    }
}

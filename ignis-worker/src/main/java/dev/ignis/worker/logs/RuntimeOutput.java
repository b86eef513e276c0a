package dev.ignis.worker.logs;

import java.io.IOException;

/** Where a sandbox's runtime output is read from, without ever blocking: what is there now, or nothing. */
public interface RuntimeOutput extends AutoCloseable {
    /** Reads what is there now: a count above 0, 0 when nothing is (yet), -1 when the output has ended. */
    int read(byte[] into, int offset, int length) throws IOException;

    /** Idempotent; a read after it returns -1. */
    @Override
    void close();
}

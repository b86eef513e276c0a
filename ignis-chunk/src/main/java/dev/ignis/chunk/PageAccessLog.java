package dev.ignis.chunk;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The order in which a consumer first touched an object's chunks (REAP's working-set record).
 * Stored beside the manifest as {@code manifests/<id>.pal}, MAC'd with the deployment key so a
 * writer to the origin cannot steer prefetching; a later consumer prefetches exactly these chunks
 * in this order.
 */
public record PageAccessLog(List<Integer> chunkOrder) {
    public PageAccessLog {
        chunkOrder = List.copyOf(chunkOrder);
    }

    byte[] encode() {
        try {
            ByteArrayOutputStream b = new ByteArrayOutputStream(8 + chunkOrder.size() * 4);
            DataOutputStream out = new DataOutputStream(b);
            out.writeInt(chunkOrder.size());
            for (int i : chunkOrder) {
                out.writeInt(i);
            }
            return b.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static PageAccessLog decode(byte[] body, int chunkCount) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(body))) {
            int n = in.readInt();
            if (n < 0 || n > chunkCount) {
                throw new ChunkIntegrityException("page access log lists " + n + " chunks for a " + chunkCount + "-chunk object");
            }
            List<Integer> order = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int idx = in.readInt();
                if (idx < 0 || idx >= chunkCount) {
                    throw new ChunkIntegrityException("page access log names chunk " + idx + " outside the object");
                }
                order.add(idx);
            }
            return new PageAccessLog(order);
        } catch (IOException e) {
            throw new ChunkIntegrityException("page access log is malformed", e);
        }
    }
}

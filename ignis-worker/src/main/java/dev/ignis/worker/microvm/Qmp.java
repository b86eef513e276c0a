package dev.ignis.worker.microvm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ignis.common.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * A small client of one QEMU's QMP socket (JSON lines): the capabilities handshake, then one command at a time
 * ({@code stop}, {@code cont}, {@code migrate}, {@code query-migrate}, ...). Asynchronous events QEMU interleaves are
 * skipped. QEMU is as hostile as its guest (a guest that escaped into QEMU speaks here): a reply line is bounded, an
 * error reply becomes an {@link IOException} with QEMU's description, and nothing QEMU says is executed.
 */
final class Qmp implements AutoCloseable {
    private static final int MAX_LINE = 1 << 20;
    private final SocketChannel ch;
    private final BufferedReader in;

    private Qmp(SocketChannel ch) {
        this.ch = ch;
        this.in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
    }

    /** Connects to {@code socket} and negotiates capabilities. */
    static Qmp connect(Path socket) throws IOException {
        SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        Qmp q = new Qmp(ch);
        try {
            JsonNode greeting = q.readLine();
            if (!greeting.has("QMP")) {
                throw new IOException("not a QMP greeting: " + greeting);
            }
            q.execute("qmp_capabilities", Map.of());
            return q;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** Runs {@code command} with {@code arguments}; returns its {@code return} value, or throws QEMU's error. */
    synchronized JsonNode execute(String command, Map<String, ?> arguments) throws IOException {
        ObjectNode req = Json.mapper().createObjectNode();
        req.put("execute", command);
        if (!arguments.isEmpty()) {
            req.set("arguments", Json.mapper().valueToTree(arguments));
        }
        byte[] line = (Json.mapper().writeValueAsString(req) + "\n").getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.wrap(line);
        while (b.hasRemaining()) {
            ch.write(b);
        }
        while (true) {
            JsonNode r = readLine();
            if (r.has("return")) {
                return r.get("return");
            }
            if (r.has("error")) {
                throw new IOException("QMP " + command + ": " + r.get("error").path("desc").asText(r.get("error").toString()));
            }
            // an event ({"event": ...}): not the reply
        }
    }

    JsonNode execute(String command) throws IOException {
        return execute(command, Map.of());
    }

    private JsonNode readLine() throws IOException {
        StringBuilder s = new StringBuilder();
        int c;
        while ((c = in.read()) != '\n') {
            if (c < 0) {
                throw new IOException("QEMU closed its QMP socket");
            }
            if (s.length() >= MAX_LINE) {
                throw new IOException("a QMP line over " + MAX_LINE + " characters");
            }
            s.append((char) c);
        }
        return Json.mapper().readTree(s.toString());
    }

    @Override
    public void close() {
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}

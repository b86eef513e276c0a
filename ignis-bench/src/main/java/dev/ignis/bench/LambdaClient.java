package dev.ignis.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ignis.common.Json;
import java.io.IOException;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * The few control-plane calls a benchmark needs, signed and sent over one keep-alive connection
 * (works against any Ignis, in-process or remote). Not timed.
 */
public final class LambdaClient implements AutoCloseable {
    private final String host;
    private final int port;
    private final Signer signer;
    private HttpConnection conn;

    public LambdaClient(String host, int port, Signer signer) {
        this.host = host;
        this.port = port;
        this.signer = signer;
    }

    /** Creates a zip function; an existing one of that name is kept (HTTP 409). */
    public synchronized void createFunction(String name, String runtime, String handler, int memoryMb, byte[] zip) throws IOException {
        ObjectNode n = Json.mapper().createObjectNode();
        n.put("FunctionName", name).put("Runtime", runtime).put("Role", "arn:aws:iam::123456789012:role/bench").put("Handler", handler)
                .put("MemorySize", memoryMb).put("Timeout", 60);
        n.putObject("Code").put("ZipFile", Base64.getEncoder().encodeToString(zip));
        var r = call("POST", "/2015-03-31/functions", Json.mapper().writeValueAsBytes(n));
        if (r.status() != 201 && r.status() != 409) {
            throw new IOException("CreateFunction " + name + ": HTTP " + r.status());
        }
    }

    /** Changes the description: a new revision, so the next invoke of the function is a cold start. */
    public synchronized void touch(String name, String description) throws IOException {
        var r = call("PUT", "/2015-03-31/functions/" + name + "/configuration",
                Json.mapper().writeValueAsBytes(Map.of("Description", description)));
        if (r.status() != 200) {
            throw new IOException("UpdateFunctionConfiguration " + name + ": HTTP " + r.status());
        }
    }

    public synchronized void deleteFunction(String name) throws IOException {
        call("DELETE", "/2015-03-31/functions/" + name, new byte[0]);
    }

    private HttpConnection.Response call(String method, String path, byte[] body) throws IOException {
        List<String> headers = signer.sign(method, host, port, path, Map.of("Content-Type", "application/json"), body);
        for (int attempt = 0; ; attempt++) {
            try {
                if (conn == null || !conn.isOpen()) {
                    conn = new HttpConnection(host, port);
                }
                return conn.send(method, path, headers, body);
            } catch (IOException e) {
                conn.close();
                conn = null;
                if (attempt == 1) {
                    throw e;
                }
            }
        }
    }

    @Override
    public synchronized void close() {
        if (conn != null) {
            conn.close();
        }
    }
}

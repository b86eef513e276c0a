package dev.ignis.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * One keep-alive HTTP/1.1 client connection, as small as a load generator's (wrk's) so that the
 * client spends as little of the shared CPU as possible: a blocking socket, the request written in
 * one buffered flush, the response head parsed by hand, the body read into a reused buffer.
 */
final class HttpConnection implements AutoCloseable {
    /** What the load generator needs from a response. */
    record Response(int status, int bodyLength, String functionError, String initDuration) {}

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final String host;
    private byte[] body = new byte[64 * 1024];
    private final byte[] line = new byte[16 * 1024];

    HttpConnection(String host, int port) throws IOException {
        socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress(host, port), 5000);
        in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
        out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
        this.host = host + ":" + port;
    }

    /** Sends one request ({@code headers} alternate name, value; Host and Content-Length are added) and reads the whole response. */
    Response send(String method, String path, List<String> headers, byte[] payload) throws IOException {
        StringBuilder head = new StringBuilder(512).append(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: ").append(host).append("\r\n");
        for (int i = 0; i + 1 < headers.size(); i += 2) {
            head.append(headers.get(i)).append(": ").append(headers.get(i + 1)).append("\r\n");
        }
        head.append("Content-Length: ").append(payload.length).append("\r\n\r\n");
        out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.write(payload);
        out.flush();
        return read();
    }

    private Response read() throws IOException {
        String status = readLine();
        if (status.length() < 12 || !status.startsWith("HTTP/1.")) {
            throw new IOException("bad status line: " + status);
        }
        int code = Integer.parseInt(status.substring(9, 12));
        long length = -1;
        boolean chunked = false;
        boolean close = false;
        String functionError = null;
        String init = null;
        for (String h = readLine(); !h.isEmpty(); h = readLine()) {
            int colon = h.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = h.substring(colon + 1).trim();
            switch (name) {
                case "content-length" -> length = Long.parseLong(value);
                case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                case "connection" -> close = value.equalsIgnoreCase("close");
                case "x-amz-function-error" -> functionError = value;
                case "x-ignis-init-duration" -> init = value;
                default -> { }
            }
        }
        int n;
        if (chunked) {
            n = 0;
            for (long size = Long.parseLong(readLine().split(";")[0].trim(), 16); size > 0; size = Long.parseLong(readLine().split(";")[0].trim(), 16)) {
                readBody((int) size);
                n += (int) size;
                readLine();
            }
            while (!readLine().isEmpty()) {
                // trailers
            }
        } else {
            n = (int) Math.max(0, length);
            readBody(n);
        }
        if (close) {
            socket.close();
        }
        return new Response(code, n, functionError, init);
    }

    boolean isOpen() {
        return !socket.isClosed();
    }

    private void readBody(int n) throws IOException {
        if (body.length < n) {
            body = new byte[n];
        }
        if (in.readNBytes(body, 0, n) != n) {
            throw new EOFException("response body ended early");
        }
    }

    private String readLine() throws IOException {
        int n = 0;
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("connection closed");
            }
            if (b == '\n') {
                return new String(line, 0, n > 0 && line[n - 1] == '\r' ? n - 1 : n, StandardCharsets.ISO_8859_1);
            }
            if (n < line.length) {
                line[n++] = (byte) b;
            }
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}

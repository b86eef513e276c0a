package dev.ignis.worker.runtimeapi;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A deliberately small, strict HTTP/1.1 server-side connection: request line, headers, and a
 * Content-Length or chunked body, with keep-alive and {@code Expect: 100-continue}.
 *
 * <p>Design note: the Runtime API listener is created inside the sandbox's network namespace, so it
 * cannot be handed to Helidon's WebServer (which creates and binds its own sockets). The protocol
 * surface the runtimes use is tiny (three GETs and a few POSTs, no TLS, no pipelining needs), so
 * a purpose-built parser with hard bounds is smaller to audit than an adapter. It is hostile-input
 * code: the sandbox is the client. Every read is bounded: the request head by
 * {@link #MAX_HEAD_BYTES} and {@link #MAX_HEADERS}, the body by the caller's limit; oversize bodies
 * are drained (up to {@link #MAX_DRAIN_BYTES}) without being stored, then the connection is closed.
 *
 * <p>Nothing is allocated for what a request declares: a body's array starts at
 * {@link #INITIAL_BODY_BYTES} (or its declared length, if smaller) once its first byte is here, and
 * doubles as its bytes arrive, up to the declared length; each growth is reserved in the worker's
 * {@link BodyBudget}, and a body the budget refuses is dropped (the request comes back as too large,
 * the connection not to be reused). A request that has started (a byte of it is here) and is not
 * here whole {@code readTimeout} after a read first found it incomplete fails with
 * SocketTimeoutException: the bound is on the rest of the request, so a client that drips a byte now
 * and then does not keep it open (the socket's SO_TIMEOUT is set to what is left, only while a request
 * is in progress: waiting for the next request never times out). A small
 * request that arrives in one piece costs what it did before: one array of its exact size, one
 * compare-and-set on the budget, no extra system call.
 *
 * <p>Over 400 lines on purpose: it is the whole parser of a hostile client, and each bound (head, headers, body,
 * budget, drain, read timeout) is audited best next to the read it bounds.
 */
final class HttpConnection {
    static final int MAX_HEAD_BYTES = 64 * 1024; // AWS's Java client sends an X-Ray header of several KB
    /** Header lines per request: runtimes send about ten; each costs a map entry, ~100 bytes for 4 sent. */
    static final int MAX_HEADERS = 128;
    static final long MAX_DRAIN_BYTES = 64L * 1024 * 1024;
    /** A body's first array, when it declares more. */
    static final int INITIAL_BODY_BYTES = 64 * 1024;
    private static final byte[] CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] EMPTY = new byte[0];
    private static final BodyBudget UNBOUNDED = new BodyBudget(Long.MAX_VALUE);

    private final Input in;
    private final OutputStream out;
    private final BodyBudget budget;
    private byte[] line = new byte[1024]; // a line split across reads; grows up to MAX_HEAD_BYTES
    private int headBudget;
    /** Bytes of the body being read that {@link #budget} holds (handed to the request once it is read). */
    private long held;

    HttpConnection(InputStream in, OutputStream out) {
        this(new Input(in, 16 * 1024), out);
    }

    HttpConnection(Input in, OutputStream out) {
        this(in, out, UNBOUNDED);
    }

    HttpConnection(Input in, OutputStream out, BodyBudget budget) {
        this.in = in;
        this.out = out;
        this.budget = budget;
    }

    /**
     * The connection's read buffer. One thread reads a connection at a time, so unlike
     * BufferedInputStream (a lock per byte read) it takes no lock; it can also tell whether the
     * client's next request is already here, without a system call.
     */
    static final class Input {
        private final InputStream src;
        private final byte[] buf;
        private int pos;
        private int count;
        /** While set, needing more than the buffer holds throws {@link WouldBlock} instead of reading the socket. */
        private boolean bufferOnly;
        /** While set (a streamed body), reads wait as long as it takes: the invoke's deadline bounds the stream instead. */
        private boolean untimed;
        /** The socket whose SO_TIMEOUT bounds a read in the middle of a request (null: none, e.g. a test's stream). */
        private final Socket socket;
        private final int readTimeoutMs;
        /** The socket's SO_TIMEOUT now: 0 between requests, what is left of the request's time within one. */
        private int soTimeout;
        /**
         * When the request in progress must be here whole ({@link System#nanoTime}), set by the first
         * read that found it incomplete; 0: not set (a request read in one piece never sets it).
         */
        private long requestDeadline;

        Input(InputStream src, int size) {
            this(src, size, null, 0);
        }

        /**
         * Reads {@code socket}'s input stream; a request that is still incomplete {@code readTimeoutMs} after
         * a read first found it so fails with SocketTimeoutException.
         */
        Input(Socket socket, int size, int readTimeoutMs) throws IOException {
            this(socket.getInputStream(), size, socket, readTimeoutMs);
        }

        private Input(InputStream src, int size, Socket socket, int readTimeoutMs) {
            this.src = src;
            this.buf = new byte[size];
            this.socket = socket;
            this.readTimeoutMs = readTimeoutMs;
        }

        /** Bytes read from the socket and not consumed yet. */
        int buffered() {
            return count - pos;
        }

        /**
         * Refills the empty buffer; false at end of stream. {@code inRequest}: part of a request has
         * arrived, so the read is bounded by the read timeout; else it waits for the next request
         * for as long as that takes.
         */
        private boolean fill(boolean inRequest) throws IOException {
            if (bufferOnly) {
                throw WouldBlock.INSTANCE;
            }
            pos = 0;
            count = 0;
            int n = readSocket(buf, 0, buf.length, inRequest);
            if (n <= 0) {
                return false;
            }
            count = n;
            return true;
        }

        private int readSocket(byte[] b, int off, int len, boolean inRequest) throws IOException {
            if (socket != null) {
                int timeout = 0;
                if (inRequest && !untimed) { // the whole rest of the request, not each read: a byte now and then does not keep it open
                    long now = System.nanoTime();
                    if (requestDeadline == 0) {
                        requestDeadline = now + readTimeoutMs * 1_000_000L;
                    }
                    long left = (requestDeadline - now) / 1_000_000L;
                    if (left <= 0) {
                        throw new SocketTimeoutException("the request did not arrive in " + readTimeoutMs + " ms");
                    }
                    timeout = (int) left;
                }
                if (timeout != soTimeout) {
                    socket.setSoTimeout(timeout); // a field of the socket's, no system call
                    soTimeout = timeout;
                }
            }
            return src.read(b, off, len);
        }

        /** A new request begins: it gets the whole read timeout once it needs more than one read. */
        void requestStarts() {
            requestDeadline = 0;
        }

        /**
         * Reads at least one and at most {@code len} bytes of a request in progress: what is buffered,
         * else one read of the socket (straight into {@code b} when it wants at least a buffer's
         * worth); -1 at end of stream.
         */
        int read(byte[] b, int off, int len) throws IOException {
            if (pos == count) {
                if (bufferOnly) {
                    throw WouldBlock.INSTANCE;
                }
                if (len >= buf.length) {
                    return readSocket(b, off, len, true);
                }
                if (!fill(true)) {
                    return -1;
                }
            }
            int n = Math.min(len, count - pos);
            System.arraycopy(buf, pos, b, off, n);
            pos += n;
            return n;
        }

        /** Skips up to {@code n} bytes; returns how many were skipped (fewer only at end of stream). */
        long skip(long n) throws IOException {
            long left = n;
            while (left > 0) {
                if (pos == count && !fill(true)) {
                    break;
                }
                int k = (int) Math.min(left, count - pos);
                pos += k;
                left -= k;
            }
            return n - left;
        }
    }

    /** The request is not all in the buffer yet ({@link #readBuffered}). */
    private static final class WouldBlock extends IOException {
        static final WouldBlock INSTANCE = new WouldBlock();

        private WouldBlock() {
            super("the rest of the request has not arrived");
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this; // a signal between two methods of this class, thrown often: no stack trace
        }
    }

    /**
     * The next request if it is entirely in the read buffer already, else null with nothing
     * consumed: never waits for the socket. (An invoking thread that drove the connection uses it
     * once its invoke is answered: whatever the runtime sends after that must not hold it up.)
     */
    HttpRequest readBuffered(int maxBody) throws IOException {
        if (in.buffered() == 0) {
            return null;
        }
        int mark = in.pos;
        in.bufferOnly = true;
        try {
            return read(maxBody);
        } catch (WouldBlock e) {
            in.pos = mark; // the buffer was not refilled, so the request's bytes are all still there
            return null;
        } finally {
            in.bufferOnly = false;
        }
    }

    /** Thrown for a request that violates the protocol; the caller answers 400 and closes. */
    static final class BadRequest extends IOException {
        BadRequest(String message) {
            super(message);
        }
    }

    /**
     * Decides from a request's head whether its body is streamed into a {@link ResponseStream} instead of read into an
     * array: a {@code POST /response} in {@code streaming} mode for the invocation in flight.
     */
    interface BodyRoute {
        BodyRoute NONE = (method, path, headers) -> null;

        /** Where the body goes, or null: read it whole as usual. */
        Streamed route(String method, String path, Map<String, String> headers);
    }

    /** A body passed on as it arrives, at most {@code limit} bytes of it; more cuts the request (too large). */
    record Streamed(ResponseStream stream, long limit) {}

    HttpRequest read(int maxBody) throws IOException {
        return read(maxBody, BodyRoute.NONE);
    }

    /**
     * Reads the next request, or returns null when the client closed the connection between requests.
     * A request with a body holds its length in the body budget until {@link #done} is called; a body that
     * {@code route} streams holds nothing of it (the request comes back with an empty body, its trailers among
     * its headers).
     */
    HttpRequest read(int maxBody, BodyRoute route) throws IOException {
        try {
            return parse(maxBody, route);
        } finally {
            if (held != 0) { // the request failed or was refused: what its body held is free again
                budget.release(held);
                held = 0;
            }
        }
    }

    /** The caller has handled {@code req}: its body's bytes go back to the budget (the array may live on). */
    void done(HttpRequest req) {
        budget.release(req.body().length);
    }

    private HttpRequest parse(int maxBody, BodyRoute route) throws IOException {
        headBudget = MAX_HEAD_BYTES;
        in.requestStarts();
        String requestLine = readLine(true);
        if (requestLine == null) {
            return null;
        }
        String[] parts = requestLine.split(" ");
        if (parts.length != 3 || !parts[2].startsWith("HTTP/1.")) {
            throw new BadRequest("malformed request line");
        }
        boolean http10 = parts[2].equals("HTTP/1.0");
        Map<String, String> headers = new HashMap<>();
        int lines = 0;
        for (String h = readLine(false); !h.isEmpty(); h = readLine(false)) {
            if (++lines > MAX_HEADERS) {
                throw new BadRequest("too many header lines");
            }
            int colon = h.indexOf(':');
            if (colon <= 0) {
                throw new BadRequest("malformed header line");
            }
            headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
        }
        String connection = headers.getOrDefault("connection", "").toLowerCase(Locale.ROOT);
        boolean keepAlive = http10 ? connection.equals("keep-alive") : !connection.equals("close");

        String te = headers.get("transfer-encoding");
        String cl = headers.get("content-length");
        boolean chunked = te != null && te.toLowerCase(Locale.ROOT).contains("chunked");
        if (te != null && !chunked) {
            throw new BadRequest("unsupported transfer-encoding");
        }
        if (chunked && cl != null) {
            throw new BadRequest("both content-length and chunked");
        }
        long length = 0;
        if (cl != null) {
            try {
                length = Long.parseLong(cl);
            } catch (NumberFormatException e) {
                throw new BadRequest("bad content-length");
            }
            if (length < 0) {
                throw new BadRequest("bad content-length");
            }
        }
        boolean expectContinue = "100-continue".equalsIgnoreCase(headers.get("expect"));
        Streamed streamed = in.bufferOnly ? null : route.route(parts[0], parts[1], headers);
        if (streamed != null) {
            if (expectContinue) {
                out.write(CONTINUE);
                out.flush();
            }
            return readStreamed(parts[0], parts[1], headers, streamed, chunked ? -1 : length, keepAlive);
        }
        if (!chunked && length > maxBody && expectContinue) {
            // refuse before the client sends anything; the connection cannot be reused
            return new HttpRequest(parts[0], parts[1], headers, EMPTY, maxBody, false);
        }
        if (expectContinue && (chunked || length > 0)) {
            if (in.bufferOnly) {
                throw WouldBlock.INSTANCE; // answered when the request is read for real, not twice
            }
            out.write(CONTINUE);
            out.flush();
        }
        if (chunked) {
            return readChunked(parts[0], parts[1], headers, maxBody, keepAlive);
        }
        if (length > maxBody) {
            boolean drained = length <= MAX_DRAIN_BYTES && skip(length);
            return new HttpRequest(parts[0], parts[1], headers, EMPTY, maxBody, keepAlive && drained);
        }
        byte[] body = readBody((int) length);
        if (body == null) {
            return refused(parts[0], parts[1], headers);
        }
        held = 0; // the request's now, until done()
        return new HttpRequest(parts[0], parts[1], headers, body, HttpRequest.WHOLE, keepAlive);
    }

    /** A body the budget could not hold: dropped, and the connection not to be reused (the rest of it is unread). */
    private HttpRequest refused(String method, String path, Map<String, String> headers) {
        return new HttpRequest(method, path, headers, EMPTY, held, false);
    }

    /**
     * A Content-Length body, in an array that starts at its first byte and doubles as bytes arrive
     * (a small body that is here already: one array of its exact size); null when the budget refused
     * to let it grow (what it held is released by {@link #read}).
     */
    private byte[] readBody(int length) throws IOException {
        if (length == 0) {
            return EMPTY;
        }
        if (in.buffered() == 0 && !in.fill(true)) {
            throw new EOFException("body ended early"); // nothing allocated for a body that never comes
        }
        byte[] body = grow(EMPTY, Math.min(length, INITIAL_BODY_BYTES));
        int n = 0;
        while (body != null && n < length) {
            int k = in.read(body, n, body.length - n);
            if (k < 0) {
                throw new EOFException("body ended early");
            }
            n += k;
            if (n == body.length && n < length) {
                body = grow(body, (int) Math.min(length, 2L * body.length));
            }
        }
        return body;
    }

    /** {@code b}'s bytes in an array of {@code capacity}, reserved in the budget first; null when the budget refuses. */
    private byte[] grow(byte[] b, int capacity) {
        if (!budget.reserve(capacity)) {
            return null;
        }
        held += capacity;
        byte[] bigger = b.length == 0 ? new byte[capacity] : Arrays.copyOf(b, capacity);
        budget.release(b.length);
        held -= b.length;
        return bigger;
    }

    private HttpRequest readChunked(String method, String path, Map<String, String> headers, int maxBody,
                                    boolean keepAlive) throws IOException {
        byte[] body = EMPTY; // grows as the chunks' bytes arrive, as a Content-Length body does
        int n = 0;
        long total = 0;
        boolean tooLarge = false;
        while (true) {
            String sizeLine = readLine(false);
            int semi = sizeLine.indexOf(';');
            String hex = (semi >= 0 ? sizeLine.substring(0, semi) : sizeLine).trim();
            long size;
            try {
                size = Long.parseLong(hex, 16);
            } catch (NumberFormatException e) {
                throw new BadRequest("bad chunk size");
            }
            if (size < 0 || size > MAX_DRAIN_BYTES) {
                throw new BadRequest("chunk too large");
            }
            if (size == 0) {
                break;
            }
            total += size;
            if (total > MAX_DRAIN_BYTES) {
                throw new BadRequest("chunked body too large");
            }
            if (total > maxBody) {
                if (!tooLarge) {
                    tooLarge = true;
                    budget.release(held); // drained from here on, never stored
                    held = 0;
                    body = EMPTY;
                }
                if (!skip(size)) {
                    throw new EOFException("chunk ended early");
                }
            } else {
                for (long left = size; left > 0; ) {
                    if (in.buffered() == 0 && !in.fill(true)) {
                        throw new EOFException("chunk ended early");
                    }
                    if (n == body.length) {
                        body = grow(body, (int) Math.min(maxBody, Math.max(INITIAL_BODY_BYTES, 2L * body.length)));
                        if (body == null) {
                            return refused(method, path, headers);
                        }
                    }
                    int k = in.read(body, n, (int) Math.min(left, body.length - n));
                    if (k < 0) {
                        throw new EOFException("chunk ended early");
                    }
                    n += k;
                    left -= k;
                }
            }
            if (!readLine(false).isEmpty()) {
                throw new BadRequest("missing CRLF after chunk");
            }
            headBudget = MAX_HEAD_BYTES; // the budget bounds each framing line, not the whole body
        }
        int trailers = 0;
        for (String trailer = readLine(false); !trailer.isEmpty(); trailer = readLine(false)) {
            int colon = trailer.indexOf(':');
            if (++trailers > MAX_HEADERS || colon <= 0) {
                throw new BadRequest("malformed trailer");
            }
            // a runtime's mid-stream error (Lambda-Runtime-Function-Error-Type/-Body) arrives as trailers
            headers.put(trailer.substring(0, colon).trim().toLowerCase(Locale.ROOT), trailer.substring(colon + 1).trim());
        }
        if (tooLarge) {
            return new HttpRequest(method, path, headers, EMPTY, maxBody, keepAlive);
        }
        if (n < body.length) { // the exact size, reserved before the copy
            if (!budget.reserve(n)) {
                return refused(method, path, headers);
            }
            held += n;
            byte[] exact = Arrays.copyOf(body, n);
            budget.release(body.length);
            held -= body.length;
            body = exact;
        }
        held = 0; // the request's now, until done()
        return new HttpRequest(method, path, headers, body, HttpRequest.WHOLE, keepAlive);
    }

    /**
     * A body passed on to {@code streamed} piece by piece as it arrives (chunked when {@code length} is -1), never held:
     * each piece is copied into the stream, which waits while its consumer is behind. Reads wait untimed (the invoke's
     * deadline ends a stalled stream by closing the connection). Past the limit the request is cut: it comes back too
     * large and the connection is not reused (the rest is never read). Trailers become headers.
     */
    private HttpRequest readStreamed(String method, String path, Map<String, String> headers, Streamed streamed, long length,
                                     boolean keepAlive) throws IOException {
        byte[] piece = new byte[Math.min(in.buf.length, 16 * 1024)];
        long total = 0;
        in.untimed = true;
        try {
            boolean chunked = length < 0;
            while (true) {
                long size;
                if (chunked) {
                    String sizeLine = readLine(false);
                    int semi = sizeLine.indexOf(';');
                    try {
                        size = Long.parseLong((semi >= 0 ? sizeLine.substring(0, semi) : sizeLine).trim(), 16);
                    } catch (NumberFormatException e) {
                        throw new BadRequest("bad chunk size");
                    }
                    if (size < 0) {
                        throw new BadRequest("bad chunk size");
                    }
                    headBudget = MAX_HEAD_BYTES;
                } else {
                    size = length - total;
                }
                if (size == 0) {
                    break;
                }
                for (long left = size; left > 0; ) {
                    if (total >= streamed.limit()) {
                        return new HttpRequest(method, path, headers, EMPTY, streamed.limit(), false);
                    }
                    int want = (int) Math.min(Math.min(left, piece.length), streamed.limit() - total);
                    int k = in.read(piece, 0, want);
                    if (k < 0) {
                        throw new EOFException("streamed body ended early");
                    }
                    streamed.stream().write(piece, 0, k);
                    total += k;
                    left -= k;
                }
                if (!chunked) {
                    break;
                }
                if (!readLine(false).isEmpty()) {
                    throw new BadRequest("missing CRLF after chunk");
                }
            }
            if (chunked) {
                int lines = 0;
                for (String t = readLine(false); !t.isEmpty(); t = readLine(false)) {
                    int colon = t.indexOf(':');
                    if (++lines > MAX_HEADERS || colon <= 0) {
                        throw new BadRequest("malformed trailer");
                    }
                    headers.put(t.substring(0, colon).trim().toLowerCase(Locale.ROOT), t.substring(colon + 1).trim());
                }
            }
        } finally {
            in.untimed = false;
        }
        return new HttpRequest(method, path, headers, EMPTY, HttpRequest.WHOLE, keepAlive);
    }

    private boolean skip(long n) throws IOException {
        return in.skip(n) == n;
    }

    /**
     * Reads one CRLF-terminated line within the head budget; null only at EOF before the first byte
     * if allowed. The line is found by scanning the read buffer; only a line split across two reads
     * is copied first.
     */
    private String readLine(boolean eofAllowed) throws IOException {
        int n = 0; // bytes of this line copied into `line` from earlier reads
        while (true) {
            if (in.pos == in.count && !in.fill(!eofAllowed || n > 0)) { // untimed only before a request's first byte
                if (eofAllowed && n == 0) {
                    return null;
                }
                throw new EOFException("connection closed mid-request");
            }
            byte[] b = in.buf;
            int from = in.pos;
            int lf = from;
            while (lf < in.count && b[lf] != '\n') {
                lf++;
            }
            int taken = (lf < in.count ? lf + 1 : lf) - from;
            headBudget -= taken;
            if (headBudget < 0) {
                throw new BadRequest("request head too large");
            }
            if (lf == in.count) { // no end of line in the buffer yet: keep what is there, read more
                if (n + taken > line.length) {
                    line = Arrays.copyOf(line, Math.max(n + taken, Math.min(MAX_HEAD_BYTES, line.length * 2)));
                }
                System.arraycopy(b, from, line, n, taken);
                n += taken;
                in.pos = lf;
                continue;
            }
            in.pos = lf + 1;
            if (n == 0) {
                if (lf == from || b[lf - 1] != '\r') {
                    throw new BadRequest("bare LF");
                }
                return new String(b, from, lf - 1 - from, StandardCharsets.ISO_8859_1);
            }
            int len = lf - from;
            if (n + len > line.length) {
                line = Arrays.copyOf(line, n + len);
            }
            System.arraycopy(b, from, line, n, len);
            n += len;
            if (line[n - 1] != '\r') {
                throw new BadRequest("bare LF");
            }
            return new String(line, 0, n - 1, StandardCharsets.ISO_8859_1);
        }
    }

    /** Writes a complete response; {@code headers} alternate name, value. */
    void write(int status, String reason, byte[] body, boolean close, String... headers) throws IOException {
        StringBuilder sb = new StringBuilder(256);
        sb.append("HTTP/1.1 ").append(status).append(' ').append(reason).append("\r\n");
        for (int i = 0; i + 1 < headers.length; i += 2) {
            if (headers[i + 1] != null && !headers[i + 1].isEmpty()) {
                // a value must never end the header block early (e.g. a client context with a newline)
                sb.append(headers[i]).append(": ").append(headers[i + 1].replace('\r', ' ').replace('\n', ' '))
                        .append("\r\n");
            }
        }
        sb.append("Content-Length: ").append(body.length).append("\r\n");
        if (close) {
            sb.append("Connection: close\r\n");
        }
        sb.append("\r\n");
        out.write(sb.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        if (close || !pipelined()) {
            out.flush();
        }
        // else: the client already sent its next request (HTTP/1.1 pipelining, e.g. POST /response
        // then GET /next in one write): this answer goes out with that one's, in one write and one
        // wakeup of the runtime. The client reads answers in order, so nothing waits on it alone.
    }

    /** Whether the client's next request has already arrived (is in the read buffer). */
    private boolean pipelined() {
        return in.buffered() > 0;
    }
}

package dev.ignis.worker.runtimeapi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class HttpConnectionTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    private HttpConnection conn(String raw) {
        return new HttpConnection(new ByteArrayInputStream(raw.getBytes(StandardCharsets.ISO_8859_1)), out);
    }

    @Test
    void keepAliveRequestsWithContentLengthAndChunkedBodies() throws IOException {
        HttpConnection c = conn("POST /a HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 5\r\n\r\nhello"
                + "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: y\r\n\r\n"
                + "GET /c HTTP/1.1\r\nConnection: close\r\n\r\n");
        HttpRequest a = c.read(100);
        assertThat(a.path()).isEqualTo("/a");
        assertThat(new String(a.body(), StandardCharsets.UTF_8)).isEqualTo("hello");
        assertThat(a.keepAlive()).isTrue();
        HttpRequest b = c.read(100);
        assertThat(new String(b.body(), StandardCharsets.UTF_8)).isEqualTo("abcde");
        HttpRequest g = c.read(100);
        assertThat(g.method()).isEqualTo("GET");
        assertThat(g.keepAlive()).isFalse();
        assertThat(c.read(100)).isNull();
    }

    /** Counts the flushes that reach the socket: each is one write system call and one wakeup of the runtime. */
    private static final class FlushCounter extends java.io.BufferedOutputStream {
        int flushes;
        final ByteArrayOutputStream sink;

        FlushCounter(ByteArrayOutputStream sink) {
            super(sink, 16 * 1024);
            this.sink = sink;
        }

        @Override
        public synchronized void flush() throws IOException {
            flushes++;
            super.flush();
        }
    }

    @Test
    void anAnswerWaitsForTheNextOneOnlyWhileTheClientsNextRequestIsAlreadyHere() throws IOException {
        String post = "POST /2018-06-01/runtime/invocation/r1/response HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}";
        String next = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n";
        var sink = new ByteArrayOutputStream();
        var out = new FlushCounter(sink);
        var c = new HttpConnection(new HttpConnection.Input(
                new ByteArrayInputStream((post + next).getBytes(StandardCharsets.ISO_8859_1)), 1024), out);
        assertThat(c.read(100).method()).isEqualTo("POST");
        c.write(202, "Accepted", new byte[0], false);
        assertThat(out.flushes).as("the GET is already buffered: the 202 goes out with its answer").isZero();
        assertThat(c.read(100).method()).isEqualTo("GET");
        c.write(200, "OK", "{}".getBytes(StandardCharsets.UTF_8), false);
        assertThat(out.flushes).isEqualTo(1);
        assertThat(sink.toString(StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 202 Accepted\r\n").contains("HTTP/1.1 200 OK\r\n");

        // a client that waits for each answer before it asks again gets each one at once
        var alone = new FlushCounter(new ByteArrayOutputStream());
        var d = new HttpConnection(new HttpConnection.Input(
                new ByteArrayInputStream(post.getBytes(StandardCharsets.ISO_8859_1)), 1024), alone);
        d.read(100);
        d.write(202, "Accepted", new byte[0], false);
        assertThat(alone.flushes).isEqualTo(1);
    }

    @Test
    void oversizeBodiesAreDrainedNotStored() throws IOException {
        HttpConnection c = conn("POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789GET /y HTTP/1.1\r\n\r\n");
        HttpRequest big = c.read(4);
        assertThat(big.bodyTooLarge()).isTrue();
        assertThat(big.body()).isEmpty();
        assertThat(big.keepAlive()).isTrue();
        assertThat(c.read(4).path()).isEqualTo("/y");

        HttpConnection chunked = conn("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n0\r\n\r\n");
        assertThat(chunked.read(4).bodyTooLarge()).isTrue();
    }

    @Test
    void expectContinueIsAnsweredOrRefused() throws IOException {
        HttpConnection ok = conn("POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi");
        assertThat(new String(ok.read(10).body(), StandardCharsets.UTF_8)).isEqualTo("hi");
        assertThat(out.toString(StandardCharsets.ISO_8859_1)).isEqualTo("HTTP/1.1 100 Continue\r\n\r\n");
        out.reset();
        HttpConnection refused = conn("POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 20\r\n\r\n");
        HttpRequest r = refused.read(10);
        assertThat(r.bodyTooLarge()).isTrue();
        assertThat(r.keepAlive()).isFalse();
        assertThat(out.size()).isZero();
    }

    @Test
    void malformedInputIsRejected() {
        assertThatThrownBy(() -> conn("GET /x HTTP/1.1\n\n").read(10)).isInstanceOf(HttpConnection.BadRequest.class);
        assertThatThrownBy(() -> conn("GET /x\r\n\r\n").read(10)).isInstanceOf(HttpConnection.BadRequest.class);
        assertThatThrownBy(() -> conn("GET /x HTTP/1.1\r\nNoColon\r\n\r\n").read(10)).isInstanceOf(HttpConnection.BadRequest.class);
        assertThatThrownBy(() -> conn("POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n").read(10)).isInstanceOf(HttpConnection.BadRequest.class);
        assertThatThrownBy(() -> conn("POST /x HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n").read(10))
                .isInstanceOf(HttpConnection.BadRequest.class);
        assertThatThrownBy(() -> conn("GET /x HTTP/1.1\r\nX: " + "a".repeat(HttpConnection.MAX_HEAD_BYTES) + "\r\n\r\n").read(10))
                .isInstanceOf(HttpConnection.BadRequest.class).hasMessageContaining("too large");
        assertThatThrownBy(() -> conn("POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nab").read(10)).isInstanceOf(IOException.class);
    }

    @Test
    void headerValuesCannotInjectHeaders() throws IOException {
        conn("").write(200, "OK", new byte[0], false, "Lambda-Runtime-Client-Context", "{\"a\":1}\r\nX-Evil: 1");
        assertThat(out.toString(StandardCharsets.ISO_8859_1)).doesNotContain("\r\nX-Evil").contains("{\"a\":1}  X-Evil: 1");
    }

    /** A socket that hands over at most {@code step} bytes per read, as TCP may. */
    private static final class Trickle extends java.io.InputStream {
        private final byte[] data;
        private final int step;
        private int pos;

        Trickle(String raw, int step) {
            this.data = raw.getBytes(StandardCharsets.ISO_8859_1);
            this.step = step;
        }

        @Override
        public int read() {
            return pos < data.length ? data[pos++] & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (pos >= data.length) {
                return -1;
            }
            int n = Math.min(Math.min(len, step), data.length - pos);
            System.arraycopy(data, pos, b, off, n);
            pos += n;
            return n;
        }
    }

    @Test
    void requestsSplitAcrossReadsAtEveryPointParseTheSame() throws IOException {
        String raw = "POST /2018-06-01/runtime/invocation/r1/error HTTP/1.1\r\nHost: 127.0.0.1:9001\r\n"
                + "Lambda-Runtime-Function-Error-Type: Runtime.Oops\r\nContent-Length: 7\r\n\r\n{\"a\":1}"
                + "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n";
        for (int step = 1; step <= raw.length(); step++) {
            // a small buffer as well, so lines also straddle refills of the connection's own buffer
            var c = new HttpConnection(new HttpConnection.Input(new Trickle(raw, step), 16), out);
            HttpRequest post = c.read(100);
            assertThat(post.path()).as("step %d", step).endsWith("/r1/error");
            assertThat(post.header("lambda-runtime-function-error-type")).isEqualTo("Runtime.Oops");
            assertThat(new String(post.body(), StandardCharsets.UTF_8)).isEqualTo("{\"a\":1}");
            assertThat(c.read(100).path()).as("step %d", step).endsWith("/next");
            assertThat(c.read(100)).isNull();
        }
    }

    @Test
    void bodiesGrowAsTheirBytesArriveAndHoldTheirLengthInTheBudgetUntilDone() throws IOException {
        int size = 5 * HttpConnection.INITIAL_BODY_BYTES + 123; // four doublings, the last one cut to the declared length
        String data = "x".repeat(size - 1) + "!";
        String chunked = Integer.toHexString(size - 10) + "\r\n" + data.substring(0, size - 10) + "\r\n"
                + "a\r\n" + data.substring(size - 10) + "\r\n0\r\n\r\n";
        String raw = "POST /a HTTP/1.1\r\nContent-Length: " + size + "\r\n\r\n" + data
                + "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked;
        for (int step : new int[] {1000, 70_000}) {
            var budget = new BodyBudget(1L << 20);
            var c = new HttpConnection(new HttpConnection.Input(new Trickle(raw, step), 16 * 1024), out, budget);
            for (String path : new String[] {"/a", "/b"}) {
                HttpRequest r = c.read(2 * size); // a chunked body grows past its length, then is cut to it
                assertThat(r.path()).isEqualTo(path);
                assertThat(new String(r.body(), StandardCharsets.ISO_8859_1)).as("step %d", step).isEqualTo(data);
                assertThat(budget.held()).isEqualTo(size);
                c.done(r);
                assertThat(budget.held()).isZero();
            }
        }
    }

    @Test
    void aBodyTheBudgetCannotHoldIsRefusedAndReleased() throws IOException {
        var budget = new BodyBudget(100_000);
        String body = "y".repeat(200_000);
        for (String raw : new String[] {
            "POST /a HTTP/1.1\r\nContent-Length: 200000\r\n\r\n" + body,
            "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n30d40\r\n" + body + "\r\n0\r\n\r\n",
        }) {
            var c = new HttpConnection(new HttpConnection.Input(new Trickle(raw, 4096), 16 * 1024), out, budget);
            HttpRequest r = c.read(1_000_000);
            assertThat(r.bodyTooLarge()).isTrue();
            assertThat(r.bodyLimit()).isEqualTo(HttpConnection.INITIAL_BODY_BYTES); // what it held when it could grow no more
            assertThat(r.keepAlive()).as("the rest of the body is unread").isFalse();
            assertThat(budget.held()).isZero();
        }
    }

    @Test
    void aBareLineFeedOrAnOverlongHeadIsRefusedAcrossReadsToo() {
        for (int step : new int[] {1, 2, 3, 7}) {
            assertThatThrownBy(() -> new HttpConnection(new HttpConnection.Input(new Trickle("GET /x HTTP/1.1\r\nA: b\n\r\n", step), 16), out)
                    .read(10)).isInstanceOf(HttpConnection.BadRequest.class).hasMessageContaining("bare LF");
            assertThatThrownBy(() -> new HttpConnection(new HttpConnection.Input(new Trickle("\nGET /x HTTP/1.1\r\n\r\n", step), 16), out)
                    .read(10)).isInstanceOf(HttpConnection.BadRequest.class).hasMessageContaining("bare LF");
        }
        String huge = "GET /x HTTP/1.1\r\nX: " + "a".repeat(HttpConnection.MAX_HEAD_BYTES) + "\r\n\r\n";
        assertThatThrownBy(() -> new HttpConnection(new HttpConnection.Input(new Trickle(huge, 1000), 4096), out).read(10))
                .isInstanceOf(HttpConnection.BadRequest.class).hasMessageContaining("too large");
        assertThatThrownBy(() -> new HttpConnection(new HttpConnection.Input(new Trickle("GET /x HTTP/1.1\r\nA: b", 3), 16), out)
                .read(10)).isInstanceOf(java.io.EOFException.class);
    }
}

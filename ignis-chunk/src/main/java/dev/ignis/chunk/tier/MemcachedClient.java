package dev.ignis.chunk.tier;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * A small memcached text-protocol client ({@code get}, {@code set}, {@code delete}) over N servers
 * chosen by {@link ConsistentHashRing}. Connections are pooled per server; a connection that sees
 * any error is closed and the operation reports failure, which the tier turns into a miss.
 */
final class MemcachedClient implements AutoCloseable {
    private static final int POINTS_PER_SERVER = 160;
    private final ConsistentHashRing ring;
    private final Map<InetSocketAddress, ConcurrentLinkedDeque<Conn>> pools = new ConcurrentHashMap<>();
    private final int timeoutMillis;

    MemcachedClient(List<InetSocketAddress> servers, int timeoutMillis) {
        this.ring = new ConsistentHashRing(servers, POINTS_PER_SERVER);
        this.timeoutMillis = timeoutMillis;
    }

    InetSocketAddress serverFor(String key) {
        return ring.serverFor(key);
    }

    Optional<byte[]> get(String key) throws IOException {
        return withConn(key, c -> {
            c.out.write(("get " + key + "\r\n").getBytes(StandardCharsets.US_ASCII));
            c.out.flush();
            String line = c.readLine();
            if (line.equals("END")) {
                return Optional.empty();
            }
            String[] p = line.split(" ");
            if (p.length < 4 || !p[0].equals("VALUE")) {
                throw new IOException("unexpected memcached reply: " + line);
            }
            int len = Integer.parseInt(p[3]);
            byte[] data = c.in.readNBytes(len);
            if (data.length != len || !c.readLine().isEmpty() || !c.readLine().equals("END")) {
                throw new IOException("truncated memcached value for " + key);
            }
            return Optional.of(data);
        });
    }

    boolean set(String key, byte[] value) throws IOException {
        return withConn(key, c -> {
            c.out.write(("set " + key + " 0 0 " + value.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
            c.out.write(value);
            c.out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            c.out.flush();
            String reply = c.readLine();
            if (reply.startsWith("SERVER_ERROR") || reply.startsWith("CLIENT_ERROR")) {
                return false; // e.g. object larger than the server's item size limit (-I)
            }
            return reply.equals("STORED");
        });
    }

    void delete(String key) throws IOException {
        withConn(key, c -> {
            c.out.write(("delete " + key + "\r\n").getBytes(StandardCharsets.US_ASCII));
            c.out.flush();
            return c.readLine();
        });
    }

    private interface Op<T> {
        T run(Conn c) throws IOException;
    }

    private <T> T withConn(String key, Op<T> op) throws IOException {
        InetSocketAddress server = ring.serverFor(key);
        ConcurrentLinkedDeque<Conn> pool = pools.computeIfAbsent(server, s -> new ConcurrentLinkedDeque<>());
        Conn c = pool.pollFirst();
        if (c == null) {
            c = new Conn(server, timeoutMillis);
        }
        try {
            T result = op.run(c);
            pool.offerFirst(c);
            return result;
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e instanceof IOException io ? io : new IOException(e);
        }
    }

    @Override
    public void close() {
        pools.values().forEach(p -> p.forEach(Conn::close));
        pools.clear();
    }

    private static final class Conn {
        final Socket socket;
        final InputStream in;
        final OutputStream out;

        Conn(InetSocketAddress server, int timeoutMillis) throws IOException {
            socket = new Socket();
            socket.connect(server, timeoutMillis);
            socket.setSoTimeout(timeoutMillis);
            socket.setTcpNoDelay(true);
            in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
            out = new java.io.BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
        }

        String readLine() throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream(64);
            int prev = -1;
            while (true) {
                int ch = in.read();
                if (ch < 0) {
                    throw new IOException("memcached closed the connection");
                }
                if (prev == '\r' && ch == '\n') {
                    byte[] bytes = b.toByteArray();
                    return new String(bytes, 0, bytes.length - 1, StandardCharsets.US_ASCII);
                }
                b.write(ch);
                prev = ch;
            }
        }

        void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing a broken connection
            }
        }
    }
}

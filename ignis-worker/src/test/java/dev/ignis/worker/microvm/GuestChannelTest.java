package dev.ignis.worker.microvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The host side of the guest agent's mux protocol against a fake guest (no VM): the CONFIG handshake, relaying one
 * connection both ways to a listener inside the relay namespace, and a hostile guest's frames ending the channel.
 */
class GuestChannelTest {
    Path dir;
    RelayNamespace ns;
    ServerSocketChannel listener;
    SocketChannel guest;
    GuestChannel channel;

    @BeforeEach
    void setUp() throws Exception {
        dir = Files.createTempDirectory("ignis-guest-channel-");
        ns = new RelayNamespace("ignis-mvm-gct-" + ProcessHandle.current().pid());
        listener = ns.listen();
        Path sock = dir.resolve("mux");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(sock));
            SocketChannel host = SocketChannel.open(UnixDomainSocketAddress.of(sock));
            guest = server.accept();
            byte[] config = GuestChannel.config(128L << 20, 64L << 20, 64, List.<String[]>of(new String[] {"task", "/var/task"}),
                    List.of(), List.of("/bin/true"), Map.of("A", "b"));
            channel = new GuestChannel(host, ns, listener.getLocalAddress(), config);
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        channel.close();
        guest.close();
        listener.close();
        ns.close();
        Files.deleteIfExists(dir.resolve("mux"));
        Files.delete(dir);
    }

    void send(int type, int conn, byte[] payload) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(4 + payload.length).put((byte) type).put((byte) conn)
                .putShort((short) payload.length).put(payload).flip();
        while (b.hasRemaining()) {
            guest.write(b);
        }
    }

    /** One frame from the host: {type, conn, payload...}. */
    byte[][] frame() throws Exception {
        ByteBuffer h = ByteBuffer.allocate(4);
        while (h.hasRemaining()) {
            if (guest.read(h) < 0) {
                throw new IllegalStateException("host closed");
            }
        }
        ByteBuffer body = ByteBuffer.allocate(h.getShort(2) & 0xffff);
        while (body.hasRemaining()) {
            guest.read(body);
        }
        return new byte[][] {{h.get(0), h.get(1)}, body.array()};
    }

    @Test
    void helloGetsTheConfigOnceAndTheRelayCarriesAConnectionBothWays() throws Exception {
        send(GuestChannel.HELLO, 0, "ignis-agent 1 1234".getBytes());
        byte[][] cfg = frame();
        assertThat(cfg[0][0]).isEqualTo((byte) GuestChannel.CONFIG);
        assertThat(new String(cfg[1], StandardCharsets.UTF_8)).isEqualTo(
                "134217728\0" + "67108864\0" + "64\0" + "1\0task\0/var/task\0" + "0\0" + "1\0/bin/true\0" + "A=b\0");
        assertThat(frame()[1]).isEmpty(); // the CONFIG's end
        assertThat(channel.agentUptimeMs.get(5, TimeUnit.SECONDS)).isEqualTo(1234);
        send(GuestChannel.HELLO, 0, "ignis-agent 1 1300".getBytes()); // a repeated HELLO gets no second CONFIG

        send(GuestChannel.OPEN, 2, new byte[0]);
        listener.configureBlocking(true);
        try (SocketChannel worker = listener.accept()) {
            send(GuestChannel.DATA, 2, "GET /next".getBytes());
            ByteBuffer in = ByteBuffer.allocate(9);
            while (in.hasRemaining()) {
                worker.read(in);
            }
            assertThat(new String(in.array())).isEqualTo("GET /next");
            worker.write(ByteBuffer.wrap("200 OK".getBytes()));
            byte[][] data = frame();
            assertThat(data[0]).containsExactly(GuestChannel.DATA, 2);
            assertThat(new String(data[1])).isEqualTo("200 OK");
        }
        byte[][] close = frame(); // the worker closed it: CLOSE to the guest
        assertThat(close[0]).containsExactly(GuestChannel.CLOSE, 2);
        send(GuestChannel.CLOSE, 2, new byte[0]); // the guest's answer frees the slot
        send(GuestChannel.OPEN, 2, new byte[0]); // so the slot can be opened again
        try (SocketChannel again = listener.accept()) {
            assertThat(again.isConnected()).isTrue();
        }
        assertThat(channel.ended).isNotDone();
    }

    @Test
    void anUnknownFrameTypeEndsTheChannel() throws Exception {
        send(99, 0, new byte[0]);
        assertThat(channel.ended.get(5, TimeUnit.SECONDS)).contains("broke the channel protocol", "frame type 99");
    }

    @Test
    void dataOnAConnectionNeverOpenedEndsTheChannel() throws Exception {
        send(GuestChannel.DATA, 3, "x".getBytes());
        assertThat(channel.ended.get(5, TimeUnit.SECONDS)).contains("DATA on closed connection 3");
    }

    @Test
    void aConnectionBeyondTheEightEndsTheChannel() throws Exception {
        send(GuestChannel.OPEN, 8, new byte[0]);
        assertThat(channel.ended.get(5, TimeUnit.SECONDS)).contains("connection 8");
    }

    @Test
    void aSecondOpenOfAnOpenConnectionEndsTheChannel() throws Exception {
        send(GuestChannel.OPEN, 1, new byte[0]);
        send(GuestChannel.OPEN, 1, new byte[0]);
        assertThat(channel.ended.get(5, TimeUnit.SECONDS)).contains("OPEN of open connection 1");
    }

    @Test
    void statsKeepTheHighestPeakAndAMalformedOneEndsTheChannel() throws Exception {
        send(GuestChannel.STATS, 0, "52428800 0".getBytes());
        send(GuestChannel.STATS, 0, "1048576 0".getBytes()); // a lower figure never lowers the peak
        send(GuestChannel.STATS, 0, "peak".getBytes());
        assertThat(channel.ended.get(5, TimeUnit.SECONDS)).contains("STATS");
        assertThat(channel.peakMemoryBytes).isEqualTo(52428800);
    }

    @Test
    void aMalformedExitEndsTheChannel() throws Exception {
        send(GuestChannel.EXIT, 0, "not a status".getBytes());
        assertThat(channel.ended.get(5, TimeUnit.SECONDS)).contains("EXIT");
        assertThat(channel.exit).isNotDone();
    }

    @Test
    void theListenerIsNotReachableFromTheHostsNetworkNamespace() throws Exception {
        int port = ((java.net.InetSocketAddress) listener.getLocalAddress()).getPort();
        assertThatThrownBy(() -> SocketChannel.open(new java.net.InetSocketAddress("127.0.0.1", port)).close())
                .isInstanceOf(java.net.ConnectException.class);
    }
}

package dev.ignis.worker.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** Real network namespaces: a socket opened "inside" is reachable there and not from the host. */
class NetNamespacesTest {
    @Test
    void listenerLivesInTheNamespaceAndPoolIsCleanedUp() throws Exception {
        String prefix = "ignis-nstest" + ProcessHandle.current().pid() + "-";
        NetNamespaces.Netns ns;
        try (NetNamespaces pool = new NetNamespaces(prefix, 1)) {
            ns = pool.acquire();
            assertThat(Files.exists(ns.path())).isTrue();
            try (ServerSocketChannel inside = pool.openLoopbackListener(ns, 9001)) {
                // from the host's namespace 127.0.0.1:9001 is not this socket (nothing listens there on the host)
                boolean hostReached;
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress("127.0.0.1", 9001), 500);
                    hostReached = true;
                } catch (ConnectException e) {
                    hostReached = false;
                }
                assertThat(hostReached).as("host loopback must not reach the in-namespace listener").isFalse();
                // a process inside the namespace reaches it
                Process p = new ProcessBuilder("ip", "netns", "exec", ns.name(), "/usr/bin/curl", "-s", "-m", "3",
                        "http://127.0.0.1:9001/").start();
                try (SocketChannel accepted = inside.accept()) {
                    assertThat(accepted).isNotNull();
                }
                p.destroyForcibly().waitFor();
            }
            // this thread (and the JVM) stayed in the host namespace
            assertThat(Files.readSymbolicLink(java.nio.file.Path.of("/proc/thread-self/ns/net")))
                    .isEqualTo(Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/ns/net")));
            pool.release(ns);
            assertThat(pool.acquire()).isEqualTo(ns);
        }
        assertThat(Files.exists(ns.path())).isFalse();
    }

    @Test
    void staleNamespacesOfTheSamePrefixAreRemovedAtStart() throws IOException {
        String prefix = "ignis-nsstale" + ProcessHandle.current().pid() + "-";
        NetNamespaces.run("ip", "netns", "add", prefix + "7");
        try (NetNamespaces pool = new NetNamespaces(prefix, 0)) {
            assertThat(Files.exists(java.nio.file.Path.of("/run/netns", prefix + "7"))).isFalse();
            assertThat(pool.size()).isZero();
        }
    }
}

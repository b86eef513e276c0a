package dev.ignis.chunk;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.TimeUnit;

/** A real memcached server (Debian package) on a free loopback port, stopped by {@link #close()}. */
final class MemcachedProcess implements AutoCloseable {
    private final Process process;
    final InetSocketAddress address;

    MemcachedProcess() throws IOException, InterruptedException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        process = new ProcessBuilder("memcached", "-l", "127.0.0.1", "-p", Integer.toString(port), "-U", "0",
                "-m", "64", "-I", "2m", "-u", "root").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        address = new InetSocketAddress("127.0.0.1", port);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            try (Socket probe = new Socket()) {
                probe.connect(address, 200);
                return;
            } catch (IOException e) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    close();
                    throw new IOException("memcached did not start on port " + port, e);
                }
                Thread.sleep(20);
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}

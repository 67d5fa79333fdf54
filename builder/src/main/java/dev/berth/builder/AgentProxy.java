package dev.berth.builder;

import dev.berth.layers.LayerExtractor;
import dev.berth.layers.Posix;
import dev.berth.layers.TempDirs;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A socket that forwards every connection to an SSH agent's socket, for {@code RUN --mount=type=ssh}. The
 * step gets this socket, with the owner and mode its mount asks for, and never the path of the user's own
 * agent, whose permissions are the user's; as BuildKit, the agent's keys never leave the agent. Lives for
 * one step.
 */
final class AgentProxy implements AutoCloseable {
    private static final String PREFIX = "berth-ssh-";

    private final Path dir;
    private final Path socket;
    private final ServerSocketChannel server;

    private AgentProxy(Path dir, Path socket, ServerSocketChannel server) {
        this.dir = dir;
        this.socket = socket;
        this.server = server;
    }

    /**
     * Starts forwarding to {@code agent}; the socket is made in the system's temporary directory (Unix
     * socket paths are short), where a killed build's leftovers are swept by the next one.
     */
    /** What gives the socket its owner: the step runner's {@link StepRunner#own}. */
    interface Owner {
        void own(Path socket) throws IOException;
    }

    static AgentProxy start(Path agent, int mode, Owner owner) throws IOException {
        if (!Files.exists(agent)) {
            throw new BuildException("SSH agent socket " + agent + " does not exist");
        }
        Path dir = TempDirs.create(Path.of(System.getProperty("java.io.tmpdir")), PREFIX);
        Path socket = dir.resolve("agent.sock");
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(socket));
            Posix.chmod(socket, mode);
            owner.own(socket);
        } catch (IOException | RuntimeException e) {
            server.close();
            LayerExtractor.deleteTree(dir);
            throw e;
        }
        AgentProxy proxy = new AgentProxy(dir, socket, server);
        Thread.ofVirtual().name("berth-ssh-accept").start(() -> proxy.accept(agent));
        return proxy;
    }

    /** Removes the sockets of builds that were killed before they could. */
    static void sweep() {
        TempDirs.removeAbandoned(Path.of(System.getProperty("java.io.tmpdir")), PREFIX);
    }

    Path socket() {
        return socket;
    }

    private void accept(Path agent) {
        while (server.isOpen()) {
            SocketChannel client;
            try {
                client = server.accept();
            } catch (IOException closed) {
                return;
            }
            Thread.ofVirtual().start(() -> {
                try (client; SocketChannel upstream = SocketChannel.open(UnixDomainSocketAddress.of(agent))) {
                    Thread back = Thread.ofVirtual().start(() -> pump(upstream, client));
                    pump(client, upstream);
                    back.join();
                } catch (IOException | InterruptedException e) {
                    // the agent refused, or a side closed: the connection ends
                }
            });
        }
    }

    private static void pump(SocketChannel from, SocketChannel to) {
        ByteBuffer buf = ByteBuffer.allocate(16384);
        try {
            while (from.read(buf) >= 0) {
                buf.flip();
                while (buf.hasRemaining()) {
                    to.write(buf);
                }
                buf.clear();
            }
            to.shutdownOutput();
        } catch (IOException e) {
            // the other side is gone
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        LayerExtractor.deleteTree(dir);
    }
}

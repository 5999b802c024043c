package dev.sluice.examples;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Locale;

import dev.sluice.driver.runtime.Sluice;
import dev.sluice.driver.runtime.SluiceConfig;
import dev.sluice.driver.runtime.SluiceConfigBuilder;
import dev.sluice.driver.socket.ShardThreads;
import dev.sluice.driver.socket.SluiceServerSocket;
import dev.sluice.driver.socket.SluiceSocket;

/**
 * The one switch of the examples: the same thread-per-connection code runs on JDK sockets (the kernel's TCP)
 * or on Sluice's blocking sockets. {@link #fromArgs} reads {@code --transport jdk|sluice} and, for Sluice, the
 * device flags ({@code --dev}, {@code --ip}, and optionally {@code --gateway}, {@code --cores},
 * {@code --idle}, {@code --no-delay}, {@code --max-connections}, {@code --counters-file}, and
 * {@code --threads shard|default}: connection threads carried by the shards, the default, or the JDK's).
 */
public interface Transport extends Closeable
{
    /**
     * A listening socket.
     *
     * @param port the port.
     * @return the listener.
     * @throws IOException if it cannot listen.
     */
    Listener listen(int port) throws IOException;

    /**
     * An outgoing connection.
     *
     * @param host an IPv4 address.
     * @param port its port.
     * @return the connection.
     * @throws IOException if it cannot connect.
     */
    Connection connect(String host, int port) throws IOException;

    /**
     * Starts the thread that serves one accepted connection: a virtual thread; on Sluice one carried by the
     * connection's own shard when the JVM allows it ({@link ShardThreads}, the fastest documented mode: no
     * hand-off between the shard and a carrier), unless {@code --threads default} asks for the JDK's scheduler.
     *
     * @param connection an accepted connection.
     * @param task       what the thread runs.
     * @return the started thread.
     */
    Thread start(Connection connection, Runnable task);

    /** Shuts the transport down (Sluice: closes every connection, stops the stack). */
    @Override
    void close();

    /** Accepts connections. */
    interface Listener extends Closeable
    {
        /**
         * @return the next connection.
         * @throws IOException if the listener is closed.
         */
        Connection accept() throws IOException;
    }

    /**
     * One connection: its two streams and how to close it.
     *
     * @param in     received bytes.
     * @param out    bytes to send.
     * @param socket the socket, closed by {@link #close()}.
     */
    record Connection(InputStream in, OutputStream out, Closeable socket) implements Closeable
    {
        @Override
        public void close() throws IOException
        {
            socket.close();
        }
    }

    /**
     * Builds the transport the command line asks for.
     *
     * @param args the program's arguments.
     * @return JDK sockets, or Sluice started on the given device.
     */
    static Transport fromArgs(final String[] args)
    {
        final String kind = value(args, "--transport", "jdk").toLowerCase(Locale.ROOT);
        return switch (kind)
        {
            case "jdk" -> new Jdk();
            case "sluice" -> new OnSluice(args);
            default -> throw new IllegalArgumentException("--transport wants jdk or sluice, got " + kind);
        };
    }

    /**
     * @param args     the arguments.
     * @param flag     e.g. {@code --port}.
     * @param fallback when absent.
     * @return the flag's value.
     */
    static String value(final String[] args, final String flag, final String fallback)
    {
        for (int i = 0; i + 1 < args.length; i++)
        {
            if (args[i].equals(flag))
            {
                return args[i + 1];
            }
        }
        return fallback;
    }

    /**
     * @param args the arguments.
     * @param flag e.g. {@code --no-delay}.
     * @return whether the switch is present.
     */
    static boolean has(final String[] args, final String flag)
    {
        return List.of(args).contains(flag);
    }

    /** The kernel's TCP through {@code java.net} sockets. */
    final class Jdk implements Transport
    {
        @Override
        public Listener listen(final int port) throws IOException
        {
            final ServerSocket server = new ServerSocket();
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(port), 1024);
            return new Listener()
            {
                @Override
                public Connection accept() throws IOException
                {
                    final Socket s = server.accept();
                    s.setTcpNoDelay(true);
                    return new Connection(s.getInputStream(), s.getOutputStream(), s);
                }

                @Override
                public void close() throws IOException
                {
                    server.close();
                }
            };
        }

        @Override
        public Connection connect(final String host, final int port) throws IOException
        {
            final Socket s = new Socket();
            s.connect(new InetSocketAddress(host, port), 10_000);
            s.setTcpNoDelay(true);
            return new Connection(s.getInputStream(), s.getOutputStream(), s);
        }

        @Override
        public Thread start(final Connection connection, final Runnable task)
        {
            return Thread.ofVirtual().start(task);
        }

        @Override
        public void close()
        {
        }
    }

    /** Sluice's blocking sockets on a DPDK device. */
    final class OnSluice implements Transport
    {
        private final Sluice sluice;
        private final boolean onShards;

        OnSluice(final String[] args)
        {
            this.onShards = !"default".equals(value(args, "--threads", "shard"));
            final SluiceConfigBuilder config = SluiceConfig.builder()
                .device(value(args, "--dev", null))
                .ip(value(args, "--ip", null))
                .cores(Integer.parseInt(value(args, "--cores", "1")))
                .idle(SluiceConfig.IdleMode.valueOf(value(args, "--idle", "spin").toUpperCase(Locale.ROOT)))
                .maxConnections(Integer.parseInt(value(args, "--max-connections", "1024")))
                .noDelay(has(args, "--no-delay"))
                .countersFile(value(args, "--counters-file", SluiceConfig.DEFAULT_COUNTERS_FILE));
            final String gateway = value(args, "--gateway", null);
            if (gateway != null)
            {
                config.gatewayIp(dev.sluice.core.wire.Addresses.parseIpv4(gateway));
            }
            this.sluice = Sluice.start(config.build(), null);
        }

        @Override
        public Listener listen(final int port) throws IOException
        {
            final SluiceServerSocket server = new SluiceServerSocket(sluice.runtime(), port, 1024);
            return new Listener()
            {
                @Override
                public Connection accept() throws IOException
                {
                    final SluiceSocket s = server.accept();
                    return new Connection(s.getInputStream(), s.getOutputStream(), s);
                }

                @Override
                public void close()
                {
                    server.close();
                }
            };
        }

        @Override
        public Connection connect(final String host, final int port) throws IOException
        {
            final SluiceSocket s = new SluiceSocket(sluice);
            s.connect(new InetSocketAddress(host, port), 10_000);
            return new Connection(s.getInputStream(), s.getOutputStream(), s);
        }

        @Override
        public Thread start(final Connection connection, final Runnable task)
        {
            // ShardThreads.start falls back to a default virtual thread (with one warning) without the add-opens
            return onShards && connection.socket() instanceof SluiceSocket s ? ShardThreads.start(s, task) :
                Thread.ofVirtual().start(task);
        }

        @Override
        public void close()
        {
            sluice.close();
        }
    }
}

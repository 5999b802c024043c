package dev.sluice.examples;

import java.io.IOException;

/**
 * A thread-per-connection echo server on virtual threads. The same code runs on JDK sockets or on Sluice:
 * <pre>
 *   scripts/example echo --transport jdk --port 7
 *   scripts/example echo --transport sluice --dev net_tap0,iface=sl0 --ip 10.0.0.2/24 --port 7
 * </pre>
 */
public final class EchoServer
{
    private EchoServer()
    {
    }

    /**
     * @param args {@code --transport jdk|sluice [--port P]} and, for Sluice, the device flags.
     * @throws IOException if it cannot listen.
     */
    public static void main(final String[] args) throws IOException
    {
        final int port = Integer.parseInt(Transport.value(args, "--port", "7"));
        try (Transport transport = Transport.fromArgs(args);
             Transport.Listener listener = transport.listen(port))
        {
            Runtime.getRuntime().addShutdownHook(new Thread(transport::close));
            System.out.println("echo: listening on port " + port + " (" + transport.getClass().getSimpleName() + ")");
            while (true)
            {
                final Transport.Connection connection = listener.accept();
                transport.start(connection, () -> serve(connection)); // Sluice: on the connection's shard
            }
        }
    }

    /**
     * Echoes until the peer closes, then closes.
     *
     * @param connection the connection.
     */
    static void serve(final Transport.Connection connection)
    {
        try (connection)
        {
            final byte[] buffer = new byte[16 * 1024];
            int n;
            while ((n = connection.in().read(buffer)) > 0)
            {
                connection.out().write(buffer, 0, n);
            }
        }
        catch (final IOException ex)
        {
            // the peer reset or went away: nothing to answer
        }
    }
}

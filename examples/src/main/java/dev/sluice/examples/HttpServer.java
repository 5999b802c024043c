package dev.sluice.examples;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A thread-per-connection HTTP/1.1 "hello" server on virtual threads with persistent connections
 * (RFC 9112): every request gets {@code 200 OK} with a 13-byte body; {@code Connection: close} and HTTP/1.0
 * without keep-alive close after the response; request bodies announced by {@code Content-Length} are read
 * and discarded. The same code runs on JDK sockets or on Sluice:
 * <pre>
 *   scripts/example http --transport jdk --port 8080
 *   scripts/example http --transport sluice --dev net_tap0,iface=sl0 --ip 10.0.0.2/24 --port 8080
 * </pre>
 */
public final class HttpServer
{
    /** The body of every response. */
    public static final String BODY = "hello, world\n";
    private static final byte[] RESPONSE = ("HTTP/1.1 200 OK\r\nServer: sluice-example\r\nContent-Type: text/plain\r\n" +
        "Content-Length: " + BODY.length() + "\r\n\r\n" + BODY).getBytes(StandardCharsets.US_ASCII);
    private static final byte[] RESPONSE_CLOSE = ("HTTP/1.1 200 OK\r\nServer: sluice-example\r\nContent-Type: " +
        "text/plain\r\nContent-Length: " + BODY.length() + "\r\nConnection: close\r\n\r\n" + BODY)
        .getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_HEAD_BYTES = 8192;

    private HttpServer()
    {
    }

    /**
     * @param args {@code --transport jdk|sluice [--port P]} and, for Sluice, the device flags.
     * @throws IOException if it cannot listen.
     */
    public static void main(final String[] args) throws IOException
    {
        final int port = Integer.parseInt(Transport.value(args, "--port", "8080"));
        try (Transport transport = Transport.fromArgs(args);
             Transport.Listener listener = transport.listen(port))
        {
            Runtime.getRuntime().addShutdownHook(new Thread(transport::close));
            System.out.println("http: listening on port " + port + " (" + transport.getClass().getSimpleName() + ")");
            while (true)
            {
                final Transport.Connection connection = listener.accept();
                transport.start(connection, () -> serve(connection)); // Sluice: on the connection's shard
            }
        }
    }

    /**
     * Answers requests until the client closes or asks to close.
     *
     * @param connection the connection.
     */
    static void serve(final Transport.Connection connection)
    {
        try (connection)
        {
            final InputStream in = connection.in();
            final OutputStream out = connection.out();
            final byte[] head = new byte[MAX_HEAD_BYTES];
            int filled = 0;
            while (true)
            {
                final int end = headEnd(head, filled);
                if (end < 0)
                {
                    if (filled == head.length)
                    {
                        return; // header section too large: give up on this client
                    }
                    final int n = in.read(head, filled, head.length - filled);
                    if (n < 0)
                    {
                        return;
                    }
                    filled += n;
                    continue;
                }
                final String text = new String(head, 0, end, StandardCharsets.US_ASCII);
                final String lower = text.toLowerCase(java.util.Locale.ROOT);
                final boolean http10 = text.contains(" HTTP/1.0\r\n");
                final boolean close = lower.contains("\r\nconnection: close") ||
                    (http10 && !lower.contains("\r\nconnection: keep-alive"));
                long bodyBytes = contentLength(lower);
                int rest = filled - end;
                final int inBuffer = (int)Math.min(rest, bodyBytes);
                bodyBytes -= inBuffer;
                System.arraycopy(head, end + inBuffer, head, 0, rest - inBuffer);
                filled = rest - inBuffer;
                while (bodyBytes > 0)
                {
                    final long skipped = in.skip(bodyBytes);
                    if (skipped <= 0 && in.read() < 0)
                    {
                        return;
                    }
                    bodyBytes -= Math.max(skipped, 1);
                }
                out.write(close ? RESPONSE_CLOSE : RESPONSE);
                if (close)
                {
                    return;
                }
            }
        }
        catch (final IOException ex)
        {
            // the client reset or went away
        }
    }

    private static int headEnd(final byte[] b, final int length)
    {
        for (int i = 0; i + 3 < length; i++)
        {
            if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n')
            {
                return i + 4;
            }
        }
        return -1;
    }

    private static long contentLength(final String lowerHead)
    {
        final int at = lowerHead.indexOf("\r\ncontent-length:");
        if (at < 0)
        {
            return 0;
        }
        final int end = lowerHead.indexOf("\r\n", at + 2);
        try
        {
            return Long.parseLong(lowerHead.substring(at + 17, end).trim());
        }
        catch (final NumberFormatException ex)
        {
            return 0;
        }
    }
}

package dev.sluice.bench.netty;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * A load generator's HTTP/1.1 client in the way wrk works: the request is encoded once and copied into a
 * pooled buffer per send, and responses are recognised by a small incremental parser (status line, a
 * {@code Content-Length} header, the end of the headers, that many body bytes) instead of Netty's
 * {@code HttpClientCodec} and {@code HttpObjectAggregator}, so the client costs little next to the server it
 * loads. One request outstanding per connection: the next one leaves when a whole response arrived. The same
 * code loads both transports in {@link NettyTransportBench}.
 *
 * <p>A response that is not {@code HTTP/1.1 200} or has no {@code Content-Length} is counted in
 * {@code malformed} and closes the connection (the bench reports the count; it must be 0).
 */
final class RawHttpRequester extends ChannelInboundHandlerAdapter
{
    private static final int MAX_HEADER_BYTES = 1024;
    private static final byte[] STATUS_OK = "HTTP/1.1 200 ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CONTENT_LENGTH = "content-length:".getBytes(StandardCharsets.US_ASCII);

    private final byte[] request;
    private final AtomicLong responses;
    private final AtomicLong malformed;
    private final byte[] header = new byte[MAX_HEADER_BYTES];
    private int headerLength;
    private int bodyRemaining = -1; // -1: reading the status line and headers

    RawHttpRequester(final String host, final AtomicLong responses, final AtomicLong malformed)
    {
        this.request = ("GET / HTTP/1.1\r\nhost: " + host + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        this.responses = responses;
        this.malformed = malformed;
    }

    @Override
    public void channelActive(final ChannelHandlerContext ctx)
    {
        send(ctx);
    }

    @Override
    public void channelRead(final ChannelHandlerContext ctx, final Object msg)
    {
        final ByteBuf in = (ByteBuf)msg;
        try
        {
            int index = in.readerIndex();
            final int end = in.writerIndex();
            while (index < end)
            {
                if (bodyRemaining < 0)
                {
                    final byte b = in.getByte(index++);
                    if (headerLength == MAX_HEADER_BYTES)
                    {
                        fail(ctx);
                        return;
                    }
                    header[headerLength++] = b;
                    if (b == '\n' && headerLength >= 4 && header[headerLength - 2] == '\r' &&
                        header[headerLength - 3] == '\n' && header[headerLength - 4] == '\r')
                    {
                        bodyRemaining = contentLength();
                        headerLength = 0;
                        if (bodyRemaining < 0)
                        {
                            fail(ctx);
                            return;
                        }
                    }
                }
                else
                {
                    final int n = Math.min(bodyRemaining, end - index);
                    index += n;
                    bodyRemaining -= n;
                }
                if (bodyRemaining == 0)
                {
                    bodyRemaining = -1;
                    responses.incrementAndGet();
                    send(ctx);
                }
            }
        }
        finally
        {
            in.release();
        }
    }

    private void send(final ChannelHandlerContext ctx)
    {
        ctx.writeAndFlush(ctx.alloc().directBuffer(request.length).writeBytes(request), ctx.voidPromise());
    }

    private void fail(final ChannelHandlerContext ctx)
    {
        malformed.incrementAndGet();
        ctx.close();
    }

    // the Content-Length of the headers in header[0, headerLength) after a 200 status line, or -1
    private int contentLength()
    {
        if (!startsWith(0, STATUS_OK))
        {
            return -1;
        }
        for (int i = 0; i < headerLength - 1; i++)
        {
            if (header[i] == '\r' && header[i + 1] == '\n')
            {
                final int lineStart = i + 2;
                if (startsWithIgnoreCase(lineStart, CONTENT_LENGTH))
                {
                    return parseDecimal(lineStart + CONTENT_LENGTH.length);
                }
            }
        }
        return -1;
    }

    private int parseDecimal(final int from)
    {
        int i = from;
        while (i < headerLength && header[i] == ' ')
        {
            i++;
        }
        int value = 0;
        int digits = 0;
        while (i < headerLength && header[i] >= '0' && header[i] <= '9' && digits < 9)
        {
            value = value * 10 + (header[i++] - '0');
            digits++;
        }
        return digits > 0 && i < headerLength && header[i] == '\r' ? value : -1;
    }

    private boolean startsWith(final int at, final byte[] prefix)
    {
        if (at + prefix.length > headerLength)
        {
            return false;
        }
        for (int i = 0; i < prefix.length; i++)
        {
            if (header[at + i] != prefix[i])
            {
                return false;
            }
        }
        return true;
    }

    private boolean startsWithIgnoreCase(final int at, final byte[] lowerPrefix)
    {
        if (at + lowerPrefix.length > headerLength)
        {
            return false;
        }
        for (int i = 0; i < lowerPrefix.length; i++)
        {
            final int c = header[at + i];
            if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != lowerPrefix[i])
            {
                return false;
            }
        }
        return true;
    }
}

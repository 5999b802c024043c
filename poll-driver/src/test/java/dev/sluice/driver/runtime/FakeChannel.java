package dev.sluice.driver.runtime;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

import dev.sluice.core.channel.TcpChannel;
import dev.sluice.core.channel.TcpChannelHandler;
import dev.sluice.core.tcp.TcpCloseReason;
import dev.sluice.core.tcp.TcpState;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/** A channel without a network: records what the application sends, consumes and closes. */
final class FakeChannel implements TcpChannel
{
    final ByteArrayOutputStream sent = new ByteArrayOutputStream();
    TcpState state = TcpState.ESTABLISHED;
    TcpChannelHandler handler;
    Object attachment;
    int consumed;
    int held;
    boolean closeCalled;

    /** Delivers bytes to the handler as the stack would. */
    void deliver(final String text)
    {
        final byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        final int taken = handler.onData(this, new UnsafeBuffer(bytes), 0, bytes.length);
        held += bytes.length - taken;
    }

    String sentText()
    {
        return sent.toString(StandardCharsets.US_ASCII);
    }

    @Override
    public long id()
    {
        return 1;
    }

    @Override
    public int send(final DirectBuffer source, final int offset, final int length)
    {
        if (closeCalled)
        {
            return NOT_OPEN;
        }
        final byte[] bytes = new byte[length];
        source.getBytes(offset, bytes);
        sent.writeBytes(bytes);
        return length;
    }

    @Override
    public void flush()
    {
    }

    @Override
    public void consume(final int bytes)
    {
        consumed += bytes;
        held -= Math.min(held, bytes);
    }

    @Override
    public boolean shutdownOutput()
    {
        return close();
    }

    @Override
    public boolean close()
    {
        final boolean first = !closeCalled;
        closeCalled = true;
        return first;
    }

    @Override
    public void abort()
    {
        state = TcpState.CLOSED;
    }

    @Override
    public TcpState state()
    {
        return state;
    }

    @Override
    public boolean isOpen()
    {
        return state != TcpState.CLOSED;
    }

    @Override
    public boolean isOutputShutdown()
    {
        return closeCalled;
    }

    @Override
    public TcpCloseReason closeReason()
    {
        return null;
    }

    @Override
    public int unreadBytes()
    {
        return held;
    }

    @Override
    public int sendQueueBytes()
    {
        return 0;
    }

    @Override
    public int writableBytes()
    {
        return Integer.MAX_VALUE;
    }

    @Override
    public boolean isWritable()
    {
        return true;
    }

    @Override
    public int localIp()
    {
        return 0x0A000001;
    }

    @Override
    public int localPort()
    {
        return 80;
    }

    @Override
    public int remoteIp()
    {
        return 0x0A000002;
    }

    @Override
    public int remotePort()
    {
        return 40_000;
    }

    @Override
    public Object attachment()
    {
        return attachment;
    }

    @Override
    public void attach(final Object attachment)
    {
        this.attachment = attachment;
    }

    @Override
    public TcpChannelHandler handler()
    {
        return handler;
    }

    @Override
    public void handler(final TcpChannelHandler handler)
    {
        this.handler = handler;
    }

    @Override
    public void noDelay(final boolean noDelay)
    {
    }

    @Override
    public void keepAlive(final boolean enabled)
    {
    }

    @Override
    public boolean inShardThread()
    {
        return true;
    }
}

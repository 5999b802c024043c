package dev.sluice.netty;

import dev.sluice.core.channel.TcpChannel;
import dev.sluice.core.channel.TcpChannelHandler;
import dev.sluice.core.tcp.TcpCloseReason;
import org.agrona.DirectBuffer;

/**
 * The one stack handler of a shard's Netty connections: each callback goes to the {@link SluiceSocketChannel}
 * in the connection's attachment. A connection the Netty channel already let go of (closed, so its attachment
 * was cleared) has its late data discarded.
 */
class ChannelEvents implements TcpChannelHandler
{
    @Override
    public void onEstablished(final TcpChannel channel)
    {
        if (channel.attachment() instanceof SluiceSocketChannel netty)
        {
            netty.onEstablished();
        }
    }

    @Override
    public int onData(final TcpChannel channel, final DirectBuffer buffer, final int offset, final int length)
    {
        if (channel.attachment() instanceof SluiceSocketChannel netty)
        {
            return netty.onData(buffer, offset, length);
        }
        return length;
    }

    @Override
    public void onWritable(final TcpChannel channel)
    {
        if (channel.attachment() instanceof SluiceSocketChannel netty)
        {
            netty.onWritable();
        }
    }

    @Override
    public void onPeerClosed(final TcpChannel channel)
    {
        if (channel.attachment() instanceof SluiceSocketChannel netty)
        {
            netty.onPeerClosed();
        }
    }

    @Override
    public void onClosed(final TcpChannel channel, final TcpCloseReason reason)
    {
        if (channel.attachment() instanceof SluiceSocketChannel netty)
        {
            channel.attach(null);
            netty.onStackClosed(reason);
        }
    }
}

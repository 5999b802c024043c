package dev.sluice.netty;

import java.util.Map;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.MessageSizeEstimator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.ServerSocketChannelConfig;

import static io.netty.channel.ChannelOption.SO_BACKLOG;
import static io.netty.channel.ChannelOption.SO_RCVBUF;
import static io.netty.channel.ChannelOption.SO_REUSEADDR;

/**
 * Options of a {@link SluiceServerSocketChannel}: {@code SO_BACKLOG} bounds the listener's connections in
 * SYN-RECEIVED on each shard; {@code SO_RCVBUF} reads the stack's receive window limit (setting it is ignored:
 * windows are sized per stack); {@code SO_REUSEADDR} is accepted and ignored.
 */
public final class SluiceServerSocketChannelConfig extends DefaultChannelConfig implements ServerSocketChannelConfig
{
    private final SluiceServerSocketChannel channel;
    private volatile int backlog = 128;

    SluiceServerSocketChannelConfig(final SluiceServerSocketChannel channel)
    {
        super(channel);
        this.channel = channel;
    }

    @Override
    public Map<ChannelOption<?>, Object> getOptions()
    {
        return getOptions(super.getOptions(), SO_RCVBUF, SO_REUSEADDR, SO_BACKLOG);
    }

    @SuppressWarnings("unchecked")
    @Override
    public <T> T getOption(final ChannelOption<T> option)
    {
        if (option == SO_RCVBUF)
        {
            return (T)Integer.valueOf(getReceiveBufferSize());
        }
        if (option == SO_REUSEADDR)
        {
            return (T)Boolean.valueOf(isReuseAddress());
        }
        if (option == SO_BACKLOG)
        {
            return (T)Integer.valueOf(getBacklog());
        }
        return super.getOption(option);
    }

    @Override
    public <T> boolean setOption(final ChannelOption<T> option, final T value)
    {
        validate(option, value);
        if (option == SO_RCVBUF)
        {
            setReceiveBufferSize((Integer)value);
        }
        else if (option == SO_REUSEADDR)
        {
            setReuseAddress((Boolean)value);
        }
        else if (option == SO_BACKLOG)
        {
            setBacklog((Integer)value);
        }
        else
        {
            return super.setOption(option, value);
        }
        return true;
    }

    @Override
    public int getBacklog()
    {
        return backlog;
    }

    @Override
    public SluiceServerSocketChannelConfig setBacklog(final int backlog)
    {
        if (backlog < 1)
        {
            throw new IllegalArgumentException("backlog must be >= 1, got " + backlog);
        }
        this.backlog = backlog;
        return this;
    }

    @Override
    public boolean isReuseAddress()
    {
        return true;
    }

    @Override
    public SluiceServerSocketChannelConfig setReuseAddress(final boolean reuseAddress)
    {
        return this;
    }

    @Override
    public int getReceiveBufferSize()
    {
        return channel.stackConfig().receiveBufferBytes();
    }

    @Override
    public SluiceServerSocketChannelConfig setReceiveBufferSize(final int receiveBufferSize)
    {
        return this;
    }

    @Override
    public SluiceServerSocketChannelConfig setPerformancePreferences(
        final int connectionTime, final int latency, final int bandwidth)
    {
        return this;
    }

    @Override
    public SluiceServerSocketChannelConfig setConnectTimeoutMillis(final int connectTimeoutMillis)
    {
        super.setConnectTimeoutMillis(connectTimeoutMillis);
        return this;
    }

    @Override
    @Deprecated
    public SluiceServerSocketChannelConfig setMaxMessagesPerRead(final int maxMessagesPerRead)
    {
        super.setMaxMessagesPerRead(maxMessagesPerRead);
        return this;
    }

    @Override
    public SluiceServerSocketChannelConfig setWriteSpinCount(final int writeSpinCount)
    {
        super.setWriteSpinCount(writeSpinCount);
        return this;
    }

    @Override
    public SluiceServerSocketChannelConfig setAllocator(final ByteBufAllocator allocator)
    {
        super.setAllocator(allocator);
        return this;
    }

    @Override
    public SluiceServerSocketChannelConfig setRecvByteBufAllocator(final RecvByteBufAllocator allocator)
    {
        super.setRecvByteBufAllocator(allocator);
        return this;
    }

    @Override
    public SluiceServerSocketChannelConfig setAutoRead(final boolean autoRead)
    {
        super.setAutoRead(autoRead);
        return this;
    }

    @Override
    public SluiceServerSocketChannelConfig setWriteBufferHighWaterMark(final int writeBufferHighWaterMark)
    {
        super.setWriteBufferHighWaterMark(writeBufferHighWaterMark);
        return this;
    }

    @Override
    public SluiceServerSocketChannelConfig setWriteBufferLowWaterMark(final int writeBufferLowWaterMark)
    {
        super.setWriteBufferLowWaterMark(writeBufferLowWaterMark);
        return this;
    }

    @Override
    public SluiceServerSocketChannelConfig setWriteBufferWaterMark(final WriteBufferWaterMark writeBufferWaterMark)
    {
        super.setWriteBufferWaterMark(writeBufferWaterMark);
        return this;
    }

    @Override
    public SluiceServerSocketChannelConfig setMessageSizeEstimator(final MessageSizeEstimator estimator)
    {
        super.setMessageSizeEstimator(estimator);
        return this;
    }
}

package dev.sluice.netty;

import java.util.Map;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.MessageSizeEstimator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannelConfig;

import static io.netty.channel.ChannelOption.ALLOW_HALF_CLOSURE;
import static io.netty.channel.ChannelOption.IP_TOS;
import static io.netty.channel.ChannelOption.SO_KEEPALIVE;
import static io.netty.channel.ChannelOption.SO_LINGER;
import static io.netty.channel.ChannelOption.SO_RCVBUF;
import static io.netty.channel.ChannelOption.SO_REUSEADDR;
import static io.netty.channel.ChannelOption.SO_SNDBUF;
import static io.netty.channel.ChannelOption.TCP_NODELAY;

/**
 * Options of a {@link SluiceSocketChannel}, mapped onto the Sluice connection:
 * <ul>
 * <li>{@code TCP_NODELAY}: Nagle's algorithm off/on for this connection (MUST-17); default true, as in Netty.</li>
 * <li>{@code SO_KEEPALIVE}: keep-alive probes for this connection (MUST-24/25; default off).</li>
 * <li>{@code SO_LINGER}: 0 makes {@code close()} an ABORT (RST, queued data dropped); any other value is a
 *     normal close (FIN after the queued data, never blocking).</li>
 * <li>{@code ALLOW_HALF_CLOSURE}: the peer's FIN shuts our input down instead of closing the channel.</li>
 * <li>{@code SO_SNDBUF}/{@code SO_RCVBUF}: read the shard's per-connection window limits (the stack's
 *     {@code --send-buffer}/{@code --receive-buffer}); setting them is accepted and ignored, since Sluice sizes
 *     windows per stack, not per connection (memory follows data, not connections).</li>
 * <li>{@code SO_REUSEADDR}, {@code IP_TOS}: accepted and ignored (no TIME-WAIT bind conflict per process;
 *     the stack sends TOS 0).</li>
 * </ul>
 */
public final class SluiceSocketChannelConfig extends DefaultChannelConfig implements SocketChannelConfig
{
    private final SluiceSocketChannel channel;
    private volatile boolean tcpNoDelay = true;
    private volatile boolean keepAlive;
    private volatile int soLinger = -1;
    private volatile boolean allowHalfClosure;

    SluiceSocketChannelConfig(final SluiceSocketChannel channel)
    {
        super(channel);
        this.channel = channel;
    }

    @Override
    public Map<ChannelOption<?>, Object> getOptions()
    {
        return getOptions(super.getOptions(), SO_RCVBUF, SO_SNDBUF, TCP_NODELAY, SO_KEEPALIVE, SO_REUSEADDR,
            SO_LINGER, IP_TOS, ALLOW_HALF_CLOSURE);
    }

    @SuppressWarnings("unchecked")
    @Override
    public <T> T getOption(final ChannelOption<T> option)
    {
        if (option == SO_RCVBUF)
        {
            return (T)Integer.valueOf(getReceiveBufferSize());
        }
        if (option == SO_SNDBUF)
        {
            return (T)Integer.valueOf(getSendBufferSize());
        }
        if (option == TCP_NODELAY)
        {
            return (T)Boolean.valueOf(isTcpNoDelay());
        }
        if (option == SO_KEEPALIVE)
        {
            return (T)Boolean.valueOf(isKeepAlive());
        }
        if (option == SO_REUSEADDR)
        {
            return (T)Boolean.valueOf(isReuseAddress());
        }
        if (option == SO_LINGER)
        {
            return (T)Integer.valueOf(getSoLinger());
        }
        if (option == IP_TOS)
        {
            return (T)Integer.valueOf(getTrafficClass());
        }
        if (option == ALLOW_HALF_CLOSURE)
        {
            return (T)Boolean.valueOf(isAllowHalfClosure());
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
        else if (option == SO_SNDBUF)
        {
            setSendBufferSize((Integer)value);
        }
        else if (option == TCP_NODELAY)
        {
            setTcpNoDelay((Boolean)value);
        }
        else if (option == SO_KEEPALIVE)
        {
            setKeepAlive((Boolean)value);
        }
        else if (option == SO_REUSEADDR)
        {
            setReuseAddress((Boolean)value);
        }
        else if (option == SO_LINGER)
        {
            setSoLinger((Integer)value);
        }
        else if (option == IP_TOS)
        {
            setTrafficClass((Integer)value);
        }
        else if (option == ALLOW_HALF_CLOSURE)
        {
            setAllowHalfClosure((Boolean)value);
        }
        else
        {
            return super.setOption(option, value);
        }
        return true;
    }

    @Override
    public boolean isTcpNoDelay()
    {
        return tcpNoDelay;
    }

    @Override
    public SluiceSocketChannelConfig setTcpNoDelay(final boolean tcpNoDelay)
    {
        this.tcpNoDelay = tcpNoDelay;
        channel.applyOptions();
        return this;
    }

    @Override
    public int getSoLinger()
    {
        return soLinger;
    }

    @Override
    public SluiceSocketChannelConfig setSoLinger(final int soLinger)
    {
        this.soLinger = soLinger;
        return this;
    }

    @Override
    public int getSendBufferSize()
    {
        return channel.stackConfig().sendBufferBytes();
    }

    @Override
    public SluiceSocketChannelConfig setSendBufferSize(final int sendBufferSize)
    {
        return this;
    }

    @Override
    public int getReceiveBufferSize()
    {
        return channel.stackConfig().receiveBufferBytes();
    }

    @Override
    public SluiceSocketChannelConfig setReceiveBufferSize(final int receiveBufferSize)
    {
        return this;
    }

    @Override
    public boolean isKeepAlive()
    {
        return keepAlive;
    }

    @Override
    public SluiceSocketChannelConfig setKeepAlive(final boolean keepAlive)
    {
        this.keepAlive = keepAlive;
        channel.applyOptions();
        return this;
    }

    @Override
    public int getTrafficClass()
    {
        return 0;
    }

    @Override
    public SluiceSocketChannelConfig setTrafficClass(final int trafficClass)
    {
        return this;
    }

    @Override
    public boolean isReuseAddress()
    {
        return true;
    }

    @Override
    public SluiceSocketChannelConfig setReuseAddress(final boolean reuseAddress)
    {
        return this;
    }

    @Override
    public SluiceSocketChannelConfig setPerformancePreferences(
        final int connectionTime, final int latency, final int bandwidth)
    {
        return this;
    }

    @Override
    public boolean isAllowHalfClosure()
    {
        return allowHalfClosure;
    }

    @Override
    public SluiceSocketChannelConfig setAllowHalfClosure(final boolean allowHalfClosure)
    {
        this.allowHalfClosure = allowHalfClosure;
        return this;
    }

    @Override
    protected void autoReadCleared()
    {
        channel.clearReadRequest();
    }

    @Override
    public SluiceSocketChannelConfig setConnectTimeoutMillis(final int connectTimeoutMillis)
    {
        super.setConnectTimeoutMillis(connectTimeoutMillis);
        return this;
    }

    @Override
    @Deprecated
    public SluiceSocketChannelConfig setMaxMessagesPerRead(final int maxMessagesPerRead)
    {
        super.setMaxMessagesPerRead(maxMessagesPerRead);
        return this;
    }

    @Override
    public SluiceSocketChannelConfig setWriteSpinCount(final int writeSpinCount)
    {
        super.setWriteSpinCount(writeSpinCount);
        return this;
    }

    @Override
    public SluiceSocketChannelConfig setAllocator(final ByteBufAllocator allocator)
    {
        super.setAllocator(allocator);
        return this;
    }

    @Override
    public SluiceSocketChannelConfig setRecvByteBufAllocator(final RecvByteBufAllocator allocator)
    {
        super.setRecvByteBufAllocator(allocator);
        return this;
    }

    @Override
    public SluiceSocketChannelConfig setAutoRead(final boolean autoRead)
    {
        super.setAutoRead(autoRead);
        return this;
    }

    @Override
    public SluiceSocketChannelConfig setAutoClose(final boolean autoClose)
    {
        super.setAutoClose(autoClose);
        return this;
    }

    @Override
    public SluiceSocketChannelConfig setWriteBufferHighWaterMark(final int writeBufferHighWaterMark)
    {
        super.setWriteBufferHighWaterMark(writeBufferHighWaterMark);
        return this;
    }

    @Override
    public SluiceSocketChannelConfig setWriteBufferLowWaterMark(final int writeBufferLowWaterMark)
    {
        super.setWriteBufferLowWaterMark(writeBufferLowWaterMark);
        return this;
    }

    @Override
    public SluiceSocketChannelConfig setWriteBufferWaterMark(final WriteBufferWaterMark writeBufferWaterMark)
    {
        super.setWriteBufferWaterMark(writeBufferWaterMark);
        return this;
    }

    @Override
    public SluiceSocketChannelConfig setMessageSizeEstimator(final MessageSizeEstimator estimator)
    {
        super.setMessageSizeEstimator(estimator);
        return this;
    }
}

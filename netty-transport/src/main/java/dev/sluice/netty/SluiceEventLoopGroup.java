package dev.sluice.netty;

import dev.sluice.driver.runtime.SluiceConfig;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * One Netty event loop per Sluice shard, each a {@link SluiceIoHandler} busy-polling its own rx/tx queue of the
 * port. The switch from NIO or epoll:
 * <pre>{@code
 * EventLoopGroup group = new SluiceEventLoopGroup(transport);  // was new MultiThreadIoEventLoopGroup(NioIoHandler.newFactory())
 * bootstrap.group(group).channel(SluiceServerSocketChannel.class); // was NioServerSocketChannel.class
 * }</pre>
 * Use the same group as parent and child group of a {@code ServerBootstrap}: a listening channel listens on
 * every shard, and an accepted channel must live on the event loop of the shard that owns its flow, which this
 * group's {@code register} ensures (a plain {@code MultiThreadIoEventLoopGroup} would pick a loop round-robin).
 * Shutting the group down gracefully closes every connection with a FIN during the quiet period, then stops
 * the shards and the port.
 */
public final class SluiceEventLoopGroup extends MultiThreadIoEventLoopGroup
{
    private final SluiceTransport transport;

    /**
     * @param transport the prepared port; one event loop per shard.
     */
    public SluiceEventLoopGroup(final SluiceTransport transport)
    {
        super(transport.shardCount(), new DefaultThreadFactory("sluice-netty", true),
            SluiceIoHandler.newFactory(transport));
        this.transport = transport;
    }

    /**
     * Starts the EAL and the configured device ({@code --dev}, {@code --ip}, {@code --cores}, TCP flags).
     *
     * @param config the Sluice settings.
     */
    public SluiceEventLoopGroup(final SluiceConfig config)
    {
        this(SluiceTransport.open(config));
    }

    /**
     * @return the port and shards this group drives.
     */
    public SluiceTransport transport()
    {
        return transport;
    }

    @Override
    public ChannelFuture register(final Channel channel)
    {
        final EventLoop owner = channel instanceof SluiceSocketChannel s ? s.ownerLoop() : null;
        return owner != null ? owner.register(channel) : super.register(channel);
    }

    @Override
    public ChannelFuture register(final ChannelPromise promise)
    {
        final Channel channel = promise.channel();
        final EventLoop owner = channel instanceof SluiceSocketChannel s ? s.ownerLoop() : null;
        return owner != null ? owner.register(promise) : super.register(promise);
    }
}

package dev.sluice.netty;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;

import dev.sluice.core.channel.TcpChannel;
import dev.sluice.core.tcp.TcpConfig;
import io.netty.channel.AbstractServerChannel;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.socket.ServerSocketChannel;

/**
 * A listening port on every shard of a {@link SluiceEventLoopGroup}: each shard accepts the connections whose
 * flow it owns (DESIGN.md, "A listener is registered on every shard"), and each accepted
 * {@link SluiceSocketChannel} is registered on the event loop of its shard, so its pipeline runs where its
 * packets are processed. The accepted channel reaches this channel's pipeline ({@code ServerBootstrap}'s
 * acceptor) once its handshake completed.
 *
 * <p>Accepting does not follow {@code read()}/{@code autoRead} of this channel: the stack answers SYNs itself
 * (with a per-shard backlog, {@code SO_BACKLOG}); closing the channel stops listening on every shard.
 */
public final class SluiceServerSocketChannel extends AbstractServerChannel implements ServerSocketChannel
{
    private static final TcpConfig DEFAULT_TCP = TcpConfig.builder().build();
    private static final long BIND_TIMEOUT_MS = 10_000;

    private final SluiceServerSocketChannelConfig config = new SluiceServerSocketChannelConfig(this);
    private SluiceIoHandler ioHandler;
    private final SluiceIoHandle handle = new SluiceIoHandle(this);
    private IoRegistration registration;
    private volatile boolean open = true;
    private volatile boolean listening;
    private volatile InetSocketAddress local;

    /** For {@code ServerBootstrap.channel(SluiceServerSocketChannel.class)}. */
    public SluiceServerSocketChannel()
    {
    }

    @Override
    public SluiceServerSocketChannelConfig config()
    {
        return config;
    }

    @Override
    public boolean isOpen()
    {
        return open;
    }

    @Override
    public boolean isActive()
    {
        return open && listening;
    }

    @Override
    public InetSocketAddress localAddress()
    {
        return (InetSocketAddress)super.localAddress();
    }

    @Override
    public InetSocketAddress remoteAddress()
    {
        return null;
    }

    @Override
    protected SocketAddress localAddress0()
    {
        return local;
    }

    @Override
    protected boolean isCompatible(final EventLoop loop)
    {
        return loop instanceof IoEventLoop ioLoop && ioLoop.isCompatible(SluiceIoHandle.class);
    }

    @Override
    protected void doRegister(final ChannelPromise promise)
    {
        ((IoEventLoop)eventLoop()).register(handle).addListener(f ->
        {
            if (f.isSuccess())
            {
                registration = (IoRegistration)f.getNow();
                ioHandler = registration.attachment();
                promise.setSuccess();
            }
            else
            {
                promise.setFailure(f.cause());
            }
        });
    }

    @Override
    protected void doDeregister()
    {
        if (registration != null)
        {
            registration.cancel();
        }
    }

    @Override
    protected void doBind(final SocketAddress localAddress) throws Exception
    {
        final InetSocketAddress requested = (InetSocketAddress)localAddress;
        final int port = requested.getPort();
        if (port == 0)
        {
            throw new IOException("Sluice listens on an explicit port (no ephemeral listening ports)");
        }
        final SluiceTransport transport = ioHandler.transport();
        final int backlog = config.getBacklog();
        for (int i = 0; i < transport.shardCount(); i++)
        {
            final SluiceIoHandler shard = transport.handler(i);
            final ShardListener listener = new ShardListener(shard);
            if (shard == ioHandler)
            {
                shard.tcp().listen(port, listener, backlog);
            }
            else
            {
                // the other shards listen on their own threads; they poll, so this waits microseconds
                shard.eventLoop().submit(() -> shard.tcp().listen(port, listener, backlog))
                    .get(BIND_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            }
        }
        local = SluiceSocketChannel.address(transport.config().ip(), port);
        listening = true;
    }

    @Override
    protected void doClose()
    {
        open = false;
        if (!listening)
        {
            return;
        }
        listening = false;
        final int port = local.getPort();
        final SluiceTransport transport = ioHandler.transport();
        for (int i = 0; i < transport.shardCount(); i++)
        {
            final SluiceIoHandler shard = transport.handler(i);
            if (shard == ioHandler)
            {
                shard.tcp().stopListening(port);
            }
            else if (!shard.eventLoop().isShutdown())
            {
                shard.eventLoop().execute(() -> shard.tcp().stopListening(port));
            }
        }
    }

    @Override
    protected void doBeginRead()
    {
        // the stack accepts on its own (SO_BACKLOG per shard)
    }

    @Override
    protected void doWrite(final ChannelOutboundBuffer in)
    {
        throw new UnsupportedOperationException();
    }


    TcpConfig stackConfig()
    {
        return ioHandler != null ? ioHandler.tcp().config() : DEFAULT_TCP;
    }

    /** Hands an established connection to this channel's pipeline, on this channel's event loop. */
    private void accepted(final SluiceSocketChannel child)
    {
        final EventLoop loop = eventLoop();
        if (loop.inEventLoop())
        {
            fireAccepted(child);
        }
        else
        {
            loop.execute(() -> fireAccepted(child));
        }
    }

    private void fireAccepted(final SluiceSocketChannel child)
    {
        if (!isActive())
        {
            // closed meanwhile: the connection is closed on the thread of the shard that owns it
            final EventLoop owner = child.ownerLoop();
            if (owner.inEventLoop())
            {
                child.unsafe().closeForcibly();
            }
            else
            {
                owner.execute(() -> child.unsafe().closeForcibly());
            }
            return;
        }
        pipeline().fireChannelRead(child);
        pipeline().fireChannelReadComplete();
    }

    /** One shard's listener: accepts while the channel listens, creates the Netty channel at ESTABLISHED. */
    private final class ShardListener extends ChannelEvents
    {
        private final SluiceIoHandler shard;

        ShardListener(final SluiceIoHandler shard)
        {
            this.shard = shard;
        }

        @Override
        public boolean onAccept(final TcpChannel channel)
        {
            return listening;
        }

        @Override
        public void onEstablished(final TcpChannel channel)
        {
            final SluiceSocketChannel child = new SluiceSocketChannel(SluiceServerSocketChannel.this, shard, channel);
            channel.attach(child);
            channel.handler(shard.events());
            accepted(child);
        }
    }
}

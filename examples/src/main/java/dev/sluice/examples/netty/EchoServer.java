package dev.sluice.examples.netty;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;

/**
 * Netty's echo server on Sluice, epoll or NIO ({@code --transport}): every byte received is written back.
 *
 * <pre>
 * scripts/example netty-echo --transport sluice --dev net_tap0,iface=sl0 --ip 10.99.0.2/24 --listen 7
 * </pre>
 */
public final class EchoServer
{
    private EchoServer()
    {
    }

    /**
     * @param args {@code --transport sluice|epoll|nio} and the transport's flags.
     * @throws InterruptedException if interrupted while serving.
     */
    public static void main(final String[] args) throws InterruptedException
    {
        final Transport transport = Transport.fromArgs("echo", args);
        final EventLoopGroup group = transport.newGroup();
        try
        {
            final Channel channel = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannelClass())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childHandler(new EchoHandler())
                .bind(transport.listenPort()).sync().channel();
            Runtime.getRuntime().addShutdownHook(new Thread(() ->
                group.shutdownGracefully().syncUninterruptibly(), "netty-echo-shutdown"));
            System.out.println("netty-echo: ready transport=" + transport.name() + " port=" + transport.listenPort());
            channel.closeFuture().sync();
        }
        finally
        {
            group.shutdownGracefully();
        }
    }

    /** Netty's EchoServerHandler. */
    @ChannelHandler.Sharable
    static final class EchoHandler extends ChannelInboundHandlerAdapter
    {
        @Override
        public void channelRead(final ChannelHandlerContext ctx, final Object msg)
        {
            ctx.write(msg);
        }

        @Override
        public void channelReadComplete(final ChannelHandlerContext ctx)
        {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
        {
            ctx.close();
        }
    }
}

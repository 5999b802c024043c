package dev.sluice.examples.netty;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.CharsetUtil;

import static io.netty.handler.codec.http.HttpResponseStatus.OK;

/**
 * Netty's HTTP/1.1 "hello world" server, on Sluice, epoll or NIO ({@code --transport}). Every request gets
 * {@code Hello World} with keep-alive as the client asks (HTTP/1.1 keeps alive unless {@code Connection: close}).
 *
 * <pre>
 * scripts/example netty-http --transport sluice --dev net_tap0,iface=sl0 --ip 10.99.0.2/24 --listen 8080
 * scripts/example netty-http --transport epoll --listen 8080
 * </pre>
 */
public final class HttpHelloServer
{
    private static final byte[] CONTENT = "Hello World".getBytes(CharsetUtil.US_ASCII);

    private HttpHelloServer()
    {
    }

    /**
     * @param args {@code --transport sluice|epoll|nio} and the transport's flags.
     * @throws InterruptedException if interrupted while serving.
     */
    public static void main(final String[] args) throws InterruptedException
    {
        final Transport transport = Transport.fromArgs("http", args);
        final EventLoopGroup group = transport.newGroup();                       // the only two lines that
        try                                                                        // depend on the transport:
        {                                                                          // the group and the
            final ServerBootstrap b = new ServerBootstrap()                        // channel class
                .group(group)
                .channel(transport.serverChannelClass())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childHandler(new ChannelInitializer<SocketChannel>()
                {
                    @Override
                    protected void initChannel(final SocketChannel ch)
                    {
                        ch.pipeline().addLast(new HttpServerCodec());
                        ch.pipeline().addLast(new HttpServerExpectContinueHandler());
                        ch.pipeline().addLast(new HttpObjectAggregator(1 << 20));
                        ch.pipeline().addLast(new HelloHandler());
                    }
                });
            final Channel channel = b.bind(transport.listenPort()).sync().channel();
            Runtime.getRuntime().addShutdownHook(new Thread(() ->
                group.shutdownGracefully().syncUninterruptibly(), "netty-http-shutdown"));
            System.out.println("netty-http: ready transport=" + transport.name() + " port=" + transport.listenPort());
            channel.closeFuture().sync();
        }
        finally
        {
            group.shutdownGracefully();
        }
    }

    /** Answers every request with the same small body (Netty's HttpHelloWorldServerHandler, aggregated). */
    static final class HelloHandler extends SimpleChannelInboundHandler<FullHttpRequest>
    {
        @Override
        public void channelReadComplete(final ChannelHandlerContext ctx)
        {
            ctx.flush();
        }

        @Override
        protected void channelRead0(final ChannelHandlerContext ctx, final FullHttpRequest request)
        {
            final boolean keepAlive = HttpUtil.isKeepAlive(request);
            final ByteBuf body = Unpooled.wrappedBuffer(CONTENT);
            final FullHttpResponse response = new DefaultFullHttpResponse(request.protocolVersion(), OK, body);
            response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
            if (keepAlive)
            {
                if (!request.protocolVersion().isKeepAliveDefault())
                {
                    response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
                }
            }
            else
            {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            }
            final var f = ctx.write(response);
            if (!keepAlive)
            {
                f.addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
        {
            ctx.close();
        }
    }
}

package dev.sluice.bench.netty;

import java.lang.management.ManagementFactory;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import dev.sluice.bench.e2e.Affinity;
import dev.sluice.driver.runtime.SluiceConfig;
import dev.sluice.nativebindings.dpdk.Eal;
import dev.sluice.nativebindings.dpdk.EthPort;
import dev.sluice.nativebindings.dpdk.RingPorts;
import dev.sluice.netty.SluiceEventLoopGroup;
import dev.sluice.netty.SluiceServerSocketChannel;
import dev.sluice.netty.SluiceSocketChannel;
import dev.sluice.netty.SluiceTransport;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import org.HdrHistogram.Histogram;

/**
 * Netty-on-Sluice beside Netty-on-epoll, the same pipelines on both: an HTTP/1.1 hello server
 * ({@code HttpServerCodec}, {@code HttpObjectAggregator}, a {@code FullHttpResponse} per request, keep-alive)
 * loaded by 64 keep-alive client connections (one request outstanding each), and a 64-byte echo ping-pong on
 * one connection (round-trip p50/p99). The HTTP rate is measured twice: with a wrk-like client
 * ({@link RawHttpRequester}: the request encoded once, a small response parser), the headline, because with
 * Netty's {@code HttpClientCodec} + {@code HttpObjectAggregator} the client loop costs more per request than the
 * server it loads and Netty-on-Sluice measures its client; then with that codec client. Sluice: server and
 * client are two shards (one event loop each) over a crossed net_ring pair in this JVM; epoll: one server and
 * one client event loop over kernel loopback; both transports' client loop on CPU 0 and server loop on CPU 1.
 * Also reports the bytes allocated per request by the server's event loop thread (Netty's own allocations
 * included: the codec's request and response objects).
 *
 * <pre>java ... dev.sluice.bench.netty.NettyTransportBench [seconds [epoll|sluice]]</pre>
 * (the second argument runs one transport alone, for profiling; the comparison needs both in one run).
 */
public final class NettyTransportBench
{
    private static final int CONNECTIONS = 64;
    private static final int HTTP_PORT = 8080;
    private static final int ECHO_PORT = 7007;
    private static final int CLIENT_CPU = 0;
    private static final int SERVER_CPU = 1;
    /** {@code -Dsluice.bench.netty.pin=false} leaves both loops to the scheduler (for an A/B of the pinning). */
    private static final boolean PIN = Boolean.parseBoolean(System.getProperty("sluice.bench.netty.pin", "true"));

    private NettyTransportBench()
    {
    }

    /**
     * @param args optional measurement seconds per run (default 5).
     * @throws Exception on failure.
     */
    public static void main(final String[] args) throws Exception
    {
        final int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        final String only = args.length > 1 ? args[1] : "";
        if (!only.isEmpty())
        {
            final Result r = "epoll".equals(only) ? runEpoll(seconds) : runSluice(seconds);
            print(only, r);
            json(only, r, seconds);
            System.exit(0);
        }
        final Result epoll = runEpoll(seconds);
        final Result sluice = runSluice(seconds);
        System.out.printf("%-8s %14s %10s %10s %14s %16s %14s%n", "netty on", "http req/s", "p50 us", "p99 us",
            "B/req (loop)", "codec cl. req/s", "B/req (loop)");
        print("epoll", epoll);
        print("sluice", sluice);
        System.out.printf("sluice/epoll: request rate %.2fx (codec client %.2fx), p99 %.2fx%n",
            sluice.requestsPerSecond / epoll.requestsPerSecond,
            sluice.codecRequestsPerSecond / epoll.codecRequestsPerSecond, sluice.p99Us / epoll.p99Us);
        json("epoll", epoll, seconds); // for scripts/bench --netty
        json("sluice", sluice, seconds);
        System.exit(0);
    }

    private static void print(final String name, final Result r)
    {
        System.out.printf("%-8s %14.0f %10.1f %10.1f %14.0f %16.0f %14.0f%s%n", name, r.requestsPerSecond, r.p50Us,
            r.p99Us, r.bytesPerRequest, r.codecRequestsPerSecond, r.codecBytesPerRequest,
            r.malformed == 0 ? "" : "  MALFORMED RESPONSES: " + r.malformed);
    }

    private static void json(final String transport, final Result r, final int seconds)
    {
        System.out.printf(java.util.Locale.ROOT, "{\"transport\":\"%s\",\"seconds\":%d,\"requestsPerSecond\":%.1f," +
            "\"p50Us\":%.2f,\"p99Us\":%.2f,\"loopBytesPerRequest\":%.1f,\"codecClientRequestsPerSecond\":%.1f," +
            "\"codecClientLoopBytesPerRequest\":%.1f,\"malformedResponses\":%d}%n", transport, seconds,
            r.requestsPerSecond, r.p50Us, r.p99Us, r.bytesPerRequest, r.codecRequestsPerSecond, r.codecBytesPerRequest,
            r.malformed);
    }

    /**
     * One transport's figures: the HTTP rate and the server loop's bytes per request with the wrk-like client
     * (the headline) and with Netty's codec client, the ping-pong percentiles, and responses the raw client
     * could not parse (must be 0).
     */
    record Result(double requestsPerSecond, double p50Us, double p99Us, double bytesPerRequest,
        double codecRequestsPerSecond, double codecBytesPerRequest, long malformed)
    {
    }

    private static Result runEpoll(final int seconds) throws Exception
    {
        final EventLoopGroup server = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        final EventLoopGroup client = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try
        {
            return run(server, EpollServerSocketChannel.class, client, EpollSocketChannel.class, "127.0.0.1",
                seconds);
        }
        finally
        {
            client.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
            server.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
        }
    }

    private static Result runSluice(final int seconds) throws Exception
    {
        final Eal eal = Eal.init(Eal.DEFAULT_ARGS);
        final int[] ports = RingPorts.createCrossedPair("net_ring_nba", "net_ring_nbb", 16384);
        final EventLoopGroup server = new SluiceEventLoopGroup(SluiceTransport.prepare(eal, EthPort.of(ports[0]),
            config("10.93.0.1")));
        final EventLoopGroup client = new SluiceEventLoopGroup(SluiceTransport.prepare(eal, EthPort.of(ports[1]),
            config("10.93.0.2")));
        try
        {
            return run(server, SluiceServerSocketChannel.class, client, SluiceSocketChannel.class, "10.93.0.1",
                seconds);
        }
        finally
        {
            client.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
            server.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
        }
    }

    private static SluiceConfig config(final String ip)
    {
        return SluiceConfig.parse(("http --dev net_ring_x --ip " + ip + "/24 --listen 1 --idle spin").split(" "));
    }

    private static Result run(
        final EventLoopGroup serverGroup, final Class<? extends ServerChannel> serverClass,
        final EventLoopGroup clientGroup, final Class<? extends Channel> clientClass, final String host,
        final int seconds) throws Exception
    {
        // the same CPUs for both transports, as the other end-to-end benches: client loop on 0, server loop on 1
        // (unpinned, a shared machine's scheduler may stack both busy loops on one CPU)
        pin(serverGroup, SERVER_CPU);
        pin(clientGroup, CLIENT_CPU);
        final AtomicReference<Thread> serverThread = new AtomicReference<>();
        final Channel http = new ServerBootstrap().group(serverGroup).channel(serverClass)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(new ChannelInitializer<Channel>()
            {
                @Override
                protected void initChannel(final Channel ch)
                {
                    serverThread.compareAndSet(null, Thread.currentThread());
                    ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 16), new Hello());
                }
            }).bind(HTTP_PORT).sync().channel();
        final Channel echo = new ServerBootstrap().group(serverGroup).channel(serverClass)
            .childOption(ChannelOption.TCP_NODELAY, true).childHandler(new Echo()).bind(ECHO_PORT).sync().channel();

        // HTTP: 64 keep-alive connections, one request outstanding each; first loaded by a wrk-like client, then
        // by Netty's own HttpClientCodec client (which costs the client loop more than the server it loads)
        final AtomicLong malformed = new AtomicLong();
        final HttpRate raw = http(clientGroup, clientClass, host, seconds, serverThread, malformed, true);
        final HttpRate codec = http(clientGroup, clientClass, host, seconds, serverThread, malformed, false);

        // ping-pong: one connection, 64 bytes, one message in flight
        final Histogram rtt = new Histogram(TimeUnit.SECONDS.toNanos(1), 3);
        final PingPong pingPong = new PingPong(rtt, seconds);
        final Channel ping = new Bootstrap().group(clientGroup).channel(clientClass)
            .option(ChannelOption.TCP_NODELAY, true).handler(pingPong).connect(host, ECHO_PORT).sync().channel();
        pingPong.done.await(seconds * 3L + 10, TimeUnit.SECONDS);
        ping.close().sync();
        http.close().sync();
        echo.close().sync();
        return new Result(raw.requestsPerSecond, rtt.getValueAtPercentile(50) / 1e3,
            rtt.getValueAtPercentile(99) / 1e3, raw.loopBytesPerRequest, codec.requestsPerSecond,
            codec.loopBytesPerRequest, malformed.get());
    }

    private static void pin(final EventLoopGroup group, final int cpu) throws Exception
    {
        if (PIN && Runtime.getRuntime().availableProcessors() > Math.max(SERVER_CPU, CLIENT_CPU))
        {
            group.next().submit(() -> Affinity.pin(cpu)).sync(); // one event loop per group here
        }
    }

    record HttpRate(double requestsPerSecond, double loopBytesPerRequest)
    {
    }

    private static HttpRate http(
        final EventLoopGroup clientGroup, final Class<? extends Channel> clientClass, final String host,
        final int seconds, final AtomicReference<Thread> serverThread, final AtomicLong malformed,
        final boolean rawClient) throws Exception
    {
        final AtomicLong responses = new AtomicLong();
        final Bootstrap httpClient = new Bootstrap().group(clientGroup).channel(clientClass)
            .option(ChannelOption.TCP_NODELAY, true)
            .handler(new ChannelInitializer<Channel>()
            {
                @Override
                protected void initChannel(final Channel ch)
                {
                    if (rawClient)
                    {
                        ch.pipeline().addLast(new RawHttpRequester(host, responses, malformed));
                    }
                    else
                    {
                        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(1 << 16),
                            new Requester(host, responses));
                    }
                }
            });
        final Channel[] clients = new Channel[CONNECTIONS];
        for (int i = 0; i < CONNECTIONS; i++)
        {
            clients[i] = httpClient.connect(host, HTTP_PORT).sync().channel();
        }
        Thread.sleep(TimeUnit.SECONDS.toMillis(Math.max(1, seconds / 2))); // warm-up
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final long loopId = serverThread.get().threadId();
        final long allocatedBefore = threads.getThreadAllocatedBytes(loopId);
        final long before = responses.get();
        final long start = System.nanoTime();
        Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
        final long count = responses.get() - before;
        final double elapsedS = (System.nanoTime() - start) / 1e9;
        final long allocated = threads.getThreadAllocatedBytes(loopId) - allocatedBefore;
        for (final Channel c : clients)
        {
            c.close().sync();
        }
        return new HttpRate(count / elapsedS, (double)allocated / Math.max(1, count));
    }

    /** Netty's hello handler. */
    static final class Hello extends SimpleChannelInboundHandler<FullHttpRequest>
    {
        private static final byte[] BODY = "Hello World".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

        @Override
        protected void channelRead0(final ChannelHandlerContext ctx, final FullHttpRequest request)
        {
            final FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.wrappedBuffer(BODY));
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain").setInt(HttpHeaderNames.CONTENT_LENGTH,
                BODY.length);
            ctx.write(response);
        }

        @Override
        public void channelReadComplete(final ChannelHandlerContext ctx)
        {
            ctx.flush();
        }
    }

    /** Sends the next request when a response arrives. */
    static final class Requester extends SimpleChannelInboundHandler<FullHttpResponse>
    {
        private final String host;
        private final AtomicLong responses;

        Requester(final String host, final AtomicLong responses)
        {
            this.host = host;
            this.responses = responses;
        }

        @Override
        public void channelActive(final ChannelHandlerContext ctx)
        {
            send(ctx);
        }

        @Override
        protected void channelRead0(final ChannelHandlerContext ctx, final FullHttpResponse response)
        {
            responses.incrementAndGet();
            send(ctx);
        }

        private void send(final ChannelHandlerContext ctx)
        {
            final DefaultFullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET,
                "/");
            request.headers().set(HttpHeaderNames.HOST, host);
            ctx.writeAndFlush(request);
        }
    }

    /** Echo. */
    @ChannelHandler.Sharable
    static final class Echo extends ChannelInboundHandlerAdapter
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
    }

    /** 64-byte ping-pong for a fixed time, recording every round trip after a warm-up. */
    static final class PingPong extends ChannelInboundHandlerAdapter
    {
        private final Histogram rtt;
        private final long warmUpEndNs;
        private final long endNs;
        final CountDownLatch done = new CountDownLatch(1);
        private long sentNs;
        private int received;

        PingPong(final Histogram rtt, final int seconds)
        {
            this.rtt = rtt;
            final long now = System.nanoTime();
            this.warmUpEndNs = now + TimeUnit.SECONDS.toNanos(Math.max(1, seconds / 2));
            this.endNs = warmUpEndNs + TimeUnit.SECONDS.toNanos(seconds);
        }

        @Override
        public void channelActive(final ChannelHandlerContext ctx)
        {
            ping(ctx);
        }

        @Override
        public void channelRead(final ChannelHandlerContext ctx, final Object msg)
        {
            received += ((ByteBuf)msg).readableBytes();
            ((ByteBuf)msg).release();
            if (received < 64)
            {
                return;
            }
            received = 0;
            final long now = System.nanoTime();
            if (now - warmUpEndNs > 0)
            {
                rtt.recordValue(Math.min(now - sentNs, rtt.getHighestTrackableValue()));
            }
            if (now - endNs > 0)
            {
                done.countDown();
                return;
            }
            ping(ctx);
        }

        private void ping(final ChannelHandlerContext ctx)
        {
            sentNs = System.nanoTime();
            final ByteBuf buf = ctx.alloc().directBuffer(64);
            buf.writeZero(64);
            ctx.writeAndFlush(buf);
        }
    }
}

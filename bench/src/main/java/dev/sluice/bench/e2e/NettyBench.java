package dev.sluice.bench.e2e;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicReference;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.DefaultSelectStrategyFactory;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.HdrHistogram.Histogram;

/**
 * The kernel's TCP over loopback driven by Netty's native epoll transport (the usual fast path for Java
 * servers), client and server each on one event-loop thread pinned to its own CPU: the same workloads as
 * {@link KernelBench}: Netty's default event loop (sleeping in epoll_wait), pooled direct buffers, TCP_NODELAY.
 * A busy-polling variant ({@code SelectStrategy.BUSY_WAIT}) was tried and left out: with it, tasks submitted to
 * the loop (opening connections) waited seconds for an I/O event, so it measured nothing useful.
 */
public final class NettyBench
{
    private static final String NETTY_VERSION = "4.2.18.Final";

    private final Options options;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Histogram histogram = Report.histogram();
    private final long startNs;
    private final long warmEndNs;
    private final long endNs;
    private volatile int clientTid;
    private volatile int serverTid;
    private volatile boolean done;
    private boolean measuring;
    private long measureStartNs;
    private long count;
    private long operations;
    private long measuredNs;
    private long bytes;
    private long bytesAtStart;
    private long payloadBytes;
    private InetSocketAddress address;
    private Bootstrap bootstrap;

    private NettyBench(final Options options)
    {
        this.options = options;
        startNs = System.nanoTime() + 1_000_000_000L;
        warmEndNs = startNs + options.warmupNs();
        endNs = warmEndNs + options.measureNs();
    }

    /**
     * Runs one workload and writes its JSON result.
     *
     * @param args see {@link Options}.
     * @throws Exception if the run fails.
     */
    public static void main(final String[] args) throws Exception
    {
        if (!Epoll.isAvailable())
        {
            throw new IllegalStateException("Netty epoll is not available", Epoll.unavailabilityCause());
        }
        new NettyBench(Options.parse(args)).run();
        System.exit(0);
    }

    private ThreadFactory pinned(final String name, final int cpu, final boolean client)
    {
        final DefaultThreadFactory factory = new DefaultThreadFactory(name);
        return runnable -> factory.newThread(() ->
        {
            Affinity.pin(cpu);
            if (client)
            {
                clientTid = Affinity.gettid();
            }
            else
            {
                serverTid = Affinity.gettid();
            }
            runnable.run();
        });
    }

    private EventLoopGroup group(final String name, final int cpu, final boolean client)
    {
        return new MultiThreadIoEventLoopGroup(1, pinned(name, cpu, client),
            EpollIoHandler.newFactory(0, DefaultSelectStrategyFactory.INSTANCE));
    }

    private void run() throws Exception
    {
        final boolean bulk = "bulk".equals(options.workload());
        final EventLoopGroup serverGroup = group("netty-server", options.serverCpu(), false);
        final EventLoopGroup clientGroup = group("netty-client", options.clientCpu(), true);
        try
        {
            final ServerBootstrap server = new ServerBootstrap()
                .group(serverGroup)
                .channel(EpollServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .childHandler(new ChannelInitializer<Channel>()
                {
                    @Override
                    protected void initChannel(final Channel channel)
                    {
                        channel.pipeline().addLast(bulk ? new Sink() : new Echo());
                    }
                });
            final Channel listener = server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
            address = (InetSocketAddress)listener.localAddress();
            bootstrap = new Bootstrap()
                .group(clientGroup)
                .channel(EpollSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT);
            final int connections = switch (options.workload())
            {
                case "pingpong", "bulk", "connect-seq" -> 1;
                case "rate" -> Options.RATE_CONNECTIONS;
                default -> options.concurrency();
            };
            final boolean connect = options.workload().startsWith("connect");
            clientGroup.execute(() ->
            {
                for (int i = 0; i < connections; i++)
                {
                    open(connect ? new Connector() : bulk ? new Source() : new Requester());
                }
            });
            SluiceBench.sleepUntil(warmEndNs);
            final SchedStat clientSched = new SchedStat(clientTid);
            final SchedStat serverSched = new SchedStat(serverTid);
            clientSched.start();
            serverSched.start();
            SluiceBench.sleepUntil(endNs);
            clientSched.end();
            serverSched.end();
            final long deadlineNs = endNs + 30_000_000_000L;
            while (!done && failure.get() == null && System.nanoTime() - deadlineNs < 0)
            {
                Thread.sleep(10);
            }
            if (failure.get() != null)
            {
                throw new IllegalStateException("run failed", failure.get());
            }
            if (!done)
            {
                throw new IllegalStateException("the run did not finish");
            }
            // read the results on the thread that wrote them
            final long[] results = new long[3];
            final EventLoopGroup owner = bulk ? serverGroup : clientGroup;
            owner.submit(() ->
            {
                results[0] = measuredNs;
                results[1] = operations;
                results[2] = payloadBytes;
            }).sync();
            Report.write(options, "kernel-netty-epoll", results[0], results[1],
                results[2], bulk ? null : histogram,
                "Netty " + NETTY_VERSION + " native epoll over loopback, one event loop each, client cpu " + options.clientCpu() +
                ", server cpu " + options.serverCpu(),
                clientSched.json("client") + "," + serverSched.json("server"));
        }
        finally
        {
            clientGroup.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
            serverGroup.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    private void open(final ChannelHandler handler)
    {
        bootstrap.clone().handler(handler).connect(address).addListener((ChannelFutureListener)future ->
        {
            if (!future.isSuccess() && !done)
            {
                failure.compareAndSet(null, future.cause());
            }
        });
    }

    // on the measuring thread
    private void completed(final long nowNs, final long latencyNs)
    {
        if (done)
        {
            return;
        }
        histogram.recordValue(latencyNs);
        count++;
        phase(nowNs);
    }

    private void phase(final long nowNs)
    {
        if (!measuring && nowNs - warmEndNs >= 0)
        {
            measuring = true;
            histogram.reset();
            count = 0;
            bytesAtStart = bytes;
            measureStartNs = nowNs;
        }
        else if (measuring && !done && nowNs - endNs >= 0)
        {
            operations = count;
            payloadBytes = bytes - bytesAtStart;
            measuredNs = nowNs - measureStartNs;
            done = true;
        }
    }

    private void fail(final Throwable cause)
    {
        if (!done)
        {
            failure.compareAndSet(null, cause);
        }
    }

    /** Server: writes back what it reads. */
    @ChannelHandler.Sharable
    private final class Echo extends ChannelInboundHandlerAdapter
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

    /** Server: counts payload bytes (bulk). */
    private final class Sink extends ChannelInboundHandlerAdapter
    {
        @Override
        public void channelRead(final ChannelHandlerContext ctx, final Object msg)
        {
            final ByteBuf buf = (ByteBuf)msg;
            bytes += buf.readableBytes();
            buf.release();
            phase(System.nanoTime());
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
        {
            fail(cause);
            ctx.close();
        }
    }

    /** Client: one outstanding 64-byte request (ping-pong and request rate). */
    private final class Requester extends ChannelInboundHandlerAdapter
    {
        private long sentNs;
        private int received;

        private void send(final ChannelHandlerContext ctx, final long nowNs)
        {
            sentNs = nowNs;
            final ByteBuf request = ctx.alloc().directBuffer(Options.MESSAGE_BYTES);
            request.writerIndex(Options.MESSAGE_BYTES);
            ctx.writeAndFlush(request, ctx.voidPromise());
        }

        @Override
        public void channelActive(final ChannelHandlerContext ctx)
        {
            send(ctx, System.nanoTime());
        }

        @Override
        public void channelRead(final ChannelHandlerContext ctx, final Object msg)
        {
            final ByteBuf buf = (ByteBuf)msg;
            received += buf.readableBytes();
            buf.release();
            while (received >= Options.MESSAGE_BYTES)
            {
                received -= Options.MESSAGE_BYTES;
                final long nowNs = System.nanoTime();
                completed(nowNs, nowNs - sentNs);
                send(ctx, nowNs);
            }
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
        {
            fail(cause);
            ctx.close();
        }
    }

    /** Client: keeps the connection writable side full (bulk). */
    private final class Source extends ChannelInboundHandlerAdapter
    {
        private void fill(final ChannelHandlerContext ctx)
        {
            while (ctx.channel().isWritable())
            {
                final ByteBuf block = ctx.alloc().directBuffer(64 * 1024);
                block.writerIndex(64 * 1024);
                ctx.write(block, ctx.voidPromise());
            }
            ctx.flush();
        }

        @Override
        public void channelActive(final ChannelHandlerContext ctx)
        {
            fill(ctx);
        }

        @Override
        public void channelWritabilityChanged(final ChannelHandlerContext ctx)
        {
            if (!done)
            {
                fill(ctx);
            }
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
        {
            fail(cause);
            ctx.close();
        }
    }

    /** Client: open, 1-byte request, 1-byte reply, close, open the next (connection rate). */
    private final class Connector extends ChannelInboundHandlerAdapter
    {
        private final long startedNs = System.nanoTime();

        @Override
        public void channelActive(final ChannelHandlerContext ctx)
        {
            final ByteBuf one = ctx.alloc().directBuffer(1);
            one.writeByte(1);
            ctx.writeAndFlush(one, ctx.voidPromise());
        }

        @Override
        public void channelRead(final ChannelHandlerContext ctx, final Object msg)
        {
            ((ByteBuf)msg).release();
            final long nowNs = System.nanoTime();
            completed(nowNs, nowNs - startedNs);
            ctx.close();
            if (!done)
            {
                open(new Connector());
            }
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
        {
            fail(cause);
            ctx.close();
        }
    }
}

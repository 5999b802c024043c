package dev.sluice.netty;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import dev.sluice.driver.runtime.SluiceConfig;
import dev.sluice.nativebindings.dpdk.Eal;
import dev.sluice.nativebindings.dpdk.EthPort;
import dev.sluice.nativebindings.dpdk.RingPorts;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.SocketChannel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Netty on Sluice, server and client, over two stacks joined by a crossed net_ring pair in one JVM: the shapes
 * of Netty's own transport test suite (echo of many message sizes, half-closure, autoRead, writability under a
 * slow reader, close from either side, abort, write after close, exceptions, connect failures, graceful
 * shutdown), with Netty's leak detector at PARANOID and every reported leak failing the run.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NettyTransportIT
{
    private static final String SERVER_IP = "10.92.0.1";
    private static final long TIMEOUT_S = 30;

    private static SluiceTransport serverTransport;
    private static SluiceTransport clientTransport;
    private static EventLoopGroup serverGroup;
    private static EventLoopGroup clientGroup;
    private static int nextPort = 7000;

    @BeforeAll
    static void start()
    {
        LeakCounter.install();
        final Eal eal = TestEal.get();
        final int[] ports = RingPorts.createCrossedPair("net_ring_nta", "net_ring_ntb", 16384);
        serverTransport = SluiceTransport.prepare(eal, EthPort.of(ports[0]), config(SERVER_IP, ""));
        // the client delays its ACKs long (400 ms): a Nagle-held segment at the server would show at once
        clientTransport = SluiceTransport.prepare(eal, EthPort.of(ports[1]), config("10.92.0.2", " --delayed-ack-ms 400"));
        serverGroup = new SluiceEventLoopGroup(serverTransport);
        clientGroup = new SluiceEventLoopGroup(clientTransport);
    }

    @AfterAll
    static void stop() throws Exception
    {
        if (clientGroup != null)
        {
            clientGroup.shutdownGracefully(0, 5, TimeUnit.SECONDS).sync();
        }
        if (serverGroup != null)
        {
            serverGroup.shutdownGracefully(0, 5, TimeUnit.SECONDS).sync();
        }
        assertTrue(serverTransport.isClosed() && clientTransport.isClosed(), "ports stopped with the groups");
        final List<String> leaks = LeakCounter.collect();
        assertEquals(List.of(), leaks, "ByteBufs leaked (ResourceLeakDetector PARANOID)");
    }

    private static SluiceConfig config(final String ip, final String extra)
    {
        return SluiceConfig.parse(("echo --dev net_ring_x --ip " + ip + "/24 --listen 1 --idle backoff " +
            "--send-buffer 65536 --receive-buffer 65536" + extra).split(" "));
    }

    private static int port()
    {
        return nextPort++;
    }

    private static Channel serve(final int port, final ChannelHandler childHandler) throws InterruptedException
    {
        return new ServerBootstrap().group(serverGroup).channel(SluiceServerSocketChannel.class)
            .childHandler(childHandler).bind(port).sync().channel();
    }

    private static Channel connect(final int port, final ChannelHandler handler) throws InterruptedException
    {
        return new Bootstrap().group(clientGroup).channel(SluiceSocketChannel.class).handler(handler)
            .connect(SERVER_IP, port).sync().channel();
    }

    /** Echoes every buffer back (Netty's EchoServerHandler). */
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

    /** Collects what arrives and checks it against the pattern sent. */
    static final class Collector extends ChannelInboundHandlerAdapter
    {
        final int expected;
        final CompletableFuture<byte[]> done = new CompletableFuture<>();
        final byte[] received;
        int count;

        Collector(final int expected)
        {
            this.expected = expected;
            this.received = new byte[expected];
        }

        @Override
        public void channelRead(final ChannelHandlerContext ctx, final Object msg)
        {
            final ByteBuf buf = (ByteBuf)msg;
            try
            {
                final int n = buf.readableBytes();
                if (count + n > expected)
                {
                    done.completeExceptionally(new AssertionError("more bytes than sent"));
                    return;
                }
                buf.readBytes(received, count, n);
                count += n;
                if (count == expected)
                {
                    done.complete(received);
                }
            }
            finally
            {
                buf.release();
            }
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
        {
            done.completeExceptionally(cause);
        }
    }

    private static byte[] pattern(final int size, final int seed)
    {
        final byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++)
        {
            bytes[i] = (byte)(33 + (i + seed) % 89);
        }
        return bytes;
    }

    @Test
    @Order(1)
    void shouldEchoMessagesOfManySizesIntact() throws Exception
    {
        final int port = port();
        final Channel server = serve(port, new Echo());
        try
        {
            for (final int size : new int[] {1, 2, 100, 1459, 1460, 1461, 4096, 65535, 65536, 65537, 1 << 20})
            {
                final Collector collector = new Collector(size);
                final Channel client = connect(port, collector);
                final byte[] sent = pattern(size, size);
                // in several writes of odd sizes, one flush: the writes batch into the shard's transmit
                for (int off = 0; off < size; off += 7_777)
                {
                    client.write(Unpooled.wrappedBuffer(sent, off, Math.min(7_777, size - off)));
                }
                client.flush();
                final byte[] got = collector.done.get(TIMEOUT_S, TimeUnit.SECONDS);
                assertTrue(java.util.Arrays.equals(sent, got), "echo of " + size + " bytes intact");
                client.close().sync();
            }
        }
        finally
        {
            server.close().sync();
        }
    }

    @Test
    @Order(2)
    void halfClosureShouldDeliverInputShutdownAndLetTheServerAnswer() throws Exception
    {
        final int port = port();
        final AtomicReference<Object> serverEvent = new AtomicReference<>();
        final Channel server = serve(port, new ChannelInitializer<SocketChannel>()
        {
            @Override
            protected void initChannel(final SocketChannel ch)
            {
                ch.config().setAllowHalfClosure(true);
                ch.pipeline().addLast(new ChannelInboundHandlerAdapter()
                {
                    private int received;

                    @Override
                    public void channelRead(final ChannelHandlerContext ctx, final Object msg)
                    {
                        received += ((ByteBuf)msg).readableBytes();
                        ((ByteBuf)msg).release();
                    }

                    @Override
                    public void userEventTriggered(final ChannelHandlerContext ctx, final Object evt)
                    {
                        if (evt instanceof ChannelInputShutdownEvent)
                        {
                            serverEvent.set(evt);
                            // the peer's FIN came after all its data: answer with the count, then close
                            ctx.writeAndFlush(Unpooled.copyInt(received)).addListener(f -> ctx.close());
                        }
                    }
                });
            }
        });
        try
        {
            final Collector collector = new Collector(4);
            final SluiceSocketChannel client = (SluiceSocketChannel)connect(port, collector);
            client.writeAndFlush(Unpooled.wrappedBuffer(pattern(10_000, 1))).sync();
            client.shutdownOutput().sync();
            assertTrue(client.isOutputShutdown());
            final byte[] answer = collector.done.get(TIMEOUT_S, TimeUnit.SECONDS);
            assertEquals(10_000, Unpooled.wrappedBuffer(answer).readInt(), "server read everything before EOF");
            assertInstanceOf(ChannelInputShutdownEvent.class, serverEvent.get());
            assertTrue(client.closeFuture().await(TIMEOUT_S, TimeUnit.SECONDS), "server's FIN closes the client");
        }
        finally
        {
            server.close().sync();
        }
    }

    @Test
    @Order(3)
    void autoReadOffShouldCloseTheWindowAndMakeTheWriterUnwritable() throws Exception
    {
        final int port = port();
        final AtomicReference<Channel> accepted = new AtomicReference<>();
        final AtomicInteger serverReceived = new AtomicInteger();
        final CountDownLatch acceptedLatch = new CountDownLatch(1);
        final Channel server = serve(port, new ChannelInitializer<SocketChannel>()
        {
            @Override
            protected void initChannel(final SocketChannel ch)
            {
                ch.config().setAutoRead(false);
                ch.pipeline().addLast(new ChannelInboundHandlerAdapter()
                {
                    @Override
                    public void channelActive(final ChannelHandlerContext ctx)
                    {
                        accepted.set(ctx.channel());
                        acceptedLatch.countDown();
                    }

                    @Override
                    public void channelRead(final ChannelHandlerContext ctx, final Object msg)
                    {
                        serverReceived.addAndGet(((ByteBuf)msg).readableBytes());
                        ((ByteBuf)msg).release();
                    }
                });
            }
        });
        try
        {
            final AtomicInteger writabilityChanges = new AtomicInteger();
            final Channel client = new Bootstrap().group(clientGroup).channel(SluiceSocketChannel.class)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(8 * 1024, 32 * 1024))
                .handler(new ChannelInboundHandlerAdapter()
                {
                    @Override
                    public void channelWritabilityChanged(final ChannelHandlerContext ctx)
                    {
                        writabilityChanges.incrementAndGet();
                    }
                }).connect(SERVER_IP, port).sync().channel();
            assertTrue(acceptedLatch.await(TIMEOUT_S, TimeUnit.SECONDS));
            final int total = 1 << 20;
            final byte[] chunk = pattern(16 * 1024, 0);
            final ChannelFuture[] last = new ChannelFuture[1];
            client.eventLoop().submit(() ->
            {
                for (int sent = 0; sent < total; sent += chunk.length)
                {
                    last[0] = client.write(Unpooled.wrappedBuffer(chunk));
                }
                client.flush();
            }).sync();
            // the server does not read: 64 KiB window at the server + 64 KiB send buffer at the client, the
            // rest waits in Netty's outbound buffer, far above the high water mark
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
            while (client.isWritable() && System.nanoTime() < deadline)
            {
                Thread.sleep(10);
            }
            Thread.sleep(300);
            assertFalse(client.isWritable(), "a slow reader makes the writer unwritable");
            assertEquals(0, serverReceived.get(), "nothing delivered while autoRead is off and read() not called");
            assertTrue(client.unsafe().outboundBuffer().totalPendingWriteBytes() > total / 2,
                "the closed window keeps most bytes in the client's outbound buffer");

            // one read() delivers what is held, and only that
            accepted.get().read();
            waitFor(() -> serverReceived.get() > 0);
            final int afterOneRead = serverReceived.get();
            assertTrue(afterOneRead <= 64 * 1024 + 16 * 1024, "one read() delivers the held bytes: " + afterOneRead);

            accepted.get().config().setAutoRead(true);
            waitFor(() -> serverReceived.get() == total);
            assertTrue(last[0].await(TIMEOUT_S, TimeUnit.SECONDS) && last[0].isSuccess(), "every write completed");
            waitFor(client::isWritable);
            assertTrue(writabilityChanges.get() >= 2, "unwritable, then writable again");
            client.close().sync();
        }
        finally
        {
            server.close().sync();
        }
    }

    @Test
    @Order(4)
    void closeFromEitherSideShouldMakeBothInactive() throws Exception
    {
        final int port = port();
        final AtomicReference<Channel> accepted = new AtomicReference<>();
        final CountDownLatch serverInactive = new CountDownLatch(2);
        final AtomicReference<Throwable> serverError = new AtomicReference<>();
        final Channel server = serve(port, new ChannelInboundHandlerAdapter()
        {
            @Override
            public void channelActive(final ChannelHandlerContext ctx)
            {
                accepted.set(ctx.channel());
            }

            @Override
            public void channelInactive(final ChannelHandlerContext ctx)
            {
                serverInactive.countDown();
            }

            @Override
            public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
            {
                serverError.set(cause);
            }

            @Override
            public boolean isSharable()
            {
                return true;
            }
        });
        try
        {
            // client closes: the server sees the FIN and goes inactive
            final Channel first = connect(port, new ChannelInboundHandlerAdapter());
            waitFor(() -> accepted.get() != null);
            first.close().sync();
            waitFor(() -> serverInactive.getCount() == 1);

            // server closes: the client sees the FIN and goes inactive, with no error
            accepted.set(null);
            final AtomicReference<Throwable> clientError = new AtomicReference<>();
            final Channel second = connect(port, new ChannelInboundHandlerAdapter()
            {
                @Override
                public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
                {
                    clientError.set(cause);
                }
            });
            waitFor(() -> accepted.get() != null);
            accepted.get().close().sync();
            assertTrue(second.closeFuture().await(TIMEOUT_S, TimeUnit.SECONDS), "client inactive after the FIN");
            assertTrue(serverInactive.await(TIMEOUT_S, TimeUnit.SECONDS));
            assertEquals(null, clientError.get());
            assertEquals(null, serverError.get());

            // write after close fails its promise
            final ChannelFuture late = second.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {1, 2, 3}));
            assertTrue(late.await(TIMEOUT_S, TimeUnit.SECONDS));
            assertFalse(late.isSuccess());
            assertInstanceOf(ClosedChannelException.class, late.cause());
        }
        finally
        {
            server.close().sync();
        }
    }

    @Test
    @Order(5)
    void soLingerZeroShouldResetThePeerAndReachExceptionCaught() throws Exception
    {
        final int port = port();
        final CompletableFuture<Throwable> serverError = new CompletableFuture<>();
        final Channel server = serve(port, new ChannelInboundHandlerAdapter()
        {
            @Override
            public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
            {
                serverError.complete(cause);
            }

            @Override
            public boolean isSharable()
            {
                return true;
            }
        });
        try
        {
            final Channel client = new Bootstrap().group(clientGroup).channel(SluiceSocketChannel.class)
                .option(ChannelOption.SO_LINGER, 0).handler(new ChannelInboundHandlerAdapter())
                .connect(SERVER_IP, port).sync().channel();
            Thread.sleep(100);
            client.close().sync();
            final Throwable cause = serverError.get(TIMEOUT_S, TimeUnit.SECONDS);
            assertInstanceOf(IOException.class, cause);
            assertTrue(cause.getMessage().contains("reset"), cause.getMessage());
        }
        finally
        {
            server.close().sync();
        }
    }

    @Test
    @Order(6)
    void anExceptionInAHandlerShouldReachExceptionCaught() throws Exception
    {
        final int port = port();
        final CompletableFuture<Throwable> caught = new CompletableFuture<>();
        final Channel server = serve(port, new ChannelInitializer<SocketChannel>()
        {
            @Override
            protected void initChannel(final SocketChannel ch)
            {
                ch.pipeline().addLast(new ChannelInboundHandlerAdapter()
                {
                    @Override
                    public void channelRead(final ChannelHandlerContext ctx, final Object msg)
                    {
                        ((ByteBuf)msg).release();
                        throw new IllegalStateException("boom");
                    }

                    @Override
                    public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
                    {
                        caught.complete(cause);
                        ctx.close();
                    }
                });
            }
        });
        try
        {
            final Channel client = connect(port, new ChannelInboundHandlerAdapter());
            client.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {42})).sync();
            assertEquals("boom", caught.get(TIMEOUT_S, TimeUnit.SECONDS).getMessage());
            assertTrue(client.closeFuture().await(TIMEOUT_S, TimeUnit.SECONDS));
        }
        finally
        {
            server.close().sync();
        }
    }

    @Test
    @Order(7)
    void connectShouldFailWhenRefusedAndTimeOutWhenNobodyAnswers() throws Exception
    {
        final ChannelFuture refused = new Bootstrap().group(clientGroup).channel(SluiceSocketChannel.class)
            .handler(new ChannelInboundHandlerAdapter()).connect(SERVER_IP, 6999);
        assertTrue(refused.await(TIMEOUT_S, TimeUnit.SECONDS));
        assertInstanceOf(ConnectException.class, refused.cause());

        // nobody has 10.92.0.99: ARP is never answered
        final long start = System.nanoTime();
        final ChannelFuture timedOut = new Bootstrap().group(clientGroup).channel(SluiceSocketChannel.class)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 300).handler(new ChannelInboundHandlerAdapter())
            .connect("10.92.0.99", 80);
        assertTrue(timedOut.await(TIMEOUT_S, TimeUnit.SECONDS));
        assertInstanceOf(ConnectTimeoutException.class, timedOut.cause());
        assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(290));
        assertTrue(timedOut.channel().closeFuture().await(TIMEOUT_S, TimeUnit.SECONDS), "closed after the timeout");
    }

    @Test
    @Order(7)
    void scheduledTasksShouldRunOnTheBusyPollingLoop() throws Exception
    {
        final Channel any = connectAndKeep();
        final AtomicBoolean onLoop = new AtomicBoolean();
        final long start = System.nanoTime();
        any.eventLoop().schedule(() -> onLoop.set(any.eventLoop().inEventLoop()), 50, TimeUnit.MILLISECONDS)
            .get(TIMEOUT_S, TimeUnit.SECONDS);
        final long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(onLoop.get());
        assertTrue(elapsedMs >= 49, "ran after its delay: " + elapsedMs);
        assertEquals(Boolean.TRUE, any.eventLoop().submit(() -> any.eventLoop().inEventLoop()).get(5,
            TimeUnit.SECONDS));
        any.close().sync();
    }

    private Channel connectAndKeep() throws Exception
    {
        final int port = port();
        final Channel server = serve(port, new Echo());
        final Channel client = connect(port, new ChannelInboundHandlerAdapter());
        client.closeFuture().addListener(f -> server.close());
        return client;
    }

    @Test
    @Order(8)
    void acceptedChannelsShouldSendSmallWritesAtOnceWithTcpNoDelay() throws Exception
    {
        final int port = port();
        final Channel server = serve(port, new ChannelInboundHandlerAdapter()
        {
            @Override
            public void channelActive(final ChannelHandlerContext ctx)
            {
                // two small writes in different duty cycles: with Nagle (MUST-17 off), the second waits for the
                // first one's ACK, which the client delays 400 ms
                ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'a'}));
                ctx.executor().schedule(() -> ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'b'})), 5,
                    TimeUnit.MILLISECONDS);
            }

            @Override
            public boolean isSharable()
            {
                return true;
            }
        });
        try
        {
            final long[] arrivalNs = new long[2];
            final CountDownLatch both = new CountDownLatch(2);
            final Channel client = connect(port, new ChannelInboundHandlerAdapter()
            {
                private int count;

                @Override
                public void channelRead(final ChannelHandlerContext ctx, final Object msg)
                {
                    final ByteBuf buf = (ByteBuf)msg;
                    while (buf.isReadable() && count < 2)
                    {
                        buf.readByte();
                        arrivalNs[count++] = System.nanoTime();
                        both.countDown();
                    }
                    buf.release();
                }
            });
            assertTrue(both.await(TIMEOUT_S, TimeUnit.SECONDS));
            final long gapMs = TimeUnit.NANOSECONDS.toMillis(arrivalNs[1] - arrivalNs[0]);
            assertTrue(gapMs < 200, "the second write waited for the delayed ACK of the first (Nagle on): " +
                gapMs + " ms");
            assertEquals(Boolean.TRUE, client.config().getOption(ChannelOption.TCP_NODELAY));
            client.close().sync();
        }
        finally
        {
            server.close().sync();
        }
    }

    @Test
    @Order(9)
    void gracefulShutdownOfTheServerGroupShouldCloseConnectionsWithFin() throws Exception
    {
        final int port = port();
        serve(port, new Echo());
        final AtomicReference<Throwable> clientError = new AtomicReference<>();
        final CountDownLatch echoed = new CountDownLatch(1);
        final Channel client = connect(port, new ChannelInboundHandlerAdapter()
        {
            @Override
            public void channelRead(final ChannelHandlerContext ctx, final Object msg)
            {
                ((ByteBuf)msg).release();
                echoed.countDown();
            }

            @Override
            public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
            {
                clientError.set(cause);
            }
        });
        // The server accepts when the handshake's ACK arrives (as Linux's accept()); one echo proves it has, so the
        // shutdown below meets an established connection (one still in the listener's queue is reset, as Linux's).
        client.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {42})).sync();
        assertTrue(echoed.await(TIMEOUT_S, TimeUnit.SECONDS), "the server echoed before its shutdown");
        serverGroup.shutdownGracefully(100, 5_000, TimeUnit.MILLISECONDS);
        assertTrue(client.closeFuture().await(TIMEOUT_S, TimeUnit.SECONDS), "the server's FIN closed the client");
        assertEquals(null, clientError.get(), "closed by a FIN, not a reset");
        assertTrue(serverGroup.awaitTermination(TIMEOUT_S, TimeUnit.SECONDS));
    }

    private static void waitFor(final java.util.function.BooleanSupplier condition) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadline)
            {
                throw new AssertionError("condition not met within " + TIMEOUT_S + " s");
            }
            Thread.sleep(5);
        }
    }
}

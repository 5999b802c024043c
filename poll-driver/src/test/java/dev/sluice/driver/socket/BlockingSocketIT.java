package dev.sluice.driver.socket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import dev.sluice.driver.apps.FixedPattern;
import dev.sluice.driver.runtime.SluiceRuntime;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Blocking sockets (issue 13) over two complete stacks in one JVM joined by a crossed net_ring pair: echo,
 * timeouts, end of stream, half-close both ways, abort waking blocked threads, and 10,000 virtual threads each
 * holding a connection.
 */
class BlockingSocketIT
{
    private static final String SERVER_IP = "10.92.0.1";
    private static TwoStacks stacks;
    private static SluiceRuntime server;
    private static SluiceRuntime client;
    private static final AtomicInteger NEXT_PORT = new AtomicInteger(7000);

    @BeforeAll
    static void start()
    {
        stacks = new TwoStacks("net_ring_sa", "net_ring_sb", "10.92.0");
        server = stacks.server;
        client = stacks.client;
    }

    @AfterAll
    static void stop()
    {
        TwoStacks.stop(stacks);
    }

    private static InetSocketAddress serverAddress(final int port)
    {
        return new InetSocketAddress(SERVER_IP, port);
    }

    private static byte[] readFully(final InputStream in, final int length) throws IOException
    {
        return TwoStacks.readFully(in, length);
    }

    @Test
    void shouldEchoAMegabyteIntactOnPlatformThreads() throws Exception
    {
        final int port = NEXT_PORT.getAndIncrement();
        final int bytes = 1 << 20;
        try (SluiceServerSocket listener = new SluiceServerSocket(server, port, 16))
        {
            final Thread echo = Thread.ofPlatform().start(() ->
            {
                try (SluiceSocket s = listener.accept())
                {
                    final byte[] buffer = new byte[8192];
                    int n;
                    while ((n = s.getInputStream().read(buffer)) > 0)
                    {
                        s.getOutputStream().write(buffer, 0, n);
                    }
                    s.shutdownOutput();
                }
                catch (final IOException ex)
                {
                    throw new IllegalStateException(ex);
                }
            });
            try (SluiceSocket socket = new SluiceSocket(client))
            {
                socket.connect(serverAddress(port), 5000);
                assertTrue(socket.isConnected());
                assertEquals(port, socket.getPort());
                final byte[] pattern = new byte[bytes];
                for (int i = 0; i < bytes; i++)
                {
                    pattern[i] = FixedPattern.at(i);
                }
                final Thread writer = Thread.ofPlatform().start(() ->
                {
                    try
                    {
                        for (int off = 0; off < bytes; off += 10_000)
                        {
                            socket.getOutputStream().write(pattern, off, Math.min(10_000, bytes - off));
                        }
                        socket.shutdownOutput();
                    }
                    catch (final IOException ex)
                    {
                        throw new IllegalStateException(ex);
                    }
                });
                final byte[] echoed = readFully(socket.getInputStream(), bytes);
                assertEquals(-1, socket.getInputStream().read(), "EOF after the server's FIN");
                assertArrayEquals(pattern, echoed);
                writer.join(10_000);
            }
            echo.join(10_000);
        }
    }

    @Test
    void shouldTimeOutAcceptReadAndConnectAndStayUsableAfterAReadTimeout() throws Exception
    {
        final int port = NEXT_PORT.getAndIncrement();
        try (SluiceServerSocket listener = new SluiceServerSocket(server, port, 4))
        {
            listener.setSoTimeout(200);
            final long start = System.nanoTime();
            assertThrows(SocketTimeoutException.class, listener::accept);
            assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(190));

            try (SluiceSocket socket = new SluiceSocket(client))
            {
                socket.connect(serverAddress(port), 5000);
                listener.setSoTimeout(5000);
                try (SluiceSocket accepted = listener.accept())
                {
                    socket.setSoTimeout(200);
                    assertThrows(SocketTimeoutException.class, () -> socket.getInputStream().read());
                    accepted.getOutputStream().write("late".getBytes(StandardCharsets.US_ASCII));
                    socket.setSoTimeout(5000);
                    assertEquals("late", new String(readFully(socket.getInputStream(), 4), StandardCharsets.US_ASCII));
                }
            }
        }
        try (SluiceSocket nowhere = new SluiceSocket(client))
        {
            // nobody answers ARP for .77: the SYN never leaves, the attempt is aborted after the timeout
            assertThrows(SocketTimeoutException.class,
                () -> nowhere.connect(new InetSocketAddress("10.92.0.77", 80), 300));
            assertTrue(nowhere.isClosed());
        }
    }

    @Test
    void shouldRefuseAConnectToAPortNobodyListensOn() throws Exception
    {
        try (SluiceSocket socket = new SluiceSocket(client))
        {
            final ConnectException ex = assertThrows(ConnectException.class,
                () -> socket.connect(serverAddress(9), 5000));
            assertTrue(ex.getMessage().contains("refused"), ex.getMessage());
        }
    }

    @Test
    void shouldHalfCloseInBothDirections() throws Exception
    {
        final int port = NEXT_PORT.getAndIncrement();
        try (SluiceServerSocket listener = new SluiceServerSocket(server, port, 4);
             SluiceSocket socket = new SluiceSocket(client))
        {
            socket.connect(serverAddress(port), 5000);
            try (SluiceSocket accepted = listener.accept())
            {
                // client -> server closed first: the server reads EOF and can still answer
                socket.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
                socket.shutdownOutput();
                assertThrows(SocketException.class, () -> socket.getOutputStream().write(1));
                assertEquals("ping", new String(readFully(accepted.getInputStream(), 4), StandardCharsets.US_ASCII));
                assertEquals(-1, accepted.getInputStream().read());
                accepted.getOutputStream().write("pong".getBytes(StandardCharsets.US_ASCII));
                assertEquals("pong", new String(readFully(socket.getInputStream(), 4), StandardCharsets.US_ASCII));
                accepted.shutdownOutput();
                assertEquals(-1, socket.getInputStream().read());
            }
        }
        final int port2 = NEXT_PORT.getAndIncrement();
        try (SluiceServerSocket listener = new SluiceServerSocket(server, port2, 4);
             SluiceSocket socket = new SluiceSocket(client))
        {
            socket.connect(serverAddress(port2), 5000);
            try (SluiceSocket accepted = listener.accept())
            {
                // server -> client closed first
                accepted.shutdownOutput();
                assertEquals(-1, socket.getInputStream().read());
                socket.getOutputStream().write("still".getBytes(StandardCharsets.US_ASCII));
                assertEquals("still", new String(readFully(accepted.getInputStream(), 5), StandardCharsets.US_ASCII));
            }
        }
    }

    @Test
    void shouldWakeBlockedReaderAndWriterWithAnExceptionOnAbort() throws Exception
    {
        final int port = NEXT_PORT.getAndIncrement();
        try (SluiceServerSocket listener = new SluiceServerSocket(server, port, 4);
             SluiceSocket socket = new SluiceSocket(client))
        {
            socket.connect(serverAddress(port), 5000);
            try (SluiceSocket accepted = listener.accept())
            {
                final AtomicReference<Throwable> readerSaw = new AtomicReference<>();
                final AtomicReference<Throwable> writerSaw = new AtomicReference<>();
                final Thread reader = Thread.ofVirtual().start(() ->
                {
                    try
                    {
                        socket.getInputStream().read(); // the server sends nothing
                    }
                    catch (final IOException ex)
                    {
                        readerSaw.set(ex);
                    }
                });
                final Thread writer = Thread.ofPlatform().start(() ->
                {
                    try
                    {
                        final byte[] chunk = new byte[4096];
                        while (true)
                        {
                            socket.getOutputStream().write(chunk); // the server reads nothing: blocks
                        }
                    }
                    catch (final IOException ex)
                    {
                        writerSaw.set(ex);
                    }
                });
                Thread.sleep(300);
                assertEquals(Thread.State.WAITING, reader.getState(), "reader parked");
                assertEquals(Thread.State.WAITING, writer.getState(), "writer parked by back-pressure");
                socket.abort();
                reader.join(5000);
                writer.join(5000);
                assertInstanceOf(SocketException.class, readerSaw.get());
                assertInstanceOf(SocketException.class, writerSaw.get());
                accepted.setSoTimeout(5000);
                final SocketException reset = assertThrows(SocketException.class, () ->
                {
                    final byte[] sink = new byte[8192];
                    while (accepted.getInputStream().read(sink) >= 0)
                    {
                        // the bytes sent before the RST
                    }
                });
                assertTrue(reset.getMessage().contains("reset"), reset.getMessage());
            }
        }
    }

    @Test
    void shardThreadsShouldNotAllocatePerRequestWithVirtualThreads() throws Exception
    {
        final int port = NEXT_PORT.getAndIncrement();
        final int connections = 4;
        final int warmup = 5_000;
        final int measured = 20_000;
        final com.sun.management.ThreadMXBean mx =
            (com.sun.management.ThreadMXBean)java.lang.management.ManagementFactory.getThreadMXBean();
        final long serverShard = server.shardThread(0).threadId();
        final long clientShard = client.shardThread(0).threadId();
        final java.util.concurrent.CyclicBarrier warm = new java.util.concurrent.CyclicBarrier(connections + 1);
        final java.util.concurrent.CyclicBarrier measuredDone = new java.util.concurrent.CyclicBarrier(connections + 1);
        try (SluiceServerSocket listener = new SluiceServerSocket(server, port, connections);
             ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor())
        {
            for (int i = 0; i < connections; i++)
            {
                threads.submit(() ->
                {
                    try (SluiceSocket s = listener.accept())
                    {
                        final byte[] b = new byte[64];
                        while (s.getInputStream().readNBytes(b, 0, 64) == 64)
                        {
                            s.getOutputStream().write(b);
                        }
                        return null;
                    }
                    catch (final IOException ex)
                    {
                        return null; // the client closed
                    }
                });
                threads.submit(() ->
                {
                    try (SluiceSocket s = new SluiceSocket(client))
                    {
                        s.connect(serverAddress(port), 5000);
                        final byte[] request = new byte[64];
                        final byte[] response = new byte[64];
                        for (int r = 0; r < warmup + measured; r++)
                        {
                            if (r == warmup)
                            {
                                warm.await();
                            }
                            s.getOutputStream().write(request);
                            s.getInputStream().readNBytes(response, 0, 64);
                        }
                        measuredDone.await();
                    }
                    return null;
                });
            }
            warm.await(60, TimeUnit.SECONDS);
            final long before = mx.getThreadAllocatedBytes(serverShard) + mx.getThreadAllocatedBytes(clientShard);
            measuredDone.await(120, TimeUnit.SECONDS);
            final long allocated =
                mx.getThreadAllocatedBytes(serverShard) + mx.getThreadAllocatedBytes(clientShard) - before;
            System.out.println("shard threads allocated " + allocated + " bytes for " + connections * measured +
                " request/response pairs on virtual threads");
            assertTrue(allocated < 4096, "shard-thread bytes for " + connections * measured + " requests: " + allocated);
        }
    }

    @Test
    void tenThousandVirtualThreadsShouldEachHoldAConnection() throws Exception
    {
        final int connections = 10_000;
        final int port = NEXT_PORT.getAndIncrement();
        final CountDownLatch allEchoed = new CountDownLatch(connections);
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch clientsDone = new CountDownLatch(connections);
        final AtomicInteger serverSawEof = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final SluiceServerSocket listener = new SluiceServerSocket(server, port, connections);
        final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
        try
        {
            threads.submit(() ->
            {
                while (!listener.isClosed())
                {
                    final SluiceSocket s;
                    try
                    {
                        s = listener.accept();
                    }
                    catch (final IOException ex)
                    {
                        return;
                    }
                    threads.submit(() ->
                    {
                        try (s)
                        {
                            final byte[] request = readFully(s.getInputStream(), 4);
                            s.getOutputStream().write(request);
                            if (s.getInputStream().read() == -1)
                            {
                                serverSawEof.incrementAndGet();
                            }
                        }
                        catch (final IOException ex)
                        {
                            failure.compareAndSet(null, ex);
                        }
                    });
                }
            });
            for (int i = 0; i < connections; i++)
            {
                final int id = i;
                threads.submit(() ->
                {
                    try (SluiceSocket s = new SluiceSocket(client))
                    {
                        s.connect(serverAddress(port), 60_000);
                        final byte[] request = {(byte)(id >>> 24), (byte)(id >>> 16), (byte)(id >>> 8), (byte)id};
                        s.getOutputStream().write(request);
                        if (!java.util.Arrays.equals(request, readFully(s.getInputStream(), 4)))
                        {
                            throw new IOException("connection " + id + ": wrong echo");
                        }
                        allEchoed.countDown();
                        release.await(); // hold the connection until all 10,000 are up
                    }
                    catch (final Exception ex)
                    {
                        failure.compareAndSet(null, ex);
                    }
                    finally
                    {
                        clientsDone.countDown();
                    }
                });
            }
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
            while (!allEchoed.await(100, TimeUnit.MILLISECONDS) && failure.get() == null &&
                System.nanoTime() < deadline)
            {
                // waiting for every connection to be up
            }
            if (failure.get() != null)
            {
                throw new AssertionError("first failure (SYNs refused for want of a prepared socket: " +
                    listener.refusedConnections() + "; " + stacks.counters() + ")", failure.get());
            }
            assertEquals(0, allEchoed.getCount(), "connections still not echoed");
            assertTrue(server.agent(0).tcp().connectionCount() >= connections, "server connections open at once: " +
                server.agent(0).tcp().connectionCount());
            assertTrue(client.agent(0).tcp().connectionCount() >= connections, "client connections open at once");
            System.out.println(connections + " connections up: " + stacks.counters()); // cookies engaged or not
            release.countDown();
            assertTrue(clientsDone.await(60, TimeUnit.SECONDS));
            final long closeDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (serverSawEof.get() < connections && failure.get() == null && System.nanoTime() < closeDeadline)
            {
                Thread.sleep(20);
            }
            assertEquals(null, failure.get());
            assertEquals(connections, serverSawEof.get(), "server threads that read EOF");
        }
        finally
        {
            release.countDown();
            listener.close();
            threads.shutdownNow();
        }
    }
}

package dev.sluice.bench.e2e;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Iterator;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import org.HdrHistogram.Histogram;

/**
 * The Linux kernel's TCP over loopback driven from Java NIO, client and server on two threads of one JVM,
 * each pinned to its own CPU: the baseline Sluice is compared with. The same workloads as
 * {@link SluiceBench}:
 * <ul>
 *   <li>{@code pingpong}: one connection, a 64-byte request echoed, next request on reply;</li>
 *   <li>{@code rate}: 64 connections, one outstanding 64-byte request each (selector on both sides);</li>
 *   <li>{@code bulk}: one connection, the client writes 64 KB blocks, the server counts payload bytes;</li>
 *   <li>{@code connect-seq}, {@code connect-16}: open, 1-byte request, 1-byte reply, close (client first),
 *       one at a time or 16 in flight;</li>
 *   <li>{@code connect-16-server-close}: the same with the server closing first after its reply (its TIME-WAIT),
 *       the client closing on the server's FIN.</li>
 * </ul>
 * {@code --io spin} polls non-blocking channels (read or {@code selectNow} in a loop: no wake-up latency),
 * {@code --io block} blocks in read or {@code select}; scripts/bench runs both and keeps the better. TCP_NODELAY
 * is set on every connection.
 */
public final class KernelBench
{
    /** A connect-16-server-close connection's start time once its reply arrived: it waits for the server's FIN. */
    private static final long REPLIED = Long.MIN_VALUE;
    private final Options options;
    private final boolean spin;
    private final ServerSocketChannel listener;
    private final InetSocketAddress address;
    private volatile boolean stop;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final CountDownLatch serverReady = new CountDownLatch(1);
    private long startNs;
    private volatile int clientTid;
    private volatile int serverTid;
    // results (written by the measuring thread before it ends, read after join)
    private long measuredNs;
    private long operations;
    private long payloadBytes;
    private final Histogram histogram = Report.histogram();

    private KernelBench(final Options options) throws IOException
    {
        this.options = options;
        this.spin = !"block".equals(options.io());
        listener = ServerSocketChannel.open();
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
        address = (InetSocketAddress)listener.getLocalAddress();
    }

    /**
     * Runs one workload and writes its JSON result.
     *
     * @param args see {@link Options}.
     * @throws Exception if the run fails.
     */
    public static void main(final String[] args) throws Exception
    {
        final Options options = Options.parse(args);
        new KernelBench(options).run();
    }

    private void run() throws Exception
    {
        startNs = System.nanoTime() + 200_000_000L; // both threads started by then
        final Thread server = new Thread(() -> guard(this::serve), "kernel-server");
        final Thread client = new Thread(() -> guard(this::drive), "kernel-client");
        server.start();
        serverReady.await();
        client.start();
        SluiceBench.sleepUntil(warmEndNs());
        final SchedStat clientSched = new SchedStat(clientTid);
        final SchedStat serverSched = new SchedStat(serverTid);
        clientSched.start();
        serverSched.start();
        SluiceBench.sleepUntil(endNs());
        clientSched.end();
        serverSched.end();
        client.join();
        stop = true;
        listener.close();
        server.join(10_000);
        if (failure.get() != null)
        {
            throw new IllegalStateException("run failed", failure.get());
        }
        final String system = "kernel-nio-" + ("bulk".equals(options.workload()) || "connect-seq".equals(options.workload()) ?
            "block" : options.io());
        final boolean connect = options.workload().startsWith("connect");
        Report.write(options, system, measuredNs, operations, payloadBytes,
            "bulk".equals(options.workload()) ? null : histogram,
            "loopback 127.0.0.1, client cpu " + options.clientCpu() + ", server cpu " + options.serverCpu() +
            (connect ? ", TIME-WAIT 60 s (Linux's TCP_TIMEWAIT_LEN), " + (options.serverCloses() ?
            "the server closes first" : "the client closes first") + "; " + timeWait() : ""),
            clientSched.json("client") + "," + serverSched.json("server"));
    }

    /** TIME-WAIT sockets at the end (this network namespace: /proc/net/sockstat) and the kernel's cap. */
    private static String timeWait()
    {
        try
        {
            final String sockstat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/net/sockstat"));
            final java.util.regex.Matcher tw = java.util.regex.Pattern.compile("TCP: .* tw (\\d+)").matcher(sockstat);
            final String cap; // Files.readString sees "1" of this sysctl file here: read it as a line
            try (java.io.BufferedReader reader = java.nio.file.Files.newBufferedReader(
                java.nio.file.Path.of("/proc/sys/net/ipv4/tcp_max_tw_buckets")))
            {
                cap = reader.readLine();
            }
            return "TIME-WAIT sockets at the end " + (tw.find() ? tw.group(1) : "?") + " (tcp_max_tw_buckets " + cap +
                ")";
        }
        catch (final java.io.IOException ex)
        {
            return "TIME-WAIT sockets unknown (" + ex.getMessage() + ")";
        }
    }

    private interface Body
    {
        void run() throws Exception;
    }

    private void guard(final Body body)
    {
        try
        {
            body.run();
        }
        catch (final Throwable ex)
        {
            if (!stop)
            {
                failure.compareAndSet(null, ex);
                stop = true;
            }
        }
    }

    private long warmEndNs()
    {
        return startNs + options.warmupNs();
    }

    private long endNs()
    {
        return warmEndNs() + options.measureNs();
    }

    // ---------------------------------------------------------------- server

    private void serve() throws Exception
    {
        Affinity.pin(options.serverCpu());
        serverTid = Affinity.gettid();
        switch (options.workload())
        {
            case "pingpong" -> servePingPong();
            case "bulk" -> serveBulk();
            default -> serveSelector();
        }
    }

    private void servePingPong() throws IOException
    {
        serverReady.countDown();
        try (SocketChannel channel = listener.accept())
        {
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            channel.configureBlocking(!spin);
            final ByteBuffer buffer = ByteBuffer.allocateDirect(Options.MESSAGE_BYTES);
            while (!stop)
            {
                buffer.clear();
                while (buffer.hasRemaining())
                {
                    if (channel.read(buffer) < 0)
                    {
                        return;
                    }
                }
                buffer.flip();
                while (buffer.hasRemaining())
                {
                    channel.write(buffer);
                }
            }
        }
    }

    private void serveBulk() throws IOException
    {
        serverReady.countDown();
        try (SocketChannel channel = listener.accept())
        {
            final ByteBuffer buffer = ByteBuffer.allocateDirect(256 * 1024);
            final MeasurementWindow window = new MeasurementWindow();
            while (true)
            {
                buffer.clear();
                final int n = channel.read(buffer);
                if (n < 0)
                {
                    throw new IOException("client closed before the end of the measurement");
                }
                window.count += n;
                if (window.over(System.nanoTime()))
                {
                    payloadBytes = window.count;
                    stop = true;
                    return;
                }
            }
        }
    }

    // echo server for rate and connection rate: every byte read is written back; EOF closes
    private void serveSelector() throws IOException
    {
        final Selector selector = Selector.open();
        listener.configureBlocking(false);
        listener.register(selector, SelectionKey.OP_ACCEPT);
        serverReady.countDown();
        final ByteBuffer buffer = ByteBuffer.allocateDirect(64 * 1024);
        try
        {
            while (!stop)
            {
                final int ready = spin ? selector.selectNow() : selector.select(100);
                if (ready == 0)
                {
                    continue;
                }
                final Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                while (keys.hasNext())
                {
                    final SelectionKey key = keys.next();
                    keys.remove();
                    if (!key.isValid())
                    {
                        continue;
                    }
                    if (key.isAcceptable())
                    {
                        SocketChannel accepted;
                        while ((accepted = listener.accept()) != null)
                        {
                            accepted.configureBlocking(false);
                            accepted.setOption(StandardSocketOptions.TCP_NODELAY, true);
                            accepted.register(selector, SelectionKey.OP_READ);
                        }
                    }
                    else if (key.isReadable())
                    {
                        final SocketChannel channel = (SocketChannel)key.channel();
                        buffer.clear();
                        int n;
                        try
                        {
                            n = channel.read(buffer);
                        }
                        catch (final IOException ex)
                        {
                            n = -1;
                        }
                        if (n < 0)
                        {
                            key.cancel();
                            channel.close();
                            continue;
                        }
                        buffer.flip();
                        while (buffer.hasRemaining())
                        {
                            channel.write(buffer); // 64 bytes at most per connection: never blocks for long
                        }
                        if (options.serverCloses())
                        {
                            key.cancel(); // after the reply: the server closes first, TIME-WAIT is its own
                            channel.close();
                        }
                    }
                }
            }
        }
        finally
        {
            for (final SelectionKey key : selector.keys())
            {
                key.channel().close();
            }
            selector.close();
        }
    }

    // ---------------------------------------------------------------- client

    private void drive() throws Exception
    {
        Affinity.pin(options.clientCpu());
        clientTid = Affinity.gettid();
        switch (options.workload())
        {
            case "pingpong" -> drivePingPong();
            case "rate" -> driveRate();
            case "bulk" -> driveBulk();
            case "connect-seq" -> driveConnectSequential();
            default -> driveConnectConcurrent(options.concurrency());
        }
    }

    private SocketChannel open() throws IOException
    {
        final SocketChannel channel = SocketChannel.open(address);
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        return channel;
    }

    private void waitForStart()
    {
        while (System.nanoTime() - startNs < 0)
        {
            Thread.onSpinWait();
        }
    }

    private void drivePingPong() throws IOException
    {
        try (SocketChannel channel = open())
        {
            channel.configureBlocking(!spin);
            final ByteBuffer request = ByteBuffer.allocateDirect(Options.MESSAGE_BYTES);
            final ByteBuffer reply = ByteBuffer.allocateDirect(Options.MESSAGE_BYTES);
            waitForStart();
            final MeasurementWindow window = new MeasurementWindow();
            while (true)
            {
                final long t0 = System.nanoTime();
                request.clear();
                while (request.hasRemaining())
                {
                    channel.write(request);
                }
                reply.clear();
                while (reply.hasRemaining())
                {
                    if (channel.read(reply) < 0)
                    {
                        throw new IOException("server closed");
                    }
                }
                final long t1 = System.nanoTime();
                histogram.recordValue(t1 - t0);
                window.count++;
                if (window.over(t1))
                {
                    operations = window.count;
                    return;
                }
            }
        }
    }

    private void driveRate() throws IOException
    {
        final int n = Options.RATE_CONNECTIONS;
        final Selector selector = Selector.open();
        final SocketChannel[] channels = new SocketChannel[n];
        final long[] sentAt = new long[n];
        final ByteBuffer request = ByteBuffer.allocateDirect(Options.MESSAGE_BYTES);
        final ByteBuffer reply = ByteBuffer.allocateDirect(Options.MESSAGE_BYTES * n);
        final int[] received = new int[n];
        try
        {
            for (int i = 0; i < n; i++)
            {
                channels[i] = open();
                channels[i].configureBlocking(false);
                channels[i].register(selector, SelectionKey.OP_READ, i);
            }
            waitForStart();
            for (int i = 0; i < n; i++)
            {
                sentAt[i] = System.nanoTime();
                writeFully(channels[i], request);
            }
            final MeasurementWindow window = new MeasurementWindow();
            while (true)
            {
                final int ready = spin ? selector.selectNow() : selector.select();
                if (ready == 0)
                {
                    continue;
                }
                final Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                while (keys.hasNext())
                {
                    final SelectionKey key = keys.next();
                    keys.remove();
                    final int i = (Integer)key.attachment();
                    reply.clear();
                    final int read = channels[i].read(reply);
                    if (read < 0)
                    {
                        throw new IOException("server closed");
                    }
                    received[i] += read;
                    while (received[i] >= Options.MESSAGE_BYTES)
                    {
                        received[i] -= Options.MESSAGE_BYTES;
                        final long now = System.nanoTime();
                        histogram.recordValue(now - sentAt[i]);
                        window.count++;
                        sentAt[i] = now;
                        writeFully(channels[i], request);
                    }
                }
                final long now = System.nanoTime();
                if (window.over(now))
                {
                    operations = window.count;
                    return;
                }
            }
        }
        finally
        {
            for (final SocketChannel channel : channels)
            {
                if (channel != null)
                {
                    channel.close();
                }
            }
            selector.close();
        }
    }

    private static void writeFully(final SocketChannel channel, final ByteBuffer request) throws IOException
    {
        request.clear();
        while (request.hasRemaining())
        {
            channel.write(request);
        }
    }

    private void driveBulk() throws IOException
    {
        try (SocketChannel channel = open())
        {
            final ByteBuffer block = ByteBuffer.allocateDirect(64 * 1024);
            waitForStart();
            while (!stop)
            {
                block.clear();
                channel.write(block);
            }
        }
        catch (final IOException ex)
        {
            if (!stop)
            {
                throw ex;
            }
        }
    }

    private void driveConnectSequential() throws IOException
    {
        final ByteBuffer one = ByteBuffer.allocateDirect(1);
        waitForStart();
        final MeasurementWindow window = new MeasurementWindow();
        while (true)
        {
            final long t0 = System.nanoTime();
            try (SocketChannel channel = open())
            {
                one.clear();
                channel.write(one);
                one.clear();
                if (channel.read(one) != 1)
                {
                    throw new IOException("no reply");
                }
            }
            final long t1 = System.nanoTime();
            histogram.recordValue(t1 - t0);
            window.count++;
            if (window.over(t1))
            {
                operations = window.count;
                return;
            }
        }
    }

    private void driveConnectConcurrent(final int concurrency) throws IOException
    {
        final Selector selector = Selector.open();
        final ByteBuffer one = ByteBuffer.allocateDirect(1);
        waitForStart();
        for (int i = 0; i < concurrency; i++)
        {
            startConnection(selector);
        }
        final MeasurementWindow window = new MeasurementWindow();
        try
        {
            while (true)
            {
                final int ready = spin ? selector.selectNow() : selector.select();
                if (ready > 0)
                {
                    final Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                    while (keys.hasNext())
                    {
                        final SelectionKey key = keys.next();
                        keys.remove();
                        final SocketChannel channel = (SocketChannel)key.channel();
                        final long[] t0 = (long[])key.attachment();
                        if (key.isConnectable())
                        {
                            channel.finishConnect();
                            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                            one.clear();
                            channel.write(one);
                            key.interestOps(SelectionKey.OP_READ);
                        }
                        else if (key.isReadable())
                        {
                            one.clear();
                            final int n = channel.read(one);
                            if (t0[0] == REPLIED)
                            {
                                if (n < 0) // the server's FIN: close our side (no TIME-WAIT here)
                                {
                                    key.cancel();
                                    channel.close();
                                }
                                continue;
                            }
                            if (n != 1)
                            {
                                throw new IOException("no reply: " + n);
                            }
                            histogram.recordValue(System.nanoTime() - t0[0]);
                            window.count++;
                            startConnection(selector);
                            if (options.serverCloses())
                            {
                                t0[0] = REPLIED;
                            }
                            else
                            {
                                key.cancel();
                                channel.close();
                            }
                        }
                    }
                }
                final long now = System.nanoTime();
                if (window.over(now))
                {
                    operations = window.count;
                    return;
                }
            }
        }
        finally
        {
            for (final SelectionKey key : selector.keys())
            {
                key.channel().close();
            }
            selector.close();
        }
    }

    private void startConnection(final Selector selector) throws IOException
    {
        final SocketChannel channel = SocketChannel.open();
        channel.configureBlocking(false);
        final long[] t0 = {System.nanoTime()};
        if (channel.connect(address))
        {
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            final ByteBuffer one = ByteBuffer.allocate(1);
            channel.write(one);
            channel.register(selector, SelectionKey.OP_READ, t0);
        }
        else
        {
            channel.register(selector, SelectionKey.OP_CONNECT, t0);
        }
    }

    /**
     * Warm-up, then the measured window: what is counted (operations or bytes) and the latencies recorded
     * before the warm-up ends are discarded; {@link #over} ends the window and sets {@code measuredNs}. As
     * SluiceBench's Phase, the warm-up holds a rehearsal window (40-50 % of it) through the same statements, so the
     * JIT does not deoptimise the hot loop when the real window opens.
     */
    private final class MeasurementWindow
    {
        long count;
        // rehearsal start, rehearsal end, measurement start, measurement end, never
        private final long[] boundaryNs = new long[5];
        private final long[] passedNs = new long[5];
        private int stage;

        MeasurementWindow()
        {
            final long warmup = options.warmupNs();
            boundaryNs[0] = startNs + warmup * 4 / 10;
            boundaryNs[1] = startNs + warmup / 2;
            boundaryNs[2] = warmEndNs();
            boundaryNs[3] = endNs();
            boundaryNs[4] = endNs() + (1L << 62);
        }

        /**
         * @param nowNs the time of the last operation.
         * @return true once the measured window has ended ({@link #count} then holds what it counted).
         */
        boolean over(final long nowNs)
        {
            if (nowNs - boundaryNs[stage] < 0)
            {
                return false;
            }
            final int passed = stage;
            stage = passed + 1;
            passedNs[passed] = nowNs;
            // a window's start restarts the counts; its end reports them (the same statements at every boundary)
            measuredNs = nowNs - passedNs[passed & ~1];
            if ((passed & 1) == 0)
            {
                histogram.reset();
                count = 0;
            }
            return passedNs[3] != 0;
        }
    }
}

package dev.sluice.bench.e2e;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import dev.sluice.driver.runtime.SluiceConfig;
import dev.sluice.driver.runtime.SluiceContext;
import dev.sluice.driver.runtime.SluiceRuntime;
import dev.sluice.driver.socket.SluiceServerSocket;
import dev.sluice.driver.socket.ShardThreads;
import dev.sluice.driver.socket.SluiceSocket;
import dev.sluice.nativebindings.dpdk.Eal;
import dev.sluice.nativebindings.dpdk.EthPort;
import dev.sluice.nativebindings.dpdk.RingPorts;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.CompositeAgent;

/**
 * The same virtual-thread request/response code on JDK sockets (the kernel over loopback) and on Sluice's
 * blocking sockets (two stacks in one JVM over a crossed net_ring pair): a thread-per-connection server
 * answers each 64-byte request with 64 bytes; clients, one virtual thread per connection, send a request and
 * wait for the answer, in a loop.
 *
 * <ul>
 *   <li>{@code rate}: 64 connections at once, requests per second.</li>
 *   <li>{@code pingpong}: one connection, round-trip latency p50/p99/p99.9 (HdrHistogram).</li>
 *   <li>Sluice only: bytes allocated by the shard threads during the measurement, per request.</li>
 * </ul>
 *
 * <p>Where the CPUs go. By default ({@code --drive one}) both stacks' shards run on one busy-spinning platform
 * thread (Agrona's {@code CompositeAgent}), pinned to {@code --shard-cpu} (default 0), as a one-core Sluice
 * deployment would: the other CPUs are left to the virtual threads' carriers (and the sockets' waker). The
 * kernel run gets the same machine: its work runs on the carriers' CPUs inside their system calls.
 * {@code --drive threads} gives each stack its own shard thread with {@code --idle} (the earlier arrangement:
 * on two CPUs, two spinning shards starve the carriers, so it ran with backoff).
 *
 * <p>{@code --threads shard} (Sluice only) runs the servers' and the clients' virtual threads on the stacks' shards
 * ({@link ShardThreads}: no hand-off between a shard and a carrier, the application's code included in the
 * shard threads' bytes per request); it needs {@code --add-opens java.base/java.lang=ALL-UNNAMED}.
 *
 * <p>Usage: {@code BlockingSocketBench --transport jdk|sluice [--seconds S] [--warmup S] [--connections N]
 * [--drive one|threads] [--shard-cpu N|-1] [--idle spin|backoff|yield] [--threads virtual|platform|shard]
 * [--eal "ARGS"]}; prints one line of JSON per workload.
 */
public final class BlockingSocketBench
{
    private static final int MESSAGE = 64;
    private static final int PORT = 7070;

    private BlockingSocketBench()
    {
    }

    /** A socket's streams, whichever transport. */
    private record Conn(InputStream in, OutputStream out, Closeable socket)
    {
    }

    /** Listens and connects on one transport. */
    private interface Transport extends Closeable
    {
        Closeable serve(ExecutorService threads) throws IOException;

        /** @return the threads the clients run on: {@code threads}, or the stack's own (shard-carried). */
        ExecutorService clientThreads(ExecutorService threads);

        Conn connect() throws IOException;

        long shardBytes();

        @Override
        void close();
    }

    /**
     * @param args see the class comment.
     * @throws Exception on failure.
     */
    public static void main(final String[] args) throws Exception
    {
        final String transportName = value(args, "--transport", "jdk");
        final int seconds = Integer.parseInt(value(args, "--seconds", "5"));
        final int warmup = Integer.parseInt(value(args, "--warmup", "2"));
        final int connections = Integer.parseInt(value(args, "--connections", "64"));
        final String threadKind = value(args, "--threads", "virtual");
        final boolean platform = "platform".equals(threadKind);
        final boolean onShards = "shard".equals(threadKind);
        if (onShards && !"sluice".equals(transportName))
        {
            throw new IllegalArgumentException("--threads shard needs --transport sluice");
        }
        final String name = onShards ? "sluice-shard-threads" : transportName;
        try (ExecutorService threads = platform ? Executors.newThreadPerTaskExecutor(Thread.ofPlatform().factory()) :
                Executors.newVirtualThreadPerTaskExecutor();
             Transport transport = "sluice".equals(transportName) ?
                 new OnSluice(value(args, "--drive", "one"), Integer.parseInt(value(args, "--shard-cpu", "0")),
                     value(args, "--idle", "backoff"), value(args, "--eal", null), onShards) : new Jdk())
        {
            final ExecutorService clients = transport.clientThreads(threads);
            try (Closeable server = transport.serve(threads))
            {
                run(transport, name, "rate", connections, warmup, seconds, clients);
                run(transport, name, "pingpong", 1, warmup, seconds, clients);
            }
        }
        System.exit(0);
    }

    private static void run(
        final Transport transport, final String name, final String workload, final int connections,
        final int warmupS, final int seconds, final ExecutorService threads) throws Exception
    {
        final List<Conn> conns = new ArrayList<>();
        for (int i = 0; i < connections; i++)
        {
            conns.add(transport.connect());
        }
        final AtomicBoolean measuring = new AtomicBoolean();
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong requests = new AtomicLong();
        final Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
        final CountDownLatch done = new CountDownLatch(connections);
        for (final Conn c : conns)
        {
            threads.submit(() ->
            {
                final byte[] request = new byte[MESSAGE];
                final byte[] response = new byte[MESSAGE];
                final Histogram mine = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
                long count = 0;
                try
                {
                    while (!stop.get())
                    {
                        final long start = System.nanoTime();
                        c.out().write(request);
                        readFully(c.in(), response);
                        if (measuring.get())
                        {
                            mine.recordValue(Math.min(System.nanoTime() - start, TimeUnit.SECONDS.toNanos(10)));
                            count++;
                        }
                    }
                }
                catch (final IOException ex)
                {
                    System.err.println("client: " + ex);
                }
                finally
                {
                    synchronized (histogram)
                    {
                        histogram.add(mine);
                    }
                    requests.addAndGet(count);
                    done.countDown();
                }
                return null;
            });
        }
        Thread.sleep(TimeUnit.SECONDS.toMillis(warmupS));
        final long bytesBefore = transport.shardBytes();
        final Map<String, long[]> schedBefore = schedByThreadKind();
        final long startNs = System.nanoTime();
        measuring.set(true);
        Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
        measuring.set(false);
        final long elapsedNs = System.nanoTime() - startNs;
        final long shardBytes = bytesBefore < 0 ? -1 : transport.shardBytes() - bytesBefore;
        final Map<String, long[]> schedAfter = schedByThreadKind();
        stop.set(true);
        done.await(30, TimeUnit.SECONDS);
        for (final Conn c : conns)
        {
            c.socket().close();
        }
        final long n = requests.get();
        final double rate = n / (elapsedNs / 1e9);
        System.out.printf(Locale.ROOT, "{\"transport\":\"%s\",\"workload\":\"%s\",\"connections\":%d," +
            "\"requests\":%d,\"requestsPerSecond\":%.0f,\"p50Us\":%.1f,\"p99Us\":%.1f,\"p999Us\":%.1f," +
            "\"shardBytesPerRequest\":%s,\"threads\":{%s}}%n", name, workload, connections, n, rate,
            histogram.getValueAtPercentile(50) / 1e3, histogram.getValueAtPercentile(99) / 1e3,
            histogram.getValueAtPercentile(99.9) / 1e3,
            shardBytes < 0 ? "null" : String.format(Locale.ROOT, "%.3f", n == 0 ? 0.0 : (double)shardBytes / n),
            schedJson(schedBefore, schedAfter, elapsedNs, n));
    }

    /**
     * Per kind of thread (shard, waker, carrier, other; from the thread names in /proc), the sums of: CPU time,
     * run-queue wait, voluntary and involuntary context switches. Read by this thread before and after the
     * measurement; the measured threads do no I/O for it.
     */
    private static Map<String, long[]> schedByThreadKind()
    {
        final Map<String, long[]> sums = new TreeMap<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task")))
        {
            for (final Path task : tasks)
            {
                try
                {
                    final String comm = Files.readString(task.resolve("comm")).trim();
                    final String kind = comm.contains("sluice-shard") ? "shard" :
                        comm.startsWith("sluice-socket-w") ? "waker" :
                        comm.startsWith("ForkJoinPool") ? "carrier" : "other";
                    final String[] stat = Files.readString(task.resolve("schedstat")).trim().split("\\s+");
                    long voluntary = 0;
                    long involuntary = 0;
                    for (final String line : Files.readAllLines(task.resolve("status")))
                    {
                        if (line.startsWith("voluntary_ctxt_switches:"))
                        {
                            voluntary = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                        }
                        else if (line.startsWith("nonvoluntary_ctxt_switches:"))
                        {
                            involuntary = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                        }
                    }
                    final long[] sum = sums.computeIfAbsent(kind, k -> new long[5]);
                    sum[0] += Long.parseLong(stat[0]);
                    sum[1] += Long.parseLong(stat[1]);
                    sum[2] += voluntary;
                    sum[3] += involuntary;
                    sum[4]++;
                }
                catch (final IOException | RuntimeException ex)
                {
                    // the thread ended meanwhile
                }
            }
        }
        catch (final IOException ex)
        {
            // no /proc: no figures
        }
        return sums;
    }

    private static String schedJson(
        final Map<String, long[]> before, final Map<String, long[]> after, final long elapsedNs, final long requests)
    {
        final StringBuilder json = new StringBuilder();
        for (final Map.Entry<String, long[]> e : after.entrySet())
        {
            final long[] a = e.getValue();
            final long[] b = before.getOrDefault(e.getKey(), new long[5]);
            final double perRequest = Math.max(1, requests);
            if (json.length() > 0)
            {
                json.append(',');
            }
            json.append(String.format(Locale.ROOT, "\"%s\":{\"count\":%d,\"cpuUsPerRequest\":%.2f,\"cpuPct\":%.1f," +
                "\"runqueueWaitPct\":%.1f," +
                "\"voluntarySwitchesPerRequest\":%.3f,\"involuntarySwitchesPerRequest\":%.3f}", e.getKey(), a[4],
                (a[0] - b[0]) / 1e3 / perRequest, 100.0 * (a[0] - b[0]) / elapsedNs, 100.0 * (a[1] - b[1]) / elapsedNs,
                (a[2] - b[2]) / perRequest, (a[3] - b[3]) / perRequest));
        }
        return json.toString();
    }

    private static void readFully(final InputStream in, final byte[] b) throws IOException
    {
        int got = 0;
        while (got < b.length)
        {
            final int r = in.read(b, got, b.length - got);
            if (r < 0)
            {
                throw new IOException("EOF");
            }
            got += r;
        }
    }

    private static void echo(final Conn c)
    {
        final byte[] buffer = new byte[MESSAGE];
        try (Closeable socket = c.socket())
        {
            while (true)
            {
                readFully(c.in(), buffer);
                c.out().write(buffer);
            }
        }
        catch (final IOException ex)
        {
            // the client closed
        }
    }

    private static String value(final String[] args, final String flag, final String fallback)
    {
        for (int i = 0; i + 1 < args.length; i++)
        {
            if (args[i].equals(flag))
            {
                return args[i + 1];
            }
        }
        return fallback;
    }

    /** The kernel over loopback. */
    private static final class Jdk implements Transport
    {
        @Override
        public Closeable serve(final ExecutorService threads) throws IOException
        {
            final ServerSocket server = new ServerSocket();
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress("127.0.0.1", PORT), 1024);
            threads.submit(() ->
            {
                while (!server.isClosed())
                {
                    final Socket s = server.accept();
                    s.setTcpNoDelay(true);
                    final Conn c = new Conn(s.getInputStream(), s.getOutputStream(), s);
                    threads.submit(() -> echo(c));
                }
                return null;
            });
            return server;
        }

        @Override
        public ExecutorService clientThreads(final ExecutorService threads)
        {
            return threads;
        }

        @Override
        public Conn connect() throws IOException
        {
            final Socket s = new Socket();
            s.connect(new InetSocketAddress("127.0.0.1", PORT), 5000);
            s.setTcpNoDelay(true);
            return new Conn(s.getInputStream(), s.getOutputStream(), s);
        }

        @Override
        public long shardBytes()
        {
            return -1;
        }

        @Override
        public void close()
        {
        }
    }

    /** Two Sluice stacks over net_ring in this JVM. */
    private static final class OnSluice implements Transport
    {
        private final SluiceRuntime server;
        private final SluiceRuntime client;
        private final AgentRunner driver; // null: each stack runs its own shard thread
        private final boolean onShards;
        private ExecutorService clientThreads;

        OnSluice(final String drive, final int shardCpu, final String idle, final String ealArgs, final boolean onShards)
        {
            this.onShards = onShards;
            if (onShards)
            {
                ShardThreads.ensureAvailability(); // a clear error naming the JVM flag
            }
            final Eal eal = Eal.init(ealArgs == null ? Eal.DEFAULT_ARGS : List.of(ealArgs.trim().split("\\s+")));
            final int[] ports = RingPorts.createCrossedPair("slsk_server", "slsk_client", 4096);
            final SluiceConfig.IdleMode mode = SluiceConfig.IdleMode.valueOf(idle.toUpperCase(Locale.ROOT));
            final boolean one = "one".equals(drive);
            server = SluiceRuntime.start(new SluiceContext().eal(eal).port(EthPort.of(ports[0])).externallyDriven(one)
                .config(config("slsk_server", "10.79.0.2", mode)));
            client = SluiceRuntime.start(new SluiceContext().eal(eal).port(EthPort.of(ports[1])).externallyDriven(one)
                .config(config("slsk_client", "10.79.0.1", mode)));
            if (one)
            {
                driver = new AgentRunner(new BusySpinIdleStrategy(), Throwable::printStackTrace, null,
                    new CompositeAgent(server.agent(0), client.agent(0)));
                AgentRunner.startOnThread(driver, r -> new Thread(() ->
                {
                    if (shardCpu >= 0)
                    {
                        Affinity.pin(shardCpu);
                    }
                    r.run();
                }, "sluice-shards"));
                while (!server.agent(0).isRunning() || !client.agent(0).isRunning())
                {
                    Thread.onSpinWait();
                }
            }
            else
            {
                driver = null;
            }
        }

        private static SluiceConfig config(final String device, final String ip, final SluiceConfig.IdleMode idle)
        {
            return SluiceConfig.builder().device(device).ip(ip + "/24").idle(idle).noDelay(true)
                .maxConnections(1024).memoryBudgetBytes(256L << 20).sendBufferBytes(65536)
                .receiveBufferBytes(65536).countersFile(null).build();
        }

        @Override
        public Closeable serve(final ExecutorService threads) throws IOException
        {
            final SluiceServerSocket listener = new SluiceServerSocket(server, PORT, 256);
            threads.submit(() ->
            {
                while (!listener.isClosed())
                {
                    final SluiceSocket s = listener.accept();
                    final Conn c = new Conn(s.getInputStream(), s.getOutputStream(), s);
                    if (onShards)
                    {
                        ShardThreads.start(s, () -> echo(c)); // on the connection's shard
                    }
                    else
                    {
                        threads.submit(() -> echo(c));
                    }
                }
                return null;
            });
            return listener;
        }

        @Override
        public ExecutorService clientThreads(final ExecutorService threads)
        {
            if (!onShards)
            {
                return threads;
            }
            clientThreads = ShardThreads.newThreadPerTaskExecutor(client);
            return clientThreads;
        }

        @Override
        public Conn connect() throws IOException
        {
            final SluiceSocket s = new SluiceSocket(client);
            s.connect(new InetSocketAddress("10.79.0.2", PORT), 5000);
            return new Conn(s.getInputStream(), s.getOutputStream(), s);
        }

        @Override
        public long shardBytes()
        {
            final com.sun.management.ThreadMXBean mx =
                (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
            return driver != null ? mx.getThreadAllocatedBytes(driver.thread().threadId()) :
                mx.getThreadAllocatedBytes(server.shardThread(0).threadId()) +
                mx.getThreadAllocatedBytes(client.shardThread(0).threadId());
        }

        @Override
        public void close()
        {
            client.closeConnections(TimeUnit.MILLISECONDS.toNanos(200));
            server.closeConnections(TimeUnit.MILLISECONDS.toNanos(200));
            if (driver != null)
            {
                driver.close(); // runs each agent's onClose on the driving thread
            }
            client.close();
            server.close();
        }
    }
}

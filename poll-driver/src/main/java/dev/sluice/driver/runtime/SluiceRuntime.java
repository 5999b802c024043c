package dev.sluice.driver.runtime;

import java.io.PrintStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;

import dev.sluice.core.channel.TcpChannel;
import dev.sluice.core.channel.TcpChannelHandler;
import dev.sluice.core.stack.TcpStack;
import dev.sluice.core.wire.Addresses;
import dev.sluice.driver.CountersFile;
import dev.sluice.driver.ShardAgent;
import dev.sluice.driver.ShardCommand;
import dev.sluice.nativebindings.dpdk.Eal;
import dev.sluice.nativebindings.dpdk.EthPort;
import dev.sluice.nativebindings.dpdk.MbufPool;
import org.agrona.concurrent.AgentRunner;

/**
 * The stack running on one port: the port configured with one rx/tx queue pair per core (RSS where the PMD
 * offers it), a mempool sized for the queues, and one {@link ShardAgent} with its own {@link TcpStack} per
 * queue, each on its own {@link AgentRunner} thread with the configured idle strategy. Frames that land on
 * the wrong shard are handed to their owner through the owner's ring (see {@code FlowSteering}); the
 * application's listeners exist on every shard.
 *
 * <p>Start-up prints a structured log ({@code key=value}); {@link #closeConnections} and {@link #close}
 * make the clean shutdown: every connection closed (FIN, then RST after a grace period), agents stopped,
 * port stopped and closed. The EAL and the device itself belong to the caller.
 */
public final class SluiceRuntime implements AutoCloseable
{
    /** Descriptors per rx and per tx queue. */
    public static final int QUEUE_DESCRIPTORS = 1024;
    /** Mbufs per lcore cache. */
    public static final int POOL_CACHE = 256;
    /** Mbufs kept for frames in flight on the link (rings, tap) and in transmit stashes. */
    public static final int POOL_IN_FLIGHT = 8192;
    /** Receive coalescing ({@code ReceiveCoalescer}): {@code -Dsluice.gro=true}, read at start; off by default. */
    public static final String RX_COALESCING_PROPERTY = "sluice.gro";

    private final EthPort port;
    private final MbufPool pool;
    private final MbufPool largePool; // TSO segments, or null
    private final MbufPool attachPool; // zero-copy transmit, or null
    private final ShardAgent[] agents;
    private final ShardContext[] contexts;
    private final AgentRunner[] runners;
    private final CountersFile countersFile;
    private final PrintStream log;
    private final long commandTimeoutNs;
    private boolean closed;
    private boolean stopped;

    SluiceRuntime(
        final EthPort port, final MbufPool pool, final MbufPool largePool, final MbufPool attachPool,
        final ShardAgent[] agents,
        final ShardContext[] contexts, final AgentRunner[] runners, final CountersFile countersFile,
        final PrintStream log, final long commandTimeoutNs)
    {
        this.commandTimeoutNs = commandTimeoutNs;
        this.port = port;
        this.pool = pool;
        this.largePool = largePool;
        this.attachPool = attachPool;
        this.agents = agents;
        this.contexts = contexts;
        this.runners = runners;
        this.countersFile = countersFile;
        this.log = log;
    }

    /**
     * Configures and starts the port, starts one shard per core and waits until every shard polls.
     *
     * @param eal    the process's EAL.
     * @param port   the port (probed, not started).
     * @param config the settings (the device string is not used here).
     * @param app    what runs on each shard.
     * @param log    where the start-up log goes.
     * @return the running stack.
     */
    public static SluiceRuntime start(
        final Eal eal, final EthPort port, final SluiceConfig config, final Application app, final PrintStream log)
    {
        return start(new SluiceContext().eal(eal).port(port).config(config).application(app).log(log));
    }

    /**
     * Concludes the context, configures and starts the port, builds one shard per core and, unless the context
     * is externally driven, runs each on its own thread and waits until every shard polls.
     *
     * @param context what the stack is wired from ({@link SluiceContext#conclude()} is called here).
     * @return the running stack (the EAL and the device stay the caller's: see {@link Sluice}).
     */
    public static SluiceRuntime start(final SluiceContext context)
    {
        context.conclude();
        final RuntimeStartup startup = new RuntimeStartup(context); // checks the queues, plans pools and offloads
        startup.createPools();
        startup.startPort(); // frees the pools if the port does not start
        startup.assignMac();
        startup.logPort();
        final SluiceRuntime runtime = startup.buildShards(); // on failure: port closed, pools and counters freed
        if (context.externallyDriven())
        {
            context.log().printf("sluice: %d shard(s) built, externally driven (the caller runs each agent)%n",
                startup.cores());
            return runtime;
        }
        startup.startShardThreads();
        startup.awaitShardsRunning(runtime); // closes the runtime if a shard does not start
        startup.logShards();
        return runtime;
    }

    /**
     * @return the number of shards.
     */
    public int shardCount()
    {
        return agents.length;
    }

    /**
     * @param shard index.
     * @return that shard's agent (its counters are exact once the runtime is closed).
     */
    public ShardAgent agent(final int shard)
    {
        return agents[shard];
    }

    /**
     * @param shard index.
     * @return the shard's polling thread (for allocation and CPU measurements), null before it started or when
     *         externally driven.
     */
    public Thread shardThread(final int shard)
    {
        return runners[shard] == null ? null : runners[shard].thread();
    }

    /**
     * @return the port.
     */
    public EthPort port()
    {
        return port;
    }

    /**
     * @return the mempool of received and transmitted frames.
     */
    public MbufPool pool()
    {
        return pool;
    }

    /**
     * @return the mempool of mbufs attached to send-buffer memory (zero-copy transmit), or null when off.
     */
    public MbufPool attachPool()
    {
        return attachPool;
    }

    /**
     * Runs a command on a shard's thread (from any thread). The shard's queue is bounded: while it is full the
     * caller parks (back-pressure, never a spin: 50 us, doubling up to 1 ms), and after the context's
     * {@link SluiceContext#commandTimeoutNs()} the command is rejected.
     *
     * @param shard   index.
     * @param command what to run.
     * @throws RejectedExecutionException if the queue stayed full for the whole timeout.
     */
    public void execute(final int shard, final ShardCommand command)
    {
        final ShardAgent agent = agents[shard];
        if (agent.execute(command))
        {
            return;
        }
        final long deadlineNs = System.nanoTime() + commandTimeoutNs;
        long parkNs = 50_000;
        while (!agent.execute(command))
        {
            final long leftNs = deadlineNs - System.nanoTime();
            if (leftNs <= 0)
            {
                throw new RejectedExecutionException("shard " + shard + ": command queue full for " +
                    TimeUnit.NANOSECONDS.toMillis(commandTimeoutNs) + " ms (is the shard running?)");
            }
            LockSupport.parkNanos(Math.min(parkNs, leftNs));
            parkNs = Math.min(parkNs * 2, 1_000_000);
        }
    }

    /**
     * Queues a command for a shard's thread without waiting.
     *
     * @param shard   index.
     * @param command what to run.
     * @return false if the shard's queue is full.
     */
    public boolean tryExecute(final int shard, final ShardCommand command)
    {
        return agents[shard].execute(command);
    }

    /**
     * Active OPEN from an application thread: the shard opens the connection at the top of its next duty
     * cycle, from a local port whose flow it owns; {@code handler} is then called on that shard's thread.
     *
     * @param shard      which shard owns the connection.
     * @param remoteIp   the peer.
     * @param remotePort its port.
     * @param handler    the connection's handler.
     * @param attachment the channel's attachment, or null.
     * @return completes on the shard's thread with the channel (in SYN-SENT; use it on that thread only), or
     *         exceptionally if no local port or pooled connection was free.
     */
    public CompletableFuture<TcpChannel> connect(
        final int shard, final int remoteIp, final int remotePort, final TcpChannelHandler handler,
        final Object attachment)
    {
        final CompletableFuture<TcpChannel> result = new CompletableFuture<>();
        final ShardContext context = contexts[shard];
        execute(shard, nowNs ->
        {
            final TcpChannel channel = context.open(remoteIp, remotePort, handler, attachment);
            if (channel != null)
            {
                result.complete(channel);
            }
            else
            {
                result.completeExceptionally(new IllegalStateException("shard " + shard +
                    ": no free local port or pooled connection for " + Addresses.ipv4ToString(remoteIp) + ":" +
                    remotePort));
            }
        });
        return result;
    }

    /**
     * Passive OPEN on every shard from an application thread (each shard accepts the connections it owns).
     *
     * @param localPort the port.
     * @param handlers  gives each shard (by index) its listener's handler; called on the caller's thread.
     * @return completes once every shard listens (exceptionally if the port already listens).
     */
    public CompletableFuture<Void> listen(final int localPort, final IntFunction<TcpChannelHandler> handlers)
    {
        final CompletableFuture<?>[] done = new CompletableFuture<?>[agents.length];
        for (int i = 0; i < agents.length; i++)
        {
            final TcpChannelHandler handler = handlers.apply(i);
            final ShardContext context = contexts[i];
            final CompletableFuture<Void> shardDone = new CompletableFuture<>();
            done[i] = shardDone;
            execute(i, nowNs ->
            {
                try
                {
                    context.listen(localPort, handler);
                    shardDone.complete(null);
                }
                catch (final RuntimeException ex)
                {
                    shardDone.completeExceptionally(ex);
                }
            });
        }
        return CompletableFuture.allOf(done);
    }

    /**
     * @param shard index.
     * @return the shard's context (use it on the shard's thread, from a command).
     */
    public ShardContext context(final int shard)
    {
        return contexts[shard];
    }

    /**
     * Closes every application connection on every shard so that peers see a FIN, waits up to
     * {@code graceNs} for the peers to acknowledge it, then aborts what is left (the peer sees a RST).
     *
     * @param graceNs how long to wait for FINs to be acknowledged.
     * @return connections that had to be aborted.
     */
    public int closeConnections(final long graceNs)
    {
        for (int i = 0; i < agents.length; i++)
        {
            final ShardContext context = contexts[i];
            execute(i, nowNs -> context.closeAll());
        }
        final long deadline = System.nanoTime() + graceNs;
        int unfinished = Integer.MAX_VALUE;
        while (System.nanoTime() - deadline < 0)
        {
            unfinished = 0;
            for (final ShardContext context : contexts)
            {
                final int u = context.unfinishedCloses();
                unfinished += u < 0 ? 1 : u;
            }
            if (unfinished == 0)
            {
                return 0;
            }
            sleepMs(10);
        }
        for (int i = 0; i < agents.length; i++)
        {
            final ShardContext context = contexts[i];
            execute(i, nowNs -> context.abortAll());
        }
        sleepMs(50); // let the shards run the aborts and transmit the RSTs
        return unfinished;
    }

    /**
     * Stops the shards (their last frames are flushed), stops and closes the port, frees the mempool and
     * deletes the counters file. Idempotent.
     */
    @Override
    public synchronized void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        stopShards();
        try
        {
            port.stop();
        }
        catch (final RuntimeException ex)
        {
            log.println("sluice: stopping " + port + ": " + ex.getMessage());
        }
        try
        {
            port.close();
        }
        catch (final RuntimeException ex)
        {
            log.println("sluice: closing " + port + ": " + ex.getMessage());
        }
        pool.close();
        closePool(largePool);
        closePool(attachPool);
        if (countersFile != null)
        {
            countersFile.close();
        }
    }

    private static void closePool(final MbufPool pool)
    {
        if (pool != null)
        {
            pool.close();
        }
    }

    /**
     * Stops every shard: each flushes what it built, returns its unused mbufs and publishes its counters.
     * The port keeps running; {@link #close()} stops it. Idempotent.
     */
    public synchronized void stopShards()
    {
        if (!stopped)
        {
            stopped = true;
            for (final AgentRunner runner : runners)
            {
                if (runner != null)
                {
                    runner.close(); // externally driven shards are stopped by their drivers
                }
            }
        }
    }

    private static void sleepMs(final long ms)
    {
        try
        {
            Thread.sleep(ms);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}

package dev.sluice.driver.runtime;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;

import dev.sluice.core.channel.TcpChannel;
import dev.sluice.core.channel.TcpChannelHandler;
import dev.sluice.core.net.NetConfig;
import dev.sluice.core.stack.NetworkSegmentOutput;
import dev.sluice.core.stack.MemoryBudget;
import dev.sluice.core.stack.TcpStack;
import dev.sluice.core.stack.TcpStackCounters;
import dev.sluice.core.tcp.IsnGenerator;
import dev.sluice.core.wire.Addresses;
import dev.sluice.driver.CountersFile;
import dev.sluice.driver.PcapWriter;
import dev.sluice.driver.PortMtu;
import dev.sluice.driver.PortOffloads;
import dev.sluice.driver.DpdkFrameTransmitter;
import dev.sluice.driver.ShardAgent;
import dev.sluice.driver.ShardCommand;
import dev.sluice.driver.ThreadAffinity;
import dev.sluice.nativebindings.dpdk.Eal;
import dev.sluice.nativebindings.dpdk.EthPort;
import dev.sluice.nativebindings.dpdk.MbufPool;
import dev.sluice.nativebindings.dpdk.PortInfo;
import dev.sluice.nativebindings.dpdk.generated.RteEthdev;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

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
    private static final int HANDOFF_RING_BYTES = 4 << 20;
    // A burst of connections opened before the peer's MAC is known must not lose its SYNs while ARP
    // resolves (SYN retransmission is not in core yet): like Linux's unres_qlen (about 100 frames per entry).
    private static final int ARP_ENTRIES = 1024;
    private static final int ARP_PENDING_FRAMES = 1024;
    private static final int ARP_PENDING_PER_ENTRY = 256;
    /** Receive coalescing ({@code ReceiveCoalescer}): {@code -Dsluice.gro=true}, read at start; off by default. */
    public static final String RX_COALESCING_PROPERTY = "sluice.gro";
    /** A symmetric Toeplitz key (0x6d5a repeated): both directions of a flow hash alike. */
    private static final byte[] SYMMETRIC_RSS_KEY = symmetricKey(40);

    private final EthPort port;
    private final MbufPool pool;
    private MbufPool largePool; // TSO segments, or null
    private final ShardAgent[] agents;
    private final ShardContext[] contexts;
    private final AgentRunner[] runners;
    private final CountersFile countersFile;
    private final PrintStream log;
    private final long commandTimeoutNs;
    private boolean closed;
    private boolean stopped;

    private SluiceRuntime(
        final EthPort port, final MbufPool pool, final ShardAgent[] agents, final ShardContext[] contexts,
        final AgentRunner[] runners, final CountersFile countersFile, final PrintStream log,
        final long commandTimeoutNs)
    {
        this.commandTimeoutNs = commandTimeoutNs;
        this.port = port;
        this.pool = pool;
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
        final Eal eal = context.eal();
        final EthPort port = context.port();
        final SluiceConfig config = context.config();
        final Application app = context.application();
        final PrintStream log = context.log();
        final int cores = config.cores();
        final PortInfo info = port.info();
        if (info.maxRxQueues() < cores || info.maxTxQueues() < cores)
        {
            throw new IllegalArgumentException("device " + port.name() + " (" + info.driverName() + ") has " +
                Math.min(info.maxRxQueues(), info.maxTxQueues()) + " queue pair(s): use --cores <= " +
                Math.min(info.maxRxQueues(), info.maxTxQueues()));
        }
        final int poolSize = Integer.highestOneBit(
            cores * (2 * QUEUE_DESCRIPTORS + 2 * 32 + POOL_CACHE) + POOL_IN_FLIGHT) * 2 - 1;
        // --mtu above 1500 (jumbo frames): mbufs that hold a whole frame, the port's MTU where its driver accepts
        final int dataRoom = MbufPool.dataRoomFor(config.mtu());
        // impairment copies frames between the stack and the device: checksums stay in software there
        final boolean impaired = config.impairRx().isActive() || config.impairTx().isActive();
        final boolean coalescing = Boolean.getBoolean(RX_COALESCING_PROPERTY) && !impaired;
        // GSO by default, but not on an impaired link unless asked for (as TSO: loss experiments keep their shape)
        final int gsoBytes = impaired && System.getProperty(ShardAgent.GSO_PROPERTY) == null ? 0 :
            ShardAgent.segmentationBytesByProperty();
        final PortOffloads offloads = PortOffloads.choose(info, PortOffloads.requestedByProperty() && !impaired,
            PortOffloads.tsoRequestedByProperty() && !impaired);
        final int portMtu = PortMtu.configurable(info, config.mtu(), offloads.tso());
        final MbufPool pool = MbufPool.create("sluice_pool_" + port.id(), poolSize, POOL_CACHE, dataRoom);
        // TSO: one large mbuf per segment handed to the device (a 64 KiB segment fits one: no chains)
        final MbufPool largePool = !offloads.tso() ? null : MbufPool.create("sluice_tso_" + port.id(),
            Integer.highestOneBit(cores * 64) * 2 - 1, 16, DpdkFrameTransmitter.LARGE_DATA_ROOM);
        String rss = "off (one queue)";
        try
        {
            if (config.mac() != -1)
            {
                port.macAddress(macBytes(config.mac()));
            }
            final long rssHf = cores > 1 ? info.flowTypeRssOffloads() &
                (RteEthdev.RTE_ETH_RSS_IPV4 | RteEthdev.RTE_ETH_RSS_NONFRAG_IPV4_TCP) : 0;
            boolean configured = false;
            if (rssHf != 0)
            {
                try
                {
                    final byte[] key = info.hashKeySize() == SYMMETRIC_RSS_KEY.length ? SYMMETRIC_RSS_KEY : null;
                    port.configure(cores, cores, rssHf, key, offloads.rxOffloads(), offloads.txOffloads(), portMtu);
                    configured = true;
                    rss = "on (hash types 0x" + Long.toHexString(rssHf) + ", " +
                        (key != null ? "symmetric key" : "driver's key") + "; software steering corrects)";
                }
                catch (final RuntimeException ex)
                {
                    rss = "refused by the PMD (" + ex.getMessage() + "); software steering";
                }
            }
            else if (cores > 1)
            {
                rss = "not offered by the PMD; the link spreads flows, software steering hands them to owners";
            }
            if (!configured)
            {
                port.configure(cores, cores, 0, null, offloads.rxOffloads(), offloads.txOffloads(), portMtu);
            }
            for (int q = 0; q < cores; q++)
            {
                port.setupRxQueue(q, QUEUE_DESCRIPTORS, pool);
                port.setupTxQueue(q, QUEUE_DESCRIPTORS);
            }
            port.start();
        }
        catch (final RuntimeException ex)
        {
            pool.close();
            closePool(largePool);
            throw ex;
        }

        long mac = port.macAddressAsLong();
        String macNote = config.mac() != -1 ? " (--mac)" : "";
        if (mac == 0)
        {
            // net_ring and some other vdevs have no address: a locally administered one, "SL" + 3 random bytes
            mac = 0x0253_4c00_0000L | (new SecureRandom().nextInt() & 0xFF_FFFFL);
            macNote = " (generated: the PMD reports none)";
            try
            {
                port.macAddress(macBytes(mac));
            }
            catch (final RuntimeException ex)
            {
                macNote = " (generated; the PMD cannot store it)";
            }
        }
        log.printf("sluice: port id=%d name=%s driver=%s mac=%s%s queues=%d rx-desc=%d tx-desc=%d max-queues=%d%n",
            port.id(), port.name(), info.driverName(), Addresses.macToString(mac), macNote, cores,
            QUEUE_DESCRIPTORS, QUEUE_DESCRIPTORS, Math.min(info.maxRxQueues(), info.maxTxQueues()));
        log.printf("sluice: rss %s%n", rss);
        log.printf("sluice: offloads %s%s rx-coalescing=%s gso=%s%n", offloads.describe(),
            impaired ? " (impaired link: software)" : "", coalescing ? "on" : "off (-Dsluice.gro=true)",
            gsoBytes > 0 ? "on (" + gsoBytes + " bytes, -D" + ShardAgent.GSO_PROPERTY + "=false for off)" : "off");
        log.printf("sluice: mempool name=%s mbufs=%d cache=%d data-room=%d port-mtu=%s%s%n", pool.name(), poolSize,
            POOL_CACHE, dataRoom, PortMtu.describe(info, config.mtu(), portMtu),
            largePool == null ? "" : " tso-mempool=" + largePool.name() + " data-room=" +
            DpdkFrameTransmitter.LARGE_DATA_ROOM + " tso-frames<=" + PortMtu.tsoFrameLimit(info, portMtu));

        final ShardAgent[] agents = new ShardAgent[cores];
        final ShardContext[] contexts = new ShardContext[cores];
        final AgentRunner[] runners = new AgentRunner[cores];
        CountersFile counters = null;
        try
        {
            final NetConfig.Builder netBuilder = NetConfig.builder().localMac(mac)
                .localIp(config.ip(), config.prefixLength()).mtu(config.mtu())
                .arpCapacity(ARP_ENTRIES, ARP_PENDING_FRAMES, ARP_PENDING_PER_ENTRY);
            if (config.gatewayIp() != 0)
            {
                netBuilder.gatewayIp(config.gatewayIp());
            }
            final NetConfig netConfig = netBuilder.build();
            final SecureRandom random = new SecureRandom();
            final long isnKey0 = random.nextLong();
            final long isnKey1 = random.nextLong();
            counters = config.countersFile() == null ? null :
                CountersFile.create(Path.of(config.countersFile()), 128 * cores + 64);

            final ManyToOneRingBuffer[] rings = new ManyToOneRingBuffer[cores];
            for (int i = 0; i < cores; i++)
            {
                rings[i] = new ManyToOneRingBuffer(new UnsafeBuffer(
                    ByteBuffer.allocateDirect(HANDOFF_RING_BYTES + RingBufferDescriptor.TRAILER_LENGTH)));
            }
            final long wallNs = System.currentTimeMillis() * 1_000_000L;
            for (int i = 0; i < cores; i++)
            {
                final TcpStackCounters tcpCounters = new TcpStackCounters();
                final NetworkSegmentOutput output = new NetworkSegmentOutput(0, tcpCounters);
                // one key for all shards, one generator each: its SipHash state is single-threaded
                final TcpStack tcp = new TcpStack(config.tcp(), new IsnGenerator(isnKey0, isnKey1), output,
                    tcpCounters, config.maxConnections(), MemoryBudget.of(config.memoryBudgetBytes()).newPool());
                tcp.synBacklog(config.synBacklog());
                tcp.synCookies(config.synCookies());
                final PcapWriter pcap = config.pcapFile() == null ? null : new PcapWriter(
                    Path.of(pcapName(config.pcapFile(), i, cores)), 4 << 20, wallNs, System.nanoTime());
                final ShardAgent agent = new ShardAgent(eal, pool, port.id(), i, netConfig, tcp, output,
                    new SystemNanoClock(), pcap);
                agent.shareWith(i, rings);
                agent.impair(config.impairRx(), config.impairTx());
                agent.offloads(offloads);
                agent.segmentationPool(largePool, PortMtu.tsoFrameLimit(info, portMtu));
                agent.coalesce(coalescing);
                agent.segmentationOffload(gsoBytes);
                final ShardContext shardContext = new ShardContext(agent, tcp, config.ip());
                final ShardApplication part = app.forShard(shardContext);
                if (config.listenPort() != 0 && part.listener() != null)
                {
                    tcp.listen(config.listenPort(), part.listener());
                }
                agent.work(nowNs -> part.doWork(nowNs) + shardContext.doWork(nowNs));
                if (counters != null)
                {
                    agent.publishCountersTo(counters.allocateNetCounters("shard " + i));
                    agent.publishShardCountersTo(counters.allocateShardCounters("shard " + i),
                        counters.allocateTcpCounters("shard " + i));
                }
                agents[i] = agent;
                contexts[i] = shardContext;
                // a shard never dies silently: an Error ends the process (ShardFailureHandler), the rest is reported
                final ShardFailureHandler failures = new ShardFailureHandler(i, System.err);
                final org.agrona.ErrorHandler reported = context.errorHandler();
                runners[i] = context.externallyDriven() ? null : new AgentRunner(context.newIdleStrategy(),
                    ex ->
                    {
                        if (ex instanceof Error)
                        {
                            failures.onError(ex);
                        }
                        else
                        {
                            reported.onError(ex);
                        }
                    }, null, agent);
            }
        }
        catch (final RuntimeException ex)
        {
            port.stop();
            port.close();
            pool.close();
            closePool(largePool);
            if (counters != null)
            {
                counters.close();
            }
            throw ex;
        }
        final SluiceRuntime runtime = new SluiceRuntime(port, pool, agents, contexts, runners, counters, log,
            context.commandTimeoutNs());
        runtime.largePool = largePool;
        if (context.externallyDriven())
        {
            log.printf("sluice: %d shard(s) built, externally driven (the caller runs each agent)%n", cores);
            return runtime;
        }
        for (int i = 0; i < cores; i++)
        {
            final int shard = i;
            final int cpu = config.cpus().isEmpty() ? -1 : config.cpus().get(i);
            AgentRunner.startOnThread(runners[i], r ->
            {
                final Thread t = new Thread(() ->
                {
                    if (cpu >= 0)
                    {
                        try
                        {
                            ThreadAffinity.pinCurrentThread(cpu);
                        }
                        catch (final RuntimeException ex)
                        {
                            log.println("sluice: warning: shard " + shard + " runs unpinned: " + ex.getMessage());
                        }
                    }
                    r.run();
                }, "sluice-shard-" + shard);
                t.setDaemon(true);
                t.setUncaughtExceptionHandler(new ShardFailureHandler(shard, System.err));
                return t;
            });
        }
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (final ShardAgent agent : agents)
        {
            while (!agent.isRunning())
            {
                if (System.nanoTime() > deadline)
                {
                    runtime.close();
                    throw new IllegalStateException("a shard did not start within 10 s");
                }
                Thread.onSpinWait();
                Thread.yield();
            }
        }
        for (int i = 0; i < cores; i++)
        {
            log.printf("sluice: shard index=%d queue=%d thread=sluice-shard-%d cpu=%s idle=%s lcore=%d%n", i, i, i,
                config.cpus().isEmpty() ? "any" : config.cpus().get(i).toString(),
                config.idle().name().toLowerCase(java.util.Locale.ROOT), agents[i].lcore().id());
        }
        if (config.impairRx().isActive() || config.impairTx().isActive())
        {
            log.printf("sluice: impairment rx=%s tx=%s (netem-style, at the device boundary)%n",
                config.impairRx(), config.impairTx());
        }
        log.printf("sluice: ip=%s/%d gateway=%s mtu=%d mss=%d memory-budget=%dMiB/core max-connections=%d/core " +
            "payload-pool=%dMiB/core counters=%s pcap=%s%n",
            Addresses.ipv4ToString(config.ip()), config.prefixLength(),
            config.gatewayIp() == 0 ? "none" : Addresses.ipv4ToString(config.gatewayIp()), config.mtu(),
            config.tcp().mssBytes(), config.memoryBudgetBytes() >> 20, config.maxConnections(),
            MemoryBudget.of(config.memoryBudgetBytes()).poolBytes() >> 20, config.countersFile(),
            config.pcapFile() == null ? "off" : config.pcapFile());
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

    /**
     * @param mac the MAC as a number.
     * @return its 6 bytes.
     */
    static byte[] macBytes(final long mac)
    {
        final byte[] bytes = new byte[6];
        for (int i = 0; i < 6; i++)
        {
            bytes[i] = (byte)(mac >>> (40 - 8 * i));
        }
        return bytes;
    }

    static String pcapName(final String file, final int shard, final int shards)
    {
        if (shards == 1)
        {
            return file;
        }
        final int dot = file.lastIndexOf('.');
        return dot > file.lastIndexOf('/') ? file.substring(0, dot) + "-shard" + shard + file.substring(dot) :
            file + "-shard" + shard;
    }

    private static byte[] symmetricKey(final int length)
    {
        final byte[] key = new byte[length];
        for (int i = 0; i < length; i += 2)
        {
            key[i] = 0x6d;
            key[i + 1] = 0x5a;
        }
        return key;
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

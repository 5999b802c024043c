package dev.sluice.driver.runtime;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import dev.sluice.core.net.NetConfig;
import dev.sluice.core.stack.MemoryBudget;
import dev.sluice.core.stack.NetworkSegmentOutput;
import dev.sluice.core.stack.TcpStack;
import dev.sluice.core.stack.TcpStackCounters;
import dev.sluice.core.tcp.IsnGenerator;
import dev.sluice.core.wire.Addresses;
import dev.sluice.driver.CountersFile;
import dev.sluice.driver.DpdkFrameTransmitter;
import dev.sluice.driver.PcapWriter;
import dev.sluice.driver.PortMtu;
import dev.sluice.driver.PortOffloads;
import dev.sluice.driver.ShardAgent;
import dev.sluice.driver.ThreadAffinity;
import dev.sluice.driver.ZeroCopyTransmit;
import dev.sluice.nativebindings.dpdk.EthPort;
import dev.sluice.nativebindings.dpdk.MbufPool;
import dev.sluice.nativebindings.dpdk.PortInfo;
import dev.sluice.nativebindings.dpdk.generated.RteEthdev;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import static dev.sluice.driver.runtime.SluiceRuntime.POOL_CACHE;
import static dev.sluice.driver.runtime.SluiceRuntime.POOL_IN_FLIGHT;
import static dev.sluice.driver.runtime.SluiceRuntime.QUEUE_DESCRIPTORS;

/**
 * One start of a {@link SluiceRuntime} from a concluded {@link SluiceContext}, as the named steps
 * {@link SluiceRuntime#start(SluiceContext)} runs in order. The constructor checks the port's queues and plans
 * once what every later step reads (mempool size, data room, offloads, port MTU, GSO, receive coalescing);
 * the steps then acquire the mempools, the started port, the counters file and the shards, in that order. A
 * step that fails releases what the steps before it acquired, in reverse order, and rethrows; once the shards
 * are built the {@link SluiceRuntime} owns everything and {@link SluiceRuntime#close()} releases it. Used once,
 * on the starting thread.
 */
final class RuntimeStartup
{
    private static final int HANDOFF_RING_BYTES = 4 << 20;
    // A burst of connections opened before the peer's MAC is known must not lose its SYNs while ARP
    // resolves (SYN retransmission is not in core yet): like Linux's unres_qlen (about 100 frames per entry).
    private static final int ARP_ENTRIES = 1024;
    private static final int ARP_PENDING_FRAMES = 1024;
    private static final int ARP_PENDING_PER_ENTRY = 256;
    /** A symmetric Toeplitz key (0x6d5a repeated): both directions of a flow hash alike. */
    private static final byte[] SYMMETRIC_RSS_KEY = symmetricKey(40);
    private static final long SHARD_START_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);

    private final SluiceContext context;
    private final SluiceConfig config;
    private final EthPort port;
    private final PrintStream log;
    private final PortInfo info;
    private final int cores;
    private final int poolSize;
    private final int dataRoom;
    private final boolean impaired;
    private final boolean coalescing;
    private final int gsoBytes;
    private final PortOffloads offloads;
    private final int portMtu;
    private final ShardAgent[] agents;
    private final ShardContext[] contexts;
    private final AgentRunner[] runners;
    private MbufPool pool;
    private MbufPool largePool; // TSO segments, or null
    private MbufPool attachPool; // zero-copy transmit: mbufs without data room, or null
    private final String zeroCopyOff; // null when zero-copy transmit is on, else why not
    private String rss = "off (one queue)";
    private long mac;
    private String macNote;
    private CountersFile counters;

    /**
     * Checks that the port has a queue pair per core and plans the port's set-up (nothing is acquired yet).
     *
     * @param context a concluded context.
     * @throws IllegalArgumentException if the port has fewer queue pairs than cores.
     */
    RuntimeStartup(final SluiceContext context)
    {
        this.context = context;
        config = context.config();
        port = context.port();
        log = context.log();
        cores = config.cores();
        info = port.info();
        final int queuePairs = Math.min(info.maxRxQueues(), info.maxTxQueues());
        if (info.maxRxQueues() < cores || info.maxTxQueues() < cores)
        {
            throw new IllegalArgumentException("device " + port.name() + " (" + info.driverName() + ") has " +
                queuePairs + " queue pair(s): use --cores <= " + queuePairs);
        }
        poolSize = Integer.highestOneBit(
            cores * (2 * QUEUE_DESCRIPTORS + 2 * 32 + POOL_CACHE) + POOL_IN_FLIGHT) * 2 - 1;
        // --mtu above 1500 (jumbo frames): mbufs that hold a whole frame, the port's MTU where its driver accepts
        dataRoom = MbufPool.dataRoomFor(config.mtu());
        // impairment copies frames between the stack and the device: checksums stay in software there
        impaired = config.impairRx().isActive() || config.impairTx().isActive();
        coalescing = Boolean.getBoolean(SluiceRuntime.RX_COALESCING_PROPERTY) && !impaired;
        // GSO by default, but not on an impaired link unless asked for (as TSO: loss experiments keep their shape)
        gsoBytes = impaired && System.getProperty(ShardAgent.GSO_PROPERTY) == null ? 0 :
            ShardAgent.segmentationBytesByProperty();
        offloads = PortOffloads.choose(info, PortOffloads.requestedByProperty() && !impaired,
            PortOffloads.tsoRequestedByProperty() && !impaired);
        portMtu = PortMtu.configurable(info, config.mtu(), offloads.tso());
        zeroCopyOff = !ZeroCopyTransmit.requestedByProperty() ? "default; -D" + ZeroCopyTransmit.PROPERTY + "=true for on" :
            impaired ? "impaired link" : ZeroCopyTransmit.unsupportedReason(info, config.device());
        agents = new ShardAgent[cores];
        contexts = new ShardContext[cores];
        runners = new AgentRunner[cores];
    }

    /**
     * Step 1: the mempool of frames and, with TSO, the pool of large mbufs (a 64 KiB segment fits one: no chains).
     */
    void createPools()
    {
        pool = MbufPool.create("sluice_pool_" + port.id(), poolSize, POOL_CACHE, dataRoom);
        largePool = !offloads.tso() ? null : MbufPool.create("sluice_tso_" + port.id(),
            Integer.highestOneBit(cores * 64) * 2 - 1, 16, DpdkFrameTransmitter.LARGE_DATA_ROOM);
        // a frame with referenced payload chains one or two of these (an MSS spans at most two 4 KiB chunks)
        attachPool = zeroCopyOff != null ? null : MbufPool.create("sluice_ext_" + port.id(), poolSize, POOL_CACHE, 0);
    }

    /**
     * Step 2: the port configured (the --mac, RSS where the PMD offers it, one queue pair per core) and started.
     * On failure the mempools are freed.
     */
    void startPort()
    {
        try
        {
            if (config.mac() != -1)
            {
                port.macAddress(macBytes(config.mac()));
            }
            if (!configureWithRss())
            {
                port.configure(cores, cores, 0, null, offloads.rxOffloads(), txOffloads(), portMtu);
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
            closePools();
            throw ex;
        }
    }

    private long txOffloads()
    {
        return offloads.txOffloads() | (attachPool != null ? ZeroCopyTransmit.txOffloads(info) : 0);
    }

    /**
     * @return true if the port was configured with RSS; false (and {@link #rss} says why) if it still needs
     *         configuring without.
     */
    private boolean configureWithRss()
    {
        final long rssHf = cores > 1 ? info.flowTypeRssOffloads() &
            (RteEthdev.RTE_ETH_RSS_IPV4 | RteEthdev.RTE_ETH_RSS_NONFRAG_IPV4_TCP) : 0;
        if (rssHf == 0)
        {
            if (cores > 1)
            {
                rss = "not offered by the PMD; the link spreads flows, software steering hands them to owners";
            }
            return false;
        }
        try
        {
            final byte[] key = info.hashKeySize() == SYMMETRIC_RSS_KEY.length ? SYMMETRIC_RSS_KEY : null;
            port.configure(cores, cores, rssHf, key, offloads.rxOffloads(), txOffloads(), portMtu);
            rss = "on (hash types 0x" + Long.toHexString(rssHf) + ", " +
                (key != null ? "symmetric key" : "driver's key") + "; software steering corrects)";
            return true;
        }
        catch (final RuntimeException ex)
        {
            rss = "refused by the PMD (" + ex.getMessage() + "); software steering";
            return false;
        }
    }

    /**
     * Step 3: the stack's MAC: the port's, or a generated one where the PMD reports none.
     */
    void assignMac()
    {
        mac = port.macAddressAsLong();
        macNote = config.mac() != -1 ? " (--mac)" : "";
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
    }

    /**
     * Step 4: the port, RSS, offload and mempool lines of the start-up log.
     */
    void logPort()
    {
        log.printf("sluice: port id=%d name=%s driver=%s mac=%s%s queues=%d rx-desc=%d tx-desc=%d max-queues=%d%n",
            port.id(), port.name(), info.driverName(), Addresses.macToString(mac), macNote, cores,
            QUEUE_DESCRIPTORS, QUEUE_DESCRIPTORS, Math.min(info.maxRxQueues(), info.maxTxQueues()));
        log.printf("sluice: rss %s%n", rss);
        log.printf("sluice: offloads %s%s rx-coalescing=%s gso=%s%n", offloads.describe(),
            impaired ? " (impaired link: software)" : "", coalescing ? "on" : "off (-Dsluice.gro=true)",
            gsoBytes > 0 ? "on (" + gsoBytes + " bytes, -D" + ShardAgent.GSO_PROPERTY + "=false for off)" : "off");
        log.printf("sluice: offloads zero-copy=%s%n", zeroCopyOff == null ? "on (payloads >= " +
            ZeroCopyTransmit.MIN_BYTES + " B sent by reference to send-buffer memory, -D" + ZeroCopyTransmit.PROPERTY +
            "=false for off)" : "off (" + zeroCopyOff + ")");
        log.printf("sluice: mempool name=%s mbufs=%d cache=%d data-room=%d port-mtu=%s%s%n", pool.name(), poolSize,
            POOL_CACHE, dataRoom, PortMtu.describe(info, config.mtu(), portMtu),
            largePool == null ? "" : " tso-mempool=" + largePool.name() + " data-room=" +
            DpdkFrameTransmitter.LARGE_DATA_ROOM + " tso-frames<=" + PortMtu.tsoFrameLimit(info, portMtu));
    }

    /**
     * Step 5: the counters file and one shard per core (stack, agent, application, counters, and its runner
     * unless externally driven). On failure the port is stopped and closed, the mempools freed and the counters
     * file deleted.
     *
     * @return the runtime, which owns everything acquired so far.
     */
    SluiceRuntime buildShards()
    {
        try
        {
            final NetConfig netConfig = netConfig();
            final SecureRandom random = new SecureRandom();
            final long isnKey0 = random.nextLong();
            final long isnKey1 = random.nextLong();
            counters = config.countersFile() == null ? null :
                CountersFile.create(Path.of(config.countersFile()), 128 * cores + 64);
            final ManyToOneRingBuffer[] rings = handoffRings();
            final long wallNs = System.currentTimeMillis() * 1_000_000L;
            for (int i = 0; i < cores; i++)
            {
                buildShard(i, netConfig, isnKey0, isnKey1, rings, wallNs);
            }
        }
        catch (final RuntimeException ex)
        {
            port.stop();
            port.close();
            closePools();
            if (counters != null)
            {
                counters.close();
            }
            throw ex;
        }
        return new SluiceRuntime(port, pool, largePool, attachPool, agents, contexts, runners, counters, log,
            context.commandTimeoutNs());
    }

    private NetConfig netConfig()
    {
        final NetConfig.Builder netBuilder = NetConfig.builder().localMac(mac)
            .localIp(config.ip(), config.prefixLength()).mtu(config.mtu())
            .arpCapacity(ARP_ENTRIES, ARP_PENDING_FRAMES, ARP_PENDING_PER_ENTRY);
        if (config.gatewayIp() != 0)
        {
            netBuilder.gatewayIp(config.gatewayIp());
        }
        return netBuilder.build();
    }

    private ManyToOneRingBuffer[] handoffRings()
    {
        final ManyToOneRingBuffer[] rings = new ManyToOneRingBuffer[cores];
        for (int i = 0; i < cores; i++)
        {
            rings[i] = new ManyToOneRingBuffer(new UnsafeBuffer(
                ByteBuffer.allocateDirect(HANDOFF_RING_BYTES + RingBufferDescriptor.TRAILER_LENGTH)));
        }
        return rings;
    }

    private void buildShard(
        final int i, final NetConfig netConfig, final long isnKey0, final long isnKey1,
        final ManyToOneRingBuffer[] rings, final long wallNs)
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
        final ShardAgent agent = new ShardAgent(context.eal(), pool, port.id(), i, netConfig, tcp, output,
            new SystemNanoClock(), pcap);
        agent.shareWith(i, rings);
        agent.impair(config.impairRx(), config.impairTx());
        agent.offloads(offloads);
        agent.segmentationPool(largePool, PortMtu.tsoFrameLimit(info, portMtu));
        agent.coalesce(coalescing);
        agent.segmentationOffload(gsoBytes);
        agent.zeroCopy(attachPool, ZeroCopyTransmit.MIN_BYTES);
        final ShardContext shardContext = new ShardContext(agent, tcp, config.ip());
        final ShardApplication part = context.application().forShard(shardContext);
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
        runners[i] = context.externallyDriven() ? null : newRunner(i, agent);
    }

    private AgentRunner newRunner(final int shard, final ShardAgent agent)
    {
        // a shard never dies silently: an Error ends the process (ShardFailureHandler), the rest is reported
        final ShardFailureHandler failures = new ShardFailureHandler(shard, System.err);
        final ErrorHandler reported = context.errorHandler();
        return new AgentRunner(context.newIdleStrategy(),
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

    /**
     * Step 6 (not when externally driven): one daemon thread per shard, pinned to its --cpus entry if given.
     */
    void startShardThreads()
    {
        for (int i = 0; i < cores; i++)
        {
            final int shard = i;
            final int cpu = config.cpus().isEmpty() ? -1 : config.cpus().get(i);
            AgentRunner.startOnThread(runners[i], r -> newShardThread(shard, cpu, r));
        }
    }

    private Thread newShardThread(final int shard, final int cpu, final Runnable runner)
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
            runner.run();
        }, "sluice-shard-" + shard);
        t.setDaemon(true);
        t.setUncaughtExceptionHandler(new ShardFailureHandler(shard, System.err));
        return t;
    }

    /**
     * Step 7: waits until every shard polls; after 10 s the runtime is closed and start-up fails.
     *
     * @param runtime the runtime the shards belong to.
     * @throws IllegalStateException if a shard did not start in time.
     */
    void awaitShardsRunning(final SluiceRuntime runtime)
    {
        final long deadline = System.nanoTime() + SHARD_START_TIMEOUT_NS;
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
    }

    /**
     * Step 8: the shard, impairment and stack lines of the start-up log.
     */
    void logShards()
    {
        for (int i = 0; i < cores; i++)
        {
            log.printf("sluice: shard index=%d queue=%d thread=sluice-shard-%d cpu=%s idle=%s lcore=%d%n", i, i, i,
                config.cpus().isEmpty() ? "any" : config.cpus().get(i).toString(),
                config.idle().name().toLowerCase(Locale.ROOT), agents[i].lcore().id());
        }
        if (impaired)
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
    }

    /**
     * @return the number of shards being built.
     */
    int cores()
    {
        return cores;
    }

    private void closePools()
    {
        pool.close();
        if (largePool != null)
        {
            largePool.close();
        }
        if (attachPool != null)
        {
            attachPool.close();
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
}

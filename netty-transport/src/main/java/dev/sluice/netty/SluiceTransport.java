package dev.sluice.netty;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicInteger;

import dev.sluice.core.net.NetConfig;
import dev.sluice.core.stack.NetworkSegmentOutput;
import dev.sluice.core.stack.TcpStack;
import dev.sluice.core.stack.TcpStackCounters;
import dev.sluice.core.tcp.IsnGenerator;
import dev.sluice.driver.ShardAgent;
import dev.sluice.driver.runtime.SluiceConfig;
import dev.sluice.nativebindings.dpdk.Eal;
import dev.sluice.nativebindings.dpdk.EthPort;
import dev.sluice.nativebindings.dpdk.MbufPool;
import dev.sluice.nativebindings.dpdk.PortInfo;
import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

/**
 * One DPDK port prepared for Netty: the port configured with one rx/tx queue pair per shard and started, a
 * mempool, and one {@link ShardAgent} (with its own {@link TcpStack}) per queue, built but not started: no
 * thread runs them. Each {@link SluiceIoHandler} takes one shard and drives it from its Netty event loop
 * thread ({@code onStart}, {@code doWork} per loop iteration, {@code onClose}). The port stops and the
 * mempool is freed when the last shard's handler is destroyed (the event loop group terminated).
 *
 * <p>Convergence note: this is the Netty module's own "externally driven" construction of shards (the
 * runtime's {@code SluiceRuntime.start} starts one thread per shard); it follows the same port and shard
 * set-up and is to be replaced by the runtime's externally-driven mode once that exists.
 */
public final class SluiceTransport
{
    private static final int QUEUE_DESCRIPTORS = 1024;
    private static final int POOL_CACHE = 256;
    private static final int POOL_IN_FLIGHT = 8192;
    private static final int HANDOFF_RING_BYTES = 4 << 20;
    private static final int ARP_ENTRIES = 1024;
    private static final int ARP_PENDING_FRAMES = 1024;
    private static final int ARP_PENDING_PER_ENTRY = 256;

    private final Eal eal;
    private final EthPort port;
    private final MbufPool pool;
    private final SluiceConfig config;
    private final ShardAgent[] agents;
    private final SluiceIoHandler[] handlers;
    private final AtomicInteger nextShard = new AtomicInteger();
    private final AtomicInteger liveHandlers = new AtomicInteger();
    private final boolean ownsEal;
    private volatile boolean closed;

    private SluiceTransport(
        final Eal eal, final EthPort port, final MbufPool pool, final SluiceConfig config, final ShardAgent[] agents,
        final boolean ownsEal)
    {
        this.eal = eal;
        this.port = port;
        this.pool = pool;
        this.config = config;
        this.agents = agents;
        this.handlers = new SluiceIoHandler[agents.length];
        this.ownsEal = ownsEal;
    }

    /**
     * Starts the EAL with the configured device (once per process), probes the port and prepares its shards.
     *
     * @param config device, address, cores (one event loop each), TCP settings.
     * @return the prepared transport.
     */
    public static SluiceTransport open(final SluiceConfig config)
    {
        final Eal eal = Eal.init(config.fullEalArgs());
        return prepare(eal, EthPort.byName(config.portName()), config, true);
    }

    /**
     * Prepares a port of an EAL the caller owns (tests: two transports over a net_ring pair in one JVM).
     *
     * @param eal    the process's EAL.
     * @param port   a probed, unconfigured port.
     * @param config address, cores and TCP settings (the device string is not used).
     * @return the prepared transport.
     */
    public static SluiceTransport prepare(final Eal eal, final EthPort port, final SluiceConfig config)
    {
        return prepare(eal, port, config, false);
    }

    private static SluiceTransport prepare(
        final Eal eal, final EthPort port, final SluiceConfig config, final boolean ownsEal)
    {
        final int cores = config.cores();
        final PortInfo info = port.info();
        if (info.maxRxQueues() < cores || info.maxTxQueues() < cores)
        {
            throw new IllegalArgumentException("device " + port.name() + " has " +
                Math.min(info.maxRxQueues(), info.maxTxQueues()) + " queue pair(s), " + cores + " shards asked");
        }
        final int poolSize = Integer.highestOneBit(
            cores * (2 * QUEUE_DESCRIPTORS + 2 * 32 + POOL_CACHE) + POOL_IN_FLIGHT) * 2 - 1;
        final MbufPool pool = MbufPool.create("sluice_netty_" + port.id(), poolSize, POOL_CACHE,
            MbufPool.DEFAULT_DATA_ROOM);
        try
        {
            if (config.mac() != -1)
            {
                port.macAddress(macBytes(config.mac()));
            }
            // software flow steering hands frames that land on the wrong queue to their owner (no RSS set-up
            // here: the runtime's RSS configuration is to be shared once the runtime can be driven externally)
            port.configure(cores, cores, 0, null, 0, 0);
            for (int q = 0; q < cores; q++)
            {
                port.setupRxQueue(q, QUEUE_DESCRIPTORS, pool);
                port.setupTxQueue(q, QUEUE_DESCRIPTORS);
            }
            port.start();
            long mac = port.macAddressAsLong();
            if (mac == 0)
            {
                // net_ring and some other vdevs have no address: a locally administered one, "SL" + 3 random bytes
                mac = 0x0253_4c00_0000L | (new SecureRandom().nextInt() & 0xFF_FFFFL);
                try
                {
                    port.macAddress(macBytes(mac));
                }
                catch (final RuntimeException ex)
                {
                    // the PMD cannot store it (net_ring): frames still carry it, the ring does not filter
                }
            }
            final NetConfig.Builder net = NetConfig.builder().localMac(mac)
                .localIp(config.ip(), config.prefixLength()).mtu(config.mtu())
                .arpCapacity(ARP_ENTRIES, ARP_PENDING_FRAMES, ARP_PENDING_PER_ENTRY);
            if (config.gatewayIp() != 0)
            {
                net.gatewayIp(config.gatewayIp());
            }
            final NetConfig netConfig = net.build();
            final SecureRandom random = new SecureRandom();
            final IsnGenerator isn = new IsnGenerator(random.nextLong(), random.nextLong());
            final ManyToOneRingBuffer[] rings = new ManyToOneRingBuffer[cores];
            for (int i = 0; i < cores; i++)
            {
                rings[i] = new ManyToOneRingBuffer(new UnsafeBuffer(
                    ByteBuffer.allocateDirect(HANDOFF_RING_BYTES + RingBufferDescriptor.TRAILER_LENGTH)));
            }
            final ShardAgent[] agents = new ShardAgent[cores];
            for (int i = 0; i < cores; i++)
            {
                final TcpStackCounters counters = new TcpStackCounters();
                final NetworkSegmentOutput output = new NetworkSegmentOutput(0, counters);
                final TcpStack tcp = new TcpStack(config.tcp(), isn, output, counters, config.maxConnections());
                final ShardAgent agent = new ShardAgent(eal, pool, port.id(), i, netConfig, tcp, output,
                    new SystemNanoClock(), null);
                agent.shareWith(i, rings);
                agents[i] = agent;
            }
            return new SluiceTransport(eal, port, pool, config, agents, ownsEal);
        }
        catch (final RuntimeException ex)
        {
            pool.close();
            throw ex;
        }
    }

    /**
     * @return the number of shards: the event loop group must have exactly this many event loops.
     */
    public int shardCount()
    {
        return agents.length;
    }

    /**
     * @return the settings.
     */
    public SluiceConfig config()
    {
        return config;
    }

    /**
     * @return the port.
     */
    public EthPort port()
    {
        return port;
    }

    /**
     * @return the mempool (for tests: every mbuf back once the group terminated).
     */
    public MbufPool pool()
    {
        return pool;
    }

    /**
     * @return whether the port was stopped (every shard's handler destroyed).
     */
    public boolean isClosed()
    {
        return closed;
    }

    /**
     * @param shard index.
     * @return the handler driving that shard, or null before its event loop was created.
     */
    SluiceIoHandler handler(final int shard)
    {
        return handlers[shard];
    }

    SluiceIoHandler newHandler(final io.netty.util.concurrent.ThreadAwareExecutor executor)
    {
        final int shard = nextShard.getAndIncrement();
        if (shard >= agents.length)
        {
            throw new IllegalStateException("the event loop group has more event loops than the transport has " +
                "shards (" + agents.length + "): create it with nThreads = transport.shardCount() " +
                "(SluiceEventLoopGroup does)");
        }
        final SluiceIoHandler handler = new SluiceIoHandler(this, agents[shard], shard, executor);
        handlers[shard] = handler;
        liveHandlers.incrementAndGet();
        return handler;
    }

    void handlerDestroyed()
    {
        if (liveHandlers.decrementAndGet() == 0)
        {
            close();
        }
    }

    private synchronized void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        try
        {
            port.stop();
            port.close();
        }
        catch (final RuntimeException ex)
        {
            System.err.println("sluice-netty: stopping " + port + ": " + ex.getMessage());
        }
        pool.close();
        if (ownsEal)
        {
            if (config.isVdev())
            {
                try
                {
                    eal.removeVdev(config.portName());
                }
                catch (final RuntimeException ex)
                {
                    System.err.println("sluice-netty: removing " + config.portName() + ": " + ex.getMessage());
                }
            }
            eal.close();
        }
    }

    private static byte[] macBytes(final long mac)
    {
        final byte[] bytes = new byte[6];
        for (int i = 0; i < 6; i++)
        {
            bytes[i] = (byte)(mac >>> (40 - 8 * i));
        }
        return bytes;
    }
}

package dev.sluice.netty;

import java.util.concurrent.atomic.AtomicInteger;

import dev.sluice.driver.ShardAgent;
import dev.sluice.driver.runtime.ShardContext;
import dev.sluice.driver.runtime.Sluice;
import dev.sluice.driver.runtime.SluiceConfig;
import dev.sluice.driver.runtime.SluiceContext;
import dev.sluice.driver.runtime.SluiceRuntime;
import dev.sluice.nativebindings.dpdk.Eal;
import dev.sluice.nativebindings.dpdk.EthPort;
import dev.sluice.nativebindings.dpdk.MbufPool;

/**
 * One DPDK port prepared for Netty: the Sluice runtime started in its externally-driven mode
 * ({@link SluiceContext#externallyDriven}): the port configured with one rx/tx queue pair per shard (RSS where
 * the driver offers it), a mempool, counters, and one {@link ShardAgent} with its own TCP per queue, built but
 * run by no thread. Each {@link SluiceIoHandler} takes one shard and drives it from its Netty event loop thread
 * ({@code onStart}, {@code doWork} per loop iteration, {@code onClose}). When the last shard's handler is
 * destroyed (the event loop group terminated) the runtime is closed: port stopped, mempool freed, and if this
 * transport started the EAL, the device removed and the EAL released.
 */
public final class SluiceTransport
{
    private final Sluice sluice;
    private final SluiceRuntime runtime;
    private final SluiceConfig config;
    private final SluiceIoHandler[] handlers;
    private final AtomicInteger nextShard = new AtomicInteger();
    private final AtomicInteger liveHandlers = new AtomicInteger();
    private volatile boolean closed;

    private SluiceTransport(final Sluice sluice, final SluiceConfig config)
    {
        this.sluice = sluice;
        this.runtime = sluice.runtime();
        this.config = config;
        this.handlers = new SluiceIoHandler[runtime.shardCount()];
    }

    /**
     * Starts the EAL with the configured device (once per process), the port and its shards.
     *
     * @param config device, address, cores (one event loop each), TCP settings.
     * @return the prepared transport.
     */
    public static SluiceTransport open(final SluiceConfig config)
    {
        return new SluiceTransport(Sluice.start(new SluiceContext().config(config).externallyDriven(true)), config);
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
        return new SluiceTransport(Sluice.start(
            new SluiceContext().config(config).eal(eal).port(port).externallyDriven(true)), config);
    }

    /**
     * @return the number of shards: the event loop group must have exactly this many event loops.
     */
    public int shardCount()
    {
        return handlers.length;
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
        return runtime.port();
    }

    /**
     * @return the mempool (for tests: every mbuf back once the group terminated).
     */
    public MbufPool pool()
    {
        return runtime.pool();
    }

    /**
     * @return whether the runtime was closed (every shard's handler destroyed).
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
        if (shard >= handlers.length)
        {
            throw new IllegalStateException("the event loop group has more event loops than the transport has " +
                "shards (" + handlers.length + "): create it with nThreads = transport.shardCount() " +
                "(SluiceEventLoopGroup does)");
        }
        final ShardContext context = runtime.context(shard);
        final SluiceIoHandler handler = new SluiceIoHandler(this, context, shard, executor);
        handlers[shard] = handler;
        liveHandlers.incrementAndGet();
        return handler;
    }

    void handlerDestroyed()
    {
        if (liveHandlers.decrementAndGet() == 0)
        {
            closed = true;
            sluice.close();
        }
    }
}

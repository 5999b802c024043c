package dev.sluice.nativebindings.dpdk;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import dev.sluice.nativebindings.dpdk.generated.RteEal;
import dev.sluice.nativebindings.dpdk.generated.RteMempool;
import dev.sluice.nativebindings.dpdk.generated.SluiceShim;

/**
 * A packet-buffer mempool ({@code rte_pktmbuf_pool_create}).
 */
public final class MbufPool implements AutoCloseable
{
    /** Data room of a default mbuf: 2048 bytes plus the 128-byte headroom. */
    public static final int DEFAULT_DATA_ROOM = RteMempool.RTE_MBUF_DEFAULT_BUF_SIZE;
    /** Headroom before the packet data in each mbuf. */
    public static final int HEADROOM = RteMempool.RTE_PKTMBUF_HEADROOM;

    /** Ethernet header plus one 802.1Q tag: what a frame adds to its IP MTU. */
    private static final int FRAME_OVERHEAD = 18;

    private final String name;
    private final MemorySegment pool;
    private boolean closed;

    private MbufPool(final String name, final MemorySegment pool)
    {
        this.name = name;
        this.pool = pool;
    }

    /**
     * The data room an mbuf needs to hold a whole frame of an MTU in one segment.
     *
     * @param mtu the IP MTU, e.g. 9000.
     * @return {@link #DEFAULT_DATA_ROOM} for MTU 1500 and below; else headroom plus Ethernet header, one VLAN
     *         tag and the MTU, rounded up to 128 bytes.
     */
    public static int dataRoomFor(final int mtu)
    {
        final int needed = HEADROOM + FRAME_OVERHEAD + mtu;
        return needed <= DEFAULT_DATA_ROOM ? DEFAULT_DATA_ROOM : (needed + 127) & ~127;
    }

    /**
     * Creates a pool. Needs an initialised {@link Eal}.
     *
     * @param name      unique name.
     * @param size      number of mbufs (best 2^n - 1).
     * @param cacheSize per-lcore cache, at most {@code RTE_MEMPOOL_CACHE_MAX_SIZE} (512).
     * @param dataRoom  bytes per mbuf including headroom, e.g. {@link #DEFAULT_DATA_ROOM}.
     * @return the pool.
     * @throws DpdkException with DPDK's reason if it cannot be created.
     */
    public static MbufPool create(final String name, final int size, final int cacheSize, final int dataRoom)
    {
        Eal.current();
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment pool = RteMempool.rte_pktmbuf_pool_create(
                arena.allocateFrom(name), size, cacheSize, (short)0, (short)dataRoom, RteEal.SOCKET_ID_ANY);
            if (MemorySegment.NULL.equals(pool))
            {
                final int errno = SluiceShim.sluice_errno();
                throw new DpdkException("rte_pktmbuf_pool_create(" + name + ", " + size + " mbufs of " + dataRoom +
                    " bytes) failed: " + Eal.strerror(errno) + " (too little EAL memory? raise -m)");
            }
            return new MbufPool(name, pool);
        }
    }

    /**
     * @return the pool's name.
     */
    public String name()
    {
        return name;
    }

    /**
     * @return the {@code struct rte_mempool *}.
     */
    public MemorySegment segment()
    {
        return pool;
    }

    /**
     * @return mbufs free in the pool, including those in lcore caches.
     */
    public int availableCount()
    {
        return RteMempool.rte_mempool_avail_count(pool);
    }

    /**
     * @return mbufs handed out.
     */
    public int inUseCount()
    {
        return RteMempool.rte_mempool_in_use_count(pool);
    }

    /**
     * Frees the pool; every mbuf must have been returned and no port may still use it.
     */
    @Override
    public void close()
    {
        if (!closed)
        {
            closed = true;
            RteMempool.rte_mempool_free(pool);
        }
    }
}

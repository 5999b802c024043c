package dev.sluice.nativebindings.dpdk;

import java.lang.foreign.MemorySegment;

import dev.sluice.nativebindings.dpdk.generated.RteEal;
import dev.sluice.nativebindings.dpdk.generated.RteMempool;
import dev.sluice.nativebindings.dpdk.generated.SluiceShim;

/**
 * A platform thread registered with DPDK ({@code rte_thread_register}), and the only door
 * to the fast path: rx/tx burst, mbuf bulk alloc and free.
 *
 * <p>DPDK's fast path keeps per-lcore state (the mempool cache, found through the
 * thread-local lcore id); a thread without an lcore id silently loses the cache (a Java
 * io-forward loop fell from 110 to 73 Mpps here), and two threads sharing one queue
 * corrupt it. So the fast path is reachable only through an {@code Lcore}, and every call
 * checks that it is made by the thread that registered: a call from any other thread
 * throws {@link IllegalStateException} (one reference comparison, ~1 ns).
 *
 * <p>Mbuf arrays are native segments of pointers, e.g.
 * {@code Arena.ofAuto().allocate(ValueLayout.ADDRESS, 32)}.
 */
public final class Lcore implements AutoCloseable
{
    private final Thread owner;
    private final int lcoreId;
    private boolean closed;

    private Lcore(final Thread owner, final int lcoreId)
    {
        this.owner = owner;
        this.lcoreId = lcoreId;
    }

    static Lcore register()
    {
        final Thread thread = Thread.currentThread();
        if (thread.isVirtual())
        {
            throw new DpdkException("a virtual thread cannot be a DPDK lcore: its thread-locals belong to the carrier");
        }
        if (RteEal.rte_thread_register() != 0)
        {
            final int errno = SluiceShim.sluice_errno();
            throw new DpdkException("rte_thread_register failed: " + Eal.strerror(errno) +
                " (all " + RteEal.RTE_MAX_LCORE + " lcore slots in use?)");
        }
        return new Lcore(thread, SluiceShim.sluice_lcore_id());
    }

    /**
     * @return DPDK's lcore id for this thread.
     */
    public int id()
    {
        return lcoreId;
    }

    /**
     * @return the registered thread.
     */
    public Thread owner()
    {
        return owner;
    }

    /**
     * {@code rte_eth_rx_burst}: receives up to {@code max} packets.
     *
     * @param portId  the port.
     * @param queueId the rx queue (owned by this lcore).
     * @param mbufs   array of at least {@code max} pointers, filled with the packets.
     * @param max     the most packets to take.
     * @return the number of packets received.
     */
    public int rxBurst(final int portId, final int queueId, final MemorySegment mbufs, final int max)
    {
        checkThread();
        return Short.toUnsignedInt(SluiceShim.sluice_rx_burst((short)portId, (short)queueId, mbufs, (short)max));
    }

    /**
     * {@code rte_eth_tx_burst}: queues up to {@code count} packets for transmission. The
     * driver owns the packets it took (the first {@code n} of the array); the rest stay the
     * caller's to retry or free.
     *
     * @param portId  the port.
     * @param queueId the tx queue (owned by this lcore).
     * @param mbufs   the packets.
     * @param count   how many.
     * @return the number the driver took.
     */
    public int txBurst(final int portId, final int queueId, final MemorySegment mbufs, final int count)
    {
        checkThread();
        return Short.toUnsignedInt(SluiceShim.sluice_tx_burst((short)portId, (short)queueId, mbufs, (short)count));
    }

    /**
     * {@code rte_pktmbuf_alloc_bulk}: all or nothing.
     *
     * @param pool  the mempool.
     * @param mbufs receives {@code count} fresh, reset mbufs.
     * @param count how many.
     * @return true if allocated, false if the pool had fewer than {@code count} free.
     */
    public boolean allocBulk(final MbufPool pool, final MemorySegment mbufs, final int count)
    {
        checkThread();
        return SluiceShim.sluice_pktmbuf_alloc_bulk(pool.segment(), mbufs, count) == 0;
    }

    /**
     * {@code rte_pktmbuf_alloc}.
     *
     * @param pool the mempool.
     * @return the mbuf's address, or 0 if the pool is empty.
     */
    public long alloc(final MbufPool pool)
    {
        checkThread();
        return SluiceShim.sluice_pktmbuf_alloc(pool.segment());
    }

    /**
     * {@code rte_pktmbuf_free_bulk}: frees packets (and their segment chains).
     *
     * @param mbufs the packets; null entries are skipped.
     * @param count how many.
     */
    public void freeBulk(final MemorySegment mbufs, final int count)
    {
        checkThread();
        RteMempool.rte_pktmbuf_free_bulk(mbufs, count);
    }

    /**
     * {@code rte_pktmbuf_free}: frees one packet and its segment chain.
     *
     * @param mbuf the address of the packet, 0 is ignored.
     */
    public void free(final long mbuf)
    {
        checkThread();
        SluiceShim.sluice_pktmbuf_free(mbuf);
    }

    /**
     * Zero-copy transmit: takes an mbuf from {@code pool} (mbufs without data room), points it at {@code length}
     * bytes of external memory at {@code address} ({@code rte_pktmbuf_attach_extbuf}, IOVA = the virtual address:
     * for PMDs that read memory through the CPU), takes a reference on {@code sharedInfo} for it and chains it
     * after {@code tail}, the last segment of the frame whose first segment is {@code head} (its
     * {@code nb_segs} + 1; the caller sets the head's {@code pkt_len} and {@code data_len}). Freeing the frame
     * drops the reference. See {@link ExternalBuffers}.
     *
     * @param pool       mbufs without data room.
     * @param head       the frame's first mbuf.
     * @param tail       the frame's last mbuf so far ({@code head} for the first attachment).
     * @param address    the memory.
     * @param length     bytes, 1..65535.
     * @param sharedInfo the memory's {@code struct rte_mbuf_ext_shared_info}.
     * @return the attached mbuf, or 0 (nothing changed) when the pool is empty.
     */
    public long attachExternal(
        final MbufPool pool, final long head, final long tail, final long address, final int length,
        final long sharedInfo)
    {
        checkThread();
        return SluiceShim.sluice_attach_extbuf(pool.segment(), head, tail, address, (short)length, sharedInfo);
    }

    /**
     * Unregisters the thread ({@code rte_thread_unregister}); must be called by the owner.
     */
    @Override
    public void close()
    {
        checkThread();
        if (!closed)
        {
            closed = true;
            RteEal.rte_thread_unregister();
        }
    }

    private void checkThread()
    {
        if (Thread.currentThread() != owner || closed)
        {
            throw wrongThread();
        }
    }

    private IllegalStateException wrongThread()
    {
        return new IllegalStateException(closed ?
            "lcore " + lcoreId + " was unregistered" :
            "DPDK fast path called from " + Thread.currentThread() + " but lcore " + lcoreId + " belongs to " + owner +
            "; register each polling thread with Eal.registerCurrentThread()");
    }
}

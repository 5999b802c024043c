package dev.sluice.driver;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.sluice.core.net.FrameTransmitter;
import dev.sluice.nativebindings.dpdk.ExternalBuffers;
import dev.sluice.nativebindings.dpdk.Lcore;
import dev.sluice.nativebindings.dpdk.Mbuf;
import dev.sluice.nativebindings.dpdk.MbufPool;
import dev.sluice.nativebindings.dpdk.generated.RteMbuf;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The stack's {@link FrameTransmitter} over one DPDK tx queue: {@code claim} allocates an
 * mbuf and wraps its data area, {@code commit} sets its length and adds it to the burst,
 * and {@link #flush()} (once per duty cycle, or when the burst is full) hands the burst to
 * the driver. What the queue does not take waits in a backlog of {@link #BACKLOG} frames (as a
 * Linux qdisc with txqueuelen 1000 holds what a full device ring refuses), offered again, in
 * order and before newer frames, at the next flush; only frames beyond the backlog are freed and
 * counted ({@link #framesDropped()}): a full queue must never stall the duty cycle, lose frames a
 * burst could have carried a microsecond later (a lost segment costs TCP a recovery), or leak an
 * mbuf. Mbufs come from the pool in bulk, 32 at a time, and
 * {@link #releaseStash()} returns the unused ones. Owned by one polling thread; allocates
 * nothing per frame.
 *
 * <p>With {@link #checksumOffloads(int)} (the port's TX checksum offloads, enabled when it was configured),
 * {@link #commit(int, int)} marks the mbuf so the device computes the IPv4 and TCP checksums
 * ({@code RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM}, l2_len 14, l3_len 20).
 * A pcap capture of such frames records the checksum fields as handed to the device (0 and the
 * pseudo-header sum), not as they leave it.
 *
 * <p>With {@link #segmentationOffload(MbufPool)} (TSO, where the port offers it), a claim longer than a frame
 * takes one mbuf from a pool of large mbufs (up to 65,407 data bytes: a 64 KiB segment fits one mbuf, so no
 * chain is needed) and {@link #commitSegmentation} marks it {@code RTE_MBUF_F_TX_TCP_SEG} with l4_len and
 * tso_segsz for the device to cut. {@link #segmentsHandedOver()} counts those.
 *
 * <p>With {@link #zeroCopy} (zero-copy transmit), {@link #appendReference} chains to the claimed mbuf (the
 * headers) mbufs of a pool without data room, attached to send-buffer chunk memory as DPDK external buffers
 * ({@link ExternalChunks}: one shared info per chunk, the reference taken here and dropped when the frame is
 * freed, by the PMD or by a receiver over net_ring); {@link #commit(int)} sets the head's own length and the
 * packet's. A capture writes the whole frame, gathered.
 */
public final class DpdkFrameTransmitter implements FrameTransmitter
{
    /** Most frames in one tx burst. */
    public static final int BURST = 32;
    /** Data room of the large mbufs for TSO segments (the most a {@code uint16_t} data room holds). */
    public static final int LARGE_DATA_ROOM = 0xFFFF;
    /**
     * Most frames one TSO segment is cut into: net_tap cuts with rte_gso into at most 64 (MAX_GSO_MBUFS) and
     * drops a segment that needs more; a 64 KiB segment at a 1,460-byte MSS needs 45. More go by GSO.
     */
    public static final int MAX_SEGMENTATION_FRAMES = 64;
    /** Most frames held for a full tx queue (Linux's default txqueuelen is 1,000 packets). */
    public static final int BACKLOG = 1024;

    private static final int L2_LENGTH = 14;
    private static final int L3_LENGTH = 20;
    /** {@code tx_offload} of an untagged Ethernet + IPv4 (no options) frame: l2_len and l3_len. */
    private static final long TX_OFFLOAD_LENGTHS =
        ((long)L2_LENGTH << RteMbuf.RTE_MBUF_L2_LEN_OFS) | ((long)L3_LENGTH << RteMbuf.RTE_MBUF_L3_LEN_OFS);

    private final Lcore lcore;
    private final MbufPool pool;
    private final int portId;
    private final int queueId;
    private final MemorySegment burst;
    private final MemorySegment stash;
    // frames the queue did not take yet, in order, from the array's start (moved down after a partial take: no
    // slice, no allocation)
    private final MemorySegment backlog;
    private final long backlogAddress;
    private int backlogCount;
    private int backlogHighWater;
    // the arrays' addresses for the per-frame reads and writes, unchecked: pending and stashed stay within BURST
    private final long burstAddress;
    private final long stashAddress;
    private int stashed;
    private final UnsafeBuffer claimBuffer = new UnsafeBuffer(0, 0);
    private long claimedMbuf;
    private int pending;
    private long framesSent;
    private long framesDropped;
    private long claimFailures;
    private PcapWriter pcap;
    private long nowNs;
    private int checksumOffloads;
    private MbufPool largePool;
    private int maxLargeFrameLength;
    private int maxCutFrameLength;
    private long segmentsHandedOver;
    private MbufPool attachPool;
    private ExternalChunks externalChunks;
    private int referenceMinBytes;
    private long attachedTail; // last mbuf chained to the claimed one, 0 for none
    private int attachedBytes;
    private long attachFailures;
    private long framesReferenced;
    private final MemorySegment attachStash = Arena.ofAuto().allocate(ValueLayout.ADDRESS, BURST);
    private final long attachStashAddress = attachStash.address();
    private int attachStashed;
    private UnsafeBuffer captureFrame;
    private final UnsafeBuffer captureSegment = new UnsafeBuffer(0, 0);

    /**
     * @param lcore   the polling thread's lcore.
     * @param pool    where frames are allocated.
     * @param portId  the port.
     * @param queueId the tx queue this thread owns.
     */
    public DpdkFrameTransmitter(final Lcore lcore, final MbufPool pool, final int portId, final int queueId)
    {
        this.lcore = lcore;
        this.pool = pool;
        this.portId = portId;
        this.queueId = queueId;
        this.burst = Arena.ofAuto().allocate(ValueLayout.ADDRESS, BURST);
        this.stash = Arena.ofAuto().allocate(ValueLayout.ADDRESS, BURST);
        this.backlog = Arena.ofAuto().allocate(ValueLayout.ADDRESS, BACKLOG);
        this.backlogAddress = backlog.address();
        this.burstAddress = burst.address();
        this.stashAddress = stash.address();
    }

    /**
     * @param pcap where to record every committed frame, or null.
     */
    public void capture(final PcapWriter pcap)
    {
        this.pcap = pcap;
    }

    /**
     * @param nowNs the duty cycle's time, for capture timestamps.
     */
    public void nowNs(final long nowNs)
    {
        this.nowNs = nowNs;
    }

    /**
     * Enables checksum offload on this queue (call before the network layer is built over it; only with
     * offloads the port was configured with).
     *
     * @param offloads {@code FrameTransmitter.OFFLOAD_*} bits.
     */
    public void checksumOffloads(final int offloads)
    {
        this.checksumOffloads = offloads;
    }

    @Override
    public int checksumOffloads()
    {
        return checksumOffloads;
    }

    @Override
    public void commit(final int length, final int offloads)
    {
        if ((offloads & ~checksumOffloads) != 0)
        {
            throw new IllegalStateException("checksum offload 0x" + Integer.toHexString(offloads) + " not enabled");
        }
        long flags = RteMbuf.RTE_MBUF_F_TX_IPV4;
        if ((offloads & OFFLOAD_IPV4_CHECKSUM) != 0)
        {
            flags |= RteMbuf.RTE_MBUF_F_TX_IP_CKSUM;
        }
        if ((offloads & OFFLOAD_TCP_CHECKSUM) != 0)
        {
            flags |= RteMbuf.RTE_MBUF_F_TX_TCP_CKSUM;
        }
        Mbuf.offloadFlags(claimedMbuf, flags);
        Mbuf.txOffload(claimedMbuf, TX_OFFLOAD_LENGTHS);
        commit(length);
    }

    /**
     * Enables TCP segmentation offload on this queue (only when the port was configured with TSO and
     * checksum offload): frames longer than a normal mbuf holds come from {@code largePool}.
     *
     * @param largePool mbufs of a large data room (e.g. {@link #LARGE_DATA_ROOM}).
     */
    public void segmentationOffload(final MbufPool largePool)
    {
        segmentationOffload(largePool, Integer.MAX_VALUE);
    }

    /**
     * Enables TCP segmentation offload on this queue, for frames the device cuts up to a length.
     *
     * @param largePool         mbufs of a large data room (e.g. {@link #LARGE_DATA_ROOM}).
     * @param maxCutFrameLength the longest frame the device cuts ({@code PortMtu.tsoFrameLimit}).
     */
    public void segmentationOffload(final MbufPool largePool, final int maxCutFrameLength)
    {
        this.largePool = largePool;
        this.maxLargeFrameLength = largePool == null ? 0 : LARGE_DATA_ROOM - MbufPool.HEADROOM;
        this.maxCutFrameLength = maxCutFrameLength;
    }

    @Override
    public int maxSegmentationFrameLength()
    {
        return maxLargeFrameLength;
    }

    @Override
    public int maxSegmentationCutLength()
    {
        return maxCutFrameLength;
    }

    @Override
    public int maxSegmentationFrames()
    {
        return MAX_SEGMENTATION_FRAMES;
    }

    @Override
    public void commitSegmentation(final int length, final int tcpHeaderLength, final int segmentBytes)
    {
        if (largePool == null)
        {
            throw new IllegalStateException("TCP segmentation offload not enabled");
        }
        Mbuf.offloadFlags(claimedMbuf, RteMbuf.RTE_MBUF_F_TX_IPV4 | RteMbuf.RTE_MBUF_F_TX_IP_CKSUM |
            RteMbuf.RTE_MBUF_F_TX_TCP_CKSUM | RteMbuf.RTE_MBUF_F_TX_TCP_SEG);
        Mbuf.txOffload(claimedMbuf, TX_OFFLOAD_LENGTHS | ((long)tcpHeaderLength << RteMbuf.RTE_MBUF_L4_LEN_OFS) |
            ((long)segmentBytes << RteMbuf.RTE_MBUF_TSO_SEGSZ_OFS));
        segmentsHandedOver++;
        commit(length);
    }

    /**
     * Enables zero-copy transmit on this queue (call before the network layer is built over it).
     *
     * @param attachPool mbufs without data room, for attaching chunk memory.
     * @param chunks     the shard's chunk reference counts.
     * @param minBytes   the shortest payload taken by reference.
     */
    public void zeroCopy(final MbufPool attachPool, final ExternalChunks chunks, final int minBytes)
    {
        this.attachPool = attachPool;
        this.externalChunks = chunks;
        this.referenceMinBytes = attachPool == null ? 0 : minBytes;
    }

    @Override
    public int referenceMinBytes()
    {
        return referenceMinBytes;
    }

    @Override
    public boolean appendReference(final int chunk, final long address, final int length)
    {
        if (claimedMbuf == 0 || referenceMinBytes == 0)
        {
            return false;
        }
        if (attachStashed == 0 && !refillAttachStash())
        {
            attachFailures++;
            return false;
        }
        // rte_pktmbuf_attach_extbuf and rte_pktmbuf_chain in Java: no FFM call per frame (mbufs 32 at a time)
        final long attached = Mbuf.at(attachStashAddress, --attachStashed);
        final long sharedInfo = externalChunks.sharedInfo(chunk);
        ExternalBuffers.addReference(sharedInfo);
        Mbuf.attachExternal(attached, address, length, sharedInfo);
        Mbuf.chain(claimedMbuf, attachedTail == 0 ? claimedMbuf : attachedTail, attached);
        attachedTail = attached;
        attachedBytes += length;
        return true;
    }

    private boolean refillAttachStash()
    {
        if (lcore.allocBulk(attachPool, attachStash, BURST))
        {
            attachStashed = BURST;
            return true;
        }
        final long mbuf = lcore.alloc(attachPool);
        if (mbuf == 0)
        {
            return false;
        }
        Mbuf.put(attachStash, 0, mbuf);
        attachStashed = 1;
        return true;
    }

    /**
     * @return references {@link #appendReference} could not take (attach pool empty).
     */
    public long attachFailures()
    {
        return attachFailures;
    }

    /**
     * @return frames committed with payload by reference (zero-copy transmit).
     */
    public long framesReferenced()
    {
        return framesReferenced;
    }

    /**
     * @return large segments handed to the device to cut (TSO).
     */
    public long segmentsHandedOver()
    {
        return segmentsHandedOver;
    }

    @Override
    public MutableDirectBuffer claim(final int maxLength)
    {
        if (claimedMbuf != 0)
        {
            throw new IllegalStateException("a frame is already claimed");
        }
        if (pending == BURST)
        {
            flush();
        }
        if (stashed == 0 && !refillStash())
        {
            claimFailures++;
            return null;
        }
        final long mbuf = Mbuf.at(stashAddress, stashed - 1);
        if (maxLength > Mbuf.tailroom(mbuf))
        {
            if (largePool != null)
            {
                return claimLarge(maxLength); // a TSO segment: the small mbuf stays in the stash
            }
            stashed--;
            lcore.free(mbuf);
            claimFailures++;
            return null;
        }
        stashed--;
        claimedMbuf = mbuf;
        claimBuffer.wrap(Mbuf.dataAddress(mbuf), maxLength);
        return claimBuffer;
    }

    // one mbuf of the large pool for a TSO segment
    private MutableDirectBuffer claimLarge(final int maxLength)
    {
        final long mbuf = maxLength <= maxLargeFrameLength ? lcore.alloc(largePool) : 0;
        if (mbuf == 0)
        {
            claimFailures++;
            return null;
        }
        claimedMbuf = mbuf;
        claimBuffer.wrap(Mbuf.dataAddress(mbuf), maxLength);
        return claimBuffer;
    }

    @Override
    public void commit(final int length)
    {
        if (attachedBytes == 0)
        {
            Mbuf.setLength(claimedMbuf, length);
            if (pcap != null)
            {
                pcap.write(claimBuffer, 0, length, nowNs);
            }
        }
        else
        {
            Mbuf.setLengths(claimedMbuf, length - attachedBytes, length);
            framesReferenced++;
            if (pcap != null)
            {
                capture(length);
            }
            attachedTail = 0;
            attachedBytes = 0;
        }
        Mbuf.put(burstAddress, pending++, claimedMbuf);
        claimedMbuf = 0;
    }

    // a capture of a chained frame: its segments gathered (capture only: off the normal data path)
    private void capture(final int length)
    {
        if (captureFrame == null || captureFrame.capacity() < length)
        {
            captureFrame = new UnsafeBuffer(new byte[Math.max(length, 16 * 1024)]);
        }
        int at = 0;
        for (long m = claimedMbuf; m != 0; m = Mbuf.next(m))
        {
            final int n = Mbuf.dataLength(m);
            captureSegment.wrap(Mbuf.dataAddress(m), n);
            captureFrame.putBytes(at, captureSegment, 0, n);
            at += n;
        }
        pcap.write(captureFrame, 0, at, nowNs);
    }

    @Override
    public void abort()
    {
        if (claimedMbuf != 0)
        {
            lcore.free(claimedMbuf); // and any mbuf chained to it: their references dropped
            claimedMbuf = 0;
        }
        attachedTail = 0;
        attachedBytes = 0;
    }

    /**
     * Mbufs are taken from the pool 32 at a time (one bulk call instead of one call per
     * frame); when the pool cannot give 32, one at a time.
     */
    private boolean refillStash()
    {
        if (lcore.allocBulk(pool, stash, BURST))
        {
            stashed = BURST;
            return true;
        }
        final long mbuf = lcore.alloc(pool);
        if (mbuf == 0)
        {
            return false;
        }
        Mbuf.put(stash, 0, mbuf);
        stashed = 1;
        return true;
    }

    /**
     * Returns the mbufs taken from the pool but not used yet, and frees the backlog's frames (counted as
     * dropped: the queue never took them); call on close, on the owning thread.
     */
    public void releaseStash()
    {
        if (stashed > 0)
        {
            lcore.freeBulk(stash, stashed);
            stashed = 0;
        }
        if (attachStashed > 0)
        {
            lcore.freeBulk(attachStash, attachStashed);
            attachStashed = 0;
        }
        if (backlogCount > 0)
        {
            lcore.freeBulk(backlog, backlogCount);
            framesDropped += backlogCount;
            backlogCount = 0;
        }
    }

    /**
     * Transmits the frames committed so far, after the backlog's: whatever the queue does not take joins the
     * backlog (beyond {@link #BACKLOG} frames the newest are freed and counted as dropped).
     *
     * @return frames the driver took.
     */
    public int flush()
    {
        int sent = 0;
        if (backlogCount > 0)
        {
            sent = lcore.txBurst(portId, queueId, backlog, backlogCount);
            backlogCount -= sent;
            if (backlogCount > 0 && sent > 0)
            {
                MemorySegment.copy(backlog, (long)sent * Long.BYTES, backlog, 0, (long)backlogCount * Long.BYTES);
            }
        }
        int taken = 0;
        if (backlogCount == 0 && pending > 0)
        {
            taken = lcore.txBurst(portId, queueId, burst, pending); // the common case: no backlog, one call
            sent += taken;
        }
        if (taken < pending)
        {
            hold(taken);
        }
        framesSent += sent;
        pending = 0;
        return sent;
    }

    // the burst's frames from `from` on join the backlog, in order; what does not fit is freed and counted
    private void hold(final int from)
    {
        int i = from;
        for (; i < pending && backlogCount < BACKLOG; i++)
        {
            Mbuf.put(backlogAddress, backlogCount++, Mbuf.at(burstAddress, i));
        }
        for (; i < pending; i++)
        {
            lcore.free(Mbuf.at(burstAddress, i));
            framesDropped++;
        }
        backlogHighWater = Math.max(backlogHighWater, backlogCount);
    }

    /**
     * @return frames waiting in the backlog for the tx queue.
     */
    public int backlogCount()
    {
        return backlogCount;
    }

    /**
     * @return the most frames the backlog ever held.
     */
    public int backlogHighWater()
    {
        return backlogHighWater;
    }

    /**
     * @return frames handed to the driver.
     */
    public long framesSent()
    {
        return framesSent;
    }

    /**
     * @return frames the tx queue never took: beyond the backlog, or still in it at close (freed).
     */
    public long framesDropped()
    {
        return framesDropped;
    }

    /**
     * @return claims that found no mbuf (pool empty, or frame too long for an mbuf).
     */
    public long claimFailures()
    {
        return claimFailures;
    }
}

package dev.sluice.driver;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.sluice.core.net.FrameTransmitter;
import dev.sluice.nativebindings.dpdk.Lcore;
import dev.sluice.nativebindings.dpdk.Mbuf;
import dev.sluice.nativebindings.dpdk.MbufPool;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The stack's {@link FrameTransmitter} over one DPDK tx queue: {@code claim} allocates an
 * mbuf and wraps its data area, {@code commit} sets its length and adds it to the burst,
 * and {@link #flush()} (once per duty cycle, or when the burst is full) hands the burst to
 * the driver. What the queue does not take is retried a few times in the same flush and
 * then freed and counted ({@link #framesDropped()}): a full queue must never stall the
 * duty cycle or leak an mbuf. Mbufs come from the pool in bulk, 32 at a time, and
 * {@link #releaseStash()} returns the unused ones. Owned by one polling thread; allocates
 * nothing per frame.
 */
public final class DpdkFrameTransmitter implements FrameTransmitter
{
    /** Most frames in one tx burst. */
    public static final int BURST = 32;
    private static final int FLUSH_ATTEMPTS = 4;

    private final Lcore lcore;
    private final MbufPool pool;
    private final int portId;
    private final int queueId;
    private final MemorySegment burst;
    private final MemorySegment stash;
    private int stashed;
    private final UnsafeBuffer claimBuffer = new UnsafeBuffer(0, 0);
    private long claimedMbuf;
    private int pending;
    private long framesSent;
    private long framesDropped;
    private long claimFailures;
    private PcapWriter pcap;
    private long nowNs;

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
        final long mbuf = Mbuf.at(stash, --stashed);
        if (maxLength > Mbuf.tailroom(mbuf))
        {
            lcore.free(mbuf);
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
        Mbuf.setLength(claimedMbuf, length);
        if (pcap != null)
        {
            pcap.write(claimBuffer, 0, length, nowNs);
        }
        Mbuf.put(burst, pending++, claimedMbuf);
        claimedMbuf = 0;
    }

    @Override
    public void abort()
    {
        if (claimedMbuf != 0)
        {
            lcore.free(claimedMbuf);
            claimedMbuf = 0;
        }
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
     * Returns the mbufs taken from the pool but not used yet (call on close, on the owning
     * thread).
     */
    public void releaseStash()
    {
        if (stashed > 0)
        {
            lcore.freeBulk(stash, stashed);
            stashed = 0;
        }
    }

    /**
     * Transmits the frames committed so far.
     *
     * @return frames the driver took.
     */
    public int flush()
    {
        int remaining = pending;
        for (int attempt = 0; attempt < FLUSH_ATTEMPTS && remaining > 0; attempt++)
        {
            final int taken = lcore.txBurst(portId, queueId, burst, remaining);
            remaining -= taken;
            if (remaining > 0 && taken > 0)
            {
                // keep the untaken frames at the front for the retry (no slice: no allocation)
                MemorySegment.copy(burst, (long)taken * Long.BYTES, burst, 0, (long)remaining * Long.BYTES);
            }
        }
        for (int i = 0; i < remaining; i++)
        {
            lcore.free(Mbuf.at(burst, i));
        }
        final int sent = pending - remaining;
        framesDropped += remaining;
        framesSent += sent;
        pending = 0;
        return sent;
    }

    /**
     * @return frames handed to the driver.
     */
    public long framesSent()
    {
        return framesSent;
    }

    /**
     * @return frames the tx queue did not take after retries (freed).
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

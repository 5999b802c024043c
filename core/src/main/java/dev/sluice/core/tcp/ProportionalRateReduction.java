package dev.sluice.core.tcp;

/**
 * RFC 6937 Proportional Rate Reduction: how much fast recovery may send on each ACK, so that the data in flight
 * falls smoothly from where recovery began to ssthresh, and climbs back to it by slow start (PRR-SSRB) when losses
 * took it below, instead of NewReno's half-RTT silence followed by a burst or RFC 6675's cwnd = ssthresh at once.
 *
 * <pre>
 * recovery starts:   prr_delivered = 0; prr_out = 0; RecoverFS = SND.NXT - SND.UNA
 * each ACK:          DeliveredData = change_in(SND.UNA) + change_in(SACKed)  (no SACK: a duplicate ACK is 1 SMSS;
 *                                    a later cumulative ACK counts what the duplicates did not)
 *                    prr_delivered += DeliveredData
 *                    pipe &gt; ssthresh:  sndcnt = CEIL(prr_delivered * ssthresh / RecoverFS) - prr_out   (PRR)
 *                    else:             sndcnt = MIN(ssthresh - pipe,
 *                                                   MAX(prr_delivered - prr_out, DeliveredData) + SMSS) (PRR-SSRB)
 *                    cwnd = pipe + sndcnt; the first ACK always lets the fast retransmit go (Linux)
 * each transmission: prr_out += bytes sent (new data and retransmissions)
 * </pre>
 *
 * Held by {@link LossRecovery}, created at a connection's first fast recovery and kept (most connections never
 * recover: issue 11's 1 KiB per idle connection). No allocation after that; single-threaded.
 */
final class ProportionalRateReduction
{
    private int prrDelivered;
    private int prrOut;
    private int recoverFs;
    private int dupAckBytes; // without SACK: bytes duplicate ACKs said left the network, not yet cumulatively acked

    /**
     * Fast recovery begins (RFC 6937 §3, "at the beginning of recovery").
     *
     * @param recoverFs   SND.NXT - SND.UNA: the flight when recovery began.
     * @param dupAckBytes without SACK: what the duplicate ACKs before this one said left the network (they came
     *                    before recovery: not delivered data of it); 0 with SACK.
     */
    void start(final int recoverFs, final int dupAckBytes)
    {
        this.recoverFs = Math.max(1, recoverFs);
        prrDelivered = 0;
        prrOut = 0;
        this.dupAckBytes = dupAckBytes;
    }

    /**
     * Bytes (new or retransmitted) sent during recovery.
     *
     * @param bytes the segment's payload.
     */
    void onSent(final int bytes)
    {
        prrOut += bytes;
    }

    /**
     * A duplicate ACK without SACK: one segment left the network (RFC 6937 §3, DeliveredData without SACK).
     *
     * @param smss SMSS.
     * @return DeliveredData.
     */
    int onDuplicateAck(final int smss)
    {
        dupAckBytes += smss;
        return smss;
    }

    /**
     * A cumulative ACK without SACK: what it covers beyond the segments the duplicate ACKs already counted.
     *
     * @param ackedBytes the advance of SND.UNA.
     * @return DeliveredData.
     */
    int onCumulativeAck(final int ackedBytes)
    {
        final int counted = Math.min(dupAckBytes, ackedBytes);
        dupAckBytes -= counted;
        return ackedBytes - counted;
    }

    /**
     * Without SACK: the bytes in flight the duplicate ACKs report delivered (pipe = flight - this).
     *
     * @return bytes.
     */
    int dupAckBytes()
    {
        return dupAckBytes;
    }

    /**
     * An ACK during recovery: how much may be sent now (RFC 6937 §3, with the slow-start reduction bound).
     *
     * @param deliveredData DeliveredData of this ACK.
     * @param pipe          the data in flight after it (RFC 6675 pipe; without SACK, flight minus what duplicate
     *                      ACKs reported).
     * @param ssthresh      the target of the reduction.
     * @param smss          SMSS.
     * @return sndcnt in bytes, never negative.
     */
    int onAck(final int deliveredData, final int pipe, final int ssthresh, final int smss)
    {
        prrDelivered += deliveredData;
        final long sndcnt;
        if (pipe > ssthresh)
        {
            // proportional: prr_out follows prr_delivered * ssthresh / RecoverFS, rounded up
            sndcnt = ((long)prrDelivered * ssthresh + recoverFs - 1) / recoverFs - prrOut;
        }
        else
        {
            // PRR-SSRB: back up to ssthresh, at most one segment more than was delivered
            final long limit = Math.max((long)prrDelivered - prrOut, deliveredData) + smss;
            sndcnt = Math.min((long)ssthresh - pipe, limit);
        }
        // the fast retransmit always goes, whatever the ACK delivered (Linux: prr_out ? 0 : 1 segment)
        return (int)Math.max(prrOut == 0 ? smss : 0, Math.min(Integer.MAX_VALUE, Math.max(0, sndcnt)));
    }

    /** @return prr_delivered. */
    int delivered()
    {
        return prrDelivered;
    }

    /** @return prr_out. */
    int out()
    {
        return prrOut;
    }

    /** @return RecoverFS. */
    int recoverFs()
    {
        return recoverFs;
    }
}

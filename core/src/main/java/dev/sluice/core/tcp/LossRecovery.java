package dev.sluice.core.tcp;

import static dev.sluice.core.tcp.SequenceNumbers.lt;

/**
 * Loss detection and recovery of one connection, the sender's reaction to what ACKs and timeouts say about
 * segments in flight: the RTT estimate and RTO (RFC 6298, {@link RttEstimator}), duplicate ACKs, fast
 * retransmit and NewReno fast recovery (RFC 5681, RFC 6582, {@link CongestionControl}), and the retransmission
 * timeout's go-back-N (after an RTO, SND.UNA .. the SND.NXT of that moment is sent again as cwnd allows,
 * SHLD-16).
 *
 * <p>It decides; the {@link SegmentScheduler} sends: methods return "retransmit SND.UNA now" and expose the
 * go-back-N range. No allocation; single-threaded.
 */
final class LossRecovery
{
    final CongestionControl congestion;
    final RttEstimator rtt;

    // go-back-N after an RTO (or a path MTU decrease): rexmtNxt .. rexmtEnd is sent again
    private boolean goBackN;
    private int rexmtNxt;
    private int rexmtEnd;

    LossRecovery(final TcpConfig config)
    {
        this.congestion = new CongestionControl(config.initialWindowSegments());
        this.rtt = new RttEstimator(config);
    }

    /**
     * Forgets the connection.
     */
    void clear()
    {
        goBackN = false;
        rtt.reset();
    }

    /**
     * The handshake completed: congestion control starts (RFC 5681, RFC 6928), and RTO falls back to 3 s when
     * the SYN had to be retransmitted without an RTT sample (RFC 6298 (5.7)).
     *
     * @param smss             the effective send MSS.
     * @param iss              ISS.
     * @param synRetransmitted our SYN or SYN-ACK was retransmitted.
     */
    void onSynchronized(final int smss, final int iss, final boolean synRetransmitted)
    {
        congestion.reset(smss, iss);
        if (synRetransmitted)
        {
            rtt.onSynRetransmittedBeforeData();
        }
    }

    /**
     * New data was acknowledged (SND.UNA already advanced): an RTT sample if the timed segment is covered
     * (Karn, MUST-18), the go-back-N point moves with SND.UNA, cwnd grows or recovery goes on.
     *
     * @param snd        the send sequence space.
     * @param ackedBytes data bytes newly acknowledged.
     * @param nowNs      the duty cycle's time.
     * @return true to retransmit SND.UNA now (NewReno partial ACK, RFC 6582 §3.2 step 5).
     */
    boolean onNewAck(final SendSequenceSpace snd, final int ackedBytes, final long nowNs)
    {
        rtt.onAck(snd.una, nowNs); // samples only a segment sent once (Karn, MUST-18)
        if (goBackN && lt(rexmtNxt, snd.una))
        {
            rexmtNxt = snd.una;
        }
        return congestion.onNewAck(ackedBytes, snd.una, snd.flight()) && snd.una != snd.nxt;
    }

    /**
     * A duplicate ACK (RFC 5681 §2); ignored during go-back-N.
     *
     * @param snd          the send sequence space.
     * @param flightBefore SND.NXT - SND.UNA when the ACK arrived.
     * @return true to retransmit SND.UNA now (the third: fast retransmit, RFC 6582 step 2).
     */
    boolean onDuplicateAck(final SendSequenceSpace snd, final int flightBefore)
    {
        return !goBackN && congestion.onDuplicateAck(snd.una, snd.nxt, flightBefore);
    }

    /**
     * The retransmission timer expired in a synchronized state: ssthresh and cwnd fall (RFC 5681 (4)), nothing
     * more is fast-retransmitted from this flight (RFC 6582 §4); everything in flight is to be sent again.
     *
     * @param snd          the send sequence space.
     * @param firstTimeout the first expiry for this segment.
     */
    void onRetransmissionTimeout(final SendSequenceSpace snd, final boolean firstTimeout)
    {
        congestion.onRetransmissionTimeout(snd.flight(), snd.nxt, firstTimeout);
    }

    /**
     * Starts (or restarts) go-back-N from {@code next} up to {@code end}.
     *
     * @param next first sequence number to send again.
     * @param end  end of the range (the SND.NXT of the moment).
     */
    void goBackN(final int next, final int end)
    {
        rexmtNxt = next;
        rexmtEnd = end;
        goBackN = lt(next, end);
    }

    boolean isGoingBackN()
    {
        return goBackN;
    }

    int rexmtNxt()
    {
        return rexmtNxt;
    }

    int rexmtEnd()
    {
        return rexmtEnd;
    }

    void rexmtSent(final int sequenceSpace)
    {
        rexmtNxt += sequenceSpace;
    }

    void endGoBackN()
    {
        goBackN = false;
    }

    long rtoNs()
    {
        return rtt.rtoNs();
    }

    int cwnd()
    {
        return congestion.cwnd();
    }
}

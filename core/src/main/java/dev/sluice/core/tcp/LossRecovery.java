package dev.sluice.core.tcp;

import static dev.sluice.core.tcp.SequenceNumbers.lt;

import dev.sluice.core.wire.TcpOptions;

/**
 * Loss detection and recovery of one connection, the sender's reaction to what ACKs and timeouts say about
 * segments in flight: the RTT estimate and RTO (RFC 6298, {@link RttEstimator}), duplicate ACKs, fast
 * retransmit and NewReno fast recovery (RFC 5681, RFC 6582, {@link CongestionControl}), and the retransmission
 * timeout's go-back-N (after an RTO, SND.UNA .. the SND.NXT of that moment is sent again as cwnd allows,
 * SHLD-16), SACK-based loss recovery (RFC 6675, {@link SackScoreboard}) when both sides use SACK: an ACK that
 * SACKs new data is a duplicate; the third, or IsLost(SND.UNA), starts recovery, in which holes the scoreboard
 * deems lost are retransmitted while pipe stays below cwnd. After an RTO, go-back-N skips SACKed data; a second
 * RTO in a row forgets the scoreboard (the receiver may have reneged, RFC 2018 §8).
 *
 * During fast recovery (SACK or NewReno) {@link ProportionalRateReduction} (RFC 6937) sets cwnd on each ACK to
 * pipe + sndcnt, so that the flight falls smoothly to ssthresh instead of stopping and bursting.
 *
 * <p>It decides; the {@link SegmentScheduler} sends: methods return "retransmit SND.UNA now" and expose the
 * go-back-N range. No allocation; single-threaded.
 */
final class LossRecovery
{
    private static final TcpRecoveryCounters NOT_SHARED = new TcpRecoveryCounters(); // a sink, never read

    final CongestionControl congestion;
    final RttEstimator rtt;
    final SackScoreboard scoreboard = new SackScoreboard();
    private TcpRecoveryCounters counters = NOT_SHARED;
    private ProportionalRateReduction prr; // created at the first fast recovery: most connections never recover
    private int sackRecoveries;
    private int retransmissionTimeouts;
    private int dsacks;

    // go-back-N after an RTO (or a path MTU decrease): rexmtNxt .. rexmtEnd is sent again
    private boolean goBackN;
    private boolean karnAmbiguous; // a retransmission since the last timed segment: only timestamps can measure
    private int rexmtNxt;
    private int rexmtEnd;

    LossRecovery(final TcpConfig config)
    {
        this.congestion = CongestionControl.create(config.initialWindowSegments(), config.congestionControl(),
            config.hyStart());
        this.rtt = new RttEstimator(config);
    }

    /**
     * Forgets the connection.
     */
    void clear()
    {
        scoreboard.clear();
        goBackN = false;
        karnAmbiguous = false;
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
     * @param tsRttNs    the RTT the ACK's timestamp echo reports (RFC 7323 RTTM), -1 if none.
     * @return true to retransmit SND.UNA now (NewReno partial ACK, RFC 6582 §3.2 step 5).
     */
    boolean onNewAck(final SendSequenceSpace snd, final int ackedBytes, final long nowNs, final long tsRttNs)
    {
        // the timed segment gives the precise sample (Karn, MUST-18: only a segment sent once); when a
        // retransmission cancelled the timing, the timestamp echo still measures (RFC 7323 §4.1, no ambiguity)
        final long timedSentNs = rtt.timedSentNs();
        final boolean timed = rtt.onAck(snd.una, nowNs);
        if (!timed && tsRttNs >= 0 && karnAmbiguous && !rtt.isTiming())
        {
            rtt.onRttSample(tsRttNs);
        }
        if (goBackN && lt(rexmtNxt, snd.una))
        {
            rexmtNxt = snd.una;
        }
        final long srttNs = rtt.hasSample() ? rtt.srttNs() : 0;
        final long sampleNs = timed ? nowNs - timedSentNs : tsRttNs; // HyStart++'s currRTT (RFC 9406 §4.2)
        final boolean partial = congestion.onNewAck(ackedBytes, snd.una, snd.flight(), nowNs, srttNs, sampleNs);
        if (congestion.inRecovery() && !congestion.inSackRecovery())
        {
            // NewReno recovery goes on (a partial ACK): RFC 6937 without SACK (with SACK, onSack does it)
            reduceWithoutSack(snd, prr.onCumulativeAck(ackedBytes));
        }
        return partial && snd.una != snd.nxt;
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
        if (goBackN)
        {
            return false;
        }
        if (congestion.onDuplicateAck(snd.una, snd.nxt, flightBefore))
        {
            counters.fastRetransmits++;
            // RFC 6937: the DupThresh duplicates' segments have left the network; this one is delivered data
            startPrr(flightBefore, (CongestionControl.DUP_ACK_THRESHOLD - 1) * congestion.smss);
            reduceWithoutSack(snd, prr.onDuplicateAck(congestion.smss));
            return true;
        }
        if (congestion.inRecovery())
        {
            reduceWithoutSack(snd, prr.onDuplicateAck(congestion.smss));
        }
        return false;
    }

    /**
     * Where this connection's events are also counted (the stack's counters).
     *
     * @param counters the shared counters.
     */
    void counters(final TcpRecoveryCounters counters)
    {
        this.counters = counters;
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
        retransmissionTimeouts++;
        counters.retransmissionTimeouts++;
        if (!firstTimeout)
        {
            scoreboard.clear(); // RFC 2018 §8: the receiver may have reneged on what it SACKed
        }
    }

    /**
     * The SACK information of an acceptable ACK (RFC 6675 §5), when both sides use SACK: the scoreboard is
     * updated; an ACK that SACKs data not SACKed before while SND.UNA stays is a duplicate ACK; DupThresh of them,
     * or IsLost(SND.UNA), starts loss recovery.
     *
     * @param snd          the send sequence space, SND.UNA already advanced.
     * @param options      the ACK's options.
     * @param segAck       SEG.ACK.
     * @param unaAdvanced  the ACK advanced SND.UNA.
     * @param flightBefore SND.NXT - SND.UNA before the ACK.
     * @param smss         the sender MSS.
     * @return true when recovery starts: retransmit the first hole at SND.UNA now (RFC 6675 §5 step 4.3).
     */
    boolean onSack(
        final SendSequenceSpace snd, final TcpOptions options, final int segAck, final boolean unaAdvanced,
        final int flightBefore, final int smss)
    {
        final long sackedBefore = scoreboard.sackedBytes(); // above the SND.UNA before this ACK
        final int unaBefore = snd.nxt - flightBefore;
        final int newlySacked = scoreboard.update(options, segAck, snd.una, snd.nxt);
        if (scoreboard.lastWasDsack())
        {
            dsacks++;
            counters.dsacks++;
        }
        if (!unaAdvanced && newlySacked > 0 && flightBefore > 0)
        {
            congestion.countDuplicateAck();
        }
        if (!goBackN && !congestion.inRecovery() && snd.una != snd.nxt &&
            (congestion.duplicateAcks() >= SackScoreboard.DUP_THRESH || scoreboard.isLost(snd.una, smss)) &&
            congestion.enterSackRecovery(snd.una, snd.nxt, snd.flight()))
        {
            scoreboard.startRecovery(snd.una);
            sackRecoveries++;
            counters.sackRecoveries++;
            startPrr(snd.flight(), 0);
            reduceWithSack(snd, unaBefore, sackedBefore, smss);
            return true;
        }
        if (congestion.inSackRecovery())
        {
            reduceWithSack(snd, unaBefore, sackedBefore, smss);
        }
        return false;
    }

    private void startPrr(final int recoverFs, final int dupAckBytes)
    {
        if (prr == null)
        {
            prr = new ProportionalRateReduction(); // once per TCB, kept: no allocation on later recoveries
        }
        prr.start(recoverFs, dupAckBytes);
    }

    // RFC 6937 with SACK: DeliveredData = change_in(SND.UNA) + change_in(SACKed); cwnd = pipe + sndcnt
    private void reduceWithSack(
        final SendSequenceSpace snd, final int unaBefore, final long sackedBefore, final int smss)
    {
        final long delivered = (snd.una - unaBefore) + (scoreboard.sackedBytes() - sackedBefore);
        final int pipe = scoreboard.pipe(snd.una, snd.nxt, smss);
        final int sndcnt = prr.onAck((int)Math.max(0, delivered), pipe, congestion.ssthresh(), smss);
        congestion.recoveryWindow(CongestionControl.saturatedAdd(pipe, sndcnt));
    }

    // RFC 6937 without SACK: pipe = flight - what duplicate ACKs reported; the scheduler compares cwnd with the
    // flight, so cwnd = flight + sndcnt
    private void reduceWithoutSack(final SendSequenceSpace snd, final int delivered)
    {
        final int flight = snd.flight();
        final int pipe = Math.max(0, flight - prr.dupAckBytes());
        final int sndcnt = prr.onAck(delivered, pipe, congestion.ssthresh(), congestion.smss);
        congestion.recoveryWindow(CongestionControl.saturatedAdd(flight, sndcnt));
    }

    /**
     * Bytes left in a segment (new data or a retransmission): PRR's prr_out while fast recovery runs.
     *
     * @param bytes payload bytes.
     */
    void onDataSent(final int bytes)
    {
        if (prr != null && congestion.inRecovery())
        {
            prr.onSent(bytes);
        }
    }

    /** @return PRR's state, null before the first fast recovery. */
    ProportionalRateReduction prr()
    {
        return prr;
    }

    /** @return whether RFC 6675 loss recovery is running: pipe, not the flight, is what cwnd limits. */
    boolean inSackRecovery()
    {
        return congestion.inSackRecovery();
    }

    /** @return SACK-based loss recoveries started (RFC 6675). */
    long sackRecoveries()
    {
        return sackRecoveries;
    }

    /** @return retransmission timeouts of data (RFC 6298 (5.4)-(5.6)). */
    long retransmissionTimeouts()
    {
        return retransmissionTimeouts;
    }

    /** @return D-SACKs received (RFC 2883): segments the peer got twice, mostly spurious retransmissions. */
    long dsacks()
    {
        return dsacks;
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

    /**
     * New data leaves: it is timed unless a measurement is running (RFC 6298: one at a time).
     *
     * @param seqEnd sequence number after the segment.
     * @param nowNs  the duty cycle's time.
     */
    void onNewDataSent(final int seqEnd, final long nowNs)
    {
        if (rtt.startTiming(seqEnd, nowNs))
        {
            karnAmbiguous = false;
        }
    }

    /**
     * A segment is sent again: the running measurement is ambiguous and dropped (Karn, MUST-18).
     */
    void onRetransmit()
    {
        rtt.onRetransmit();
        karnAmbiguous = true;
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

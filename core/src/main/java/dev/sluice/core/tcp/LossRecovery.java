package dev.sluice.core.tcp;

import static dev.sluice.core.tcp.SequenceNumbers.le;
import static dev.sluice.core.tcp.SequenceNumbers.lt;

import dev.sluice.core.wire.TcpOptions;

/**
 * Loss detection and recovery of one connection, the sender's reaction to what ACKs and timeouts say about
 * segments in flight: the RTT estimate and RTO (RFC 6298, {@link RttEstimator}), duplicate ACKs, fast
 * retransmit and NewReno fast recovery (RFC 5681, RFC 6582, {@link CongestionControl}), and the retransmission
 * timeout's go-back-N (after an RTO, SND.UNA .. the SND.NXT of that moment is sent again as cwnd allows,
 * SHLD-16), SACK-based loss recovery (RFC 6675, {@link SackScoreboard}) when both sides use SACK: an ACK that
 * SACKs new data is a duplicate; the third, or IsLost(SND.UNA), starts recovery, in which holes the scoreboard
 * deems lost are retransmitted while pipe stays below cwnd. After an RTO, go-back-N skips SACKed data; with
 * RACK-TLP there is no go-back-N: RACK marks SND.UNA's segment and every unSACKed one older than RACK.rtt +
 * reo_wnd lost (RFC 8985 §6.3) and those alone are resent, as cwnd allows. The scoreboard is forgotten when the
 * receiver may have reneged (RFC 2018 §8): at a second RTO in a row, or when SND.UNA's own data is SACKed, a
 * state an ACK that stops at SACKed data creates; such an ACK brings the RTO within max(SRTT / 2, 10 ms).
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
    private boolean rtoRecovery; // after an RTO with RACK (RFC 8985 §6.3): until SND.UNA reaches rexmtEnd
    private boolean karnAmbiguous; // a retransmission since the last timed segment: only timestamps can measure
    // Eifel (RFC 3522): the TSval of the first retransmission of a timeout episode, until an ACK of new data decides
    private boolean eifelArmed;
    private int eifelRetransmitTs;
    private int rexmtNxt;
    private int rexmtEnd;
    // RFC 8985 with SACK: RACK detects losses, TLP probes tails; its state comes with the second segment in flight
    private boolean rackOn;
    private RackTlp rack;

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
        if (rack != null)
        {
            rack.clear();
        }
        rackOn = false;
        goBackN = false;
        rtoRecovery = false;
        karnAmbiguous = false;
        eifelArmed = false;
        rtt.reset();
    }

    /**
     * The handshake completed: congestion control starts (RFC 5681, RFC 6928), and RTO falls back to 3 s when
     * the SYN had to be retransmitted without an RTT sample (RFC 6298 (5.7)).
     *
     * @param smss             the effective send MSS.
     * @param iss              ISS.
     * @param synRetransmitted our SYN or SYN-ACK was retransmitted.
     * @param rack             RACK-TLP (RFC 8985) detects losses: both sides use SACK and the stack enables it.
     */
    void onSynchronized(final int smss, final int iss, final boolean synRetransmitted, final boolean rack)
    {
        congestion.reset(smss, iss);
        rackOn = rack;
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
        if (rtoRecovery && !lt(snd.una, rexmtEnd))
        {
            rtoRecovery = false; // everything outstanding at the timeout is acknowledged
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
     * With RACK (RFC 8985 §6.3) the segments it deems lost are sent again, first SND.UNA's, the others as cwnd
     * allows, each once; segments sent too recently to tell wait for RACK, SACKed ones are never resent (RFC 6675
     * §5.1: the SACK information is used in the recovery after an RTO). Without RACK the caller goes back N.
     *
     * @param snd          the send sequence space.
     * @param firstTimeout the first expiry for this segment.
     * @param nowNs        the duty cycle's time.
     * @return true when RACK marked the losses: retransmit the first now ({@link SegmentScheduler}
     * #retransmitOnRecoveryStart), no go-back-N.
     */
    boolean onRetransmissionTimeout(final SendSequenceSpace snd, final boolean firstTimeout, final long nowNs)
    {
        congestion.onRetransmissionTimeout(snd.flight(), snd.nxt, firstTimeout);
        retransmissionTimeouts++;
        counters.retransmissionTimeouts++;
        // RFC 2018 §8: the receiver may have reneged on what it SACKed: a second timeout in a row, or SND.UNA's
        // own data SACKed (the peer reported it, then acknowledged up to it and no further: Linux's test)
        final boolean reneged = !firstTimeout || sackedAtUna(snd);
        if (reneged)
        {
            scoreboard.clear();
        }
        rtoRecovery = false;
        if (rack == null)
        {
            return false;
        }
        if (rack.isEmpty() || rack.start(0) != snd.una)
        {
            rack.onRetransmissionTimeout(reneged); // go-back-N resends; an outstanding probe is forgotten
            return false;
        }
        final long srttNs = rtt.hasSample() ? rtt.srttNs() : rtt.rtoNs();
        rack.markLossesOnRto(nowNs, rack.reoWndNs(true, srttNs), reneged);
        rack.reorderDeadlineNs = TcpTimers.NONE;
        rtoRecovery = true; // Linux's CA_Loss: until SND.UNA passes the SND.NXT of the timeout
        rexmtEnd = snd.nxt;
        goBackN = false; // RACK's marks say what to resend (a path MTU decrease's range too)
        return true;
    }

    /**
     * The timeout's retransmission left with timestamps on (RFC 3522 §3.2 step (2)): its TSval is RetransmitTS,
     * kept from the first timeout of the episode (a later timeout's retransmission echoes no earlier).
     *
     * @param firstTimeout the first expiry for this segment.
     * @param tsVal        the TSval the retransmission carried.
     */
    void onTimeoutRetransmitted(final boolean firstTimeout, final int tsVal)
    {
        if (firstTimeout)
        {
            eifelArmed = true;
            eifelRetransmitTs = tsVal;
        }
    }

    /**
     * @return RetransmitTS while a timeout waits for the Eifel check (RFC 3522 §3.2), for
     * {@link Timestamps#echoesEarlierThan}.
     */
    int eifelRetransmitTs()
    {
        return eifelRetransmitTs;
    }

    /** @return whether a timeout's retransmission waits for the first ACK of new data to be checked. */
    boolean eifelArmed()
    {
        return eifelArmed;
    }

    /**
     * RFC 3522 §3.2 steps (3)-(5) on the first ACK of new data after a timeout: if it echoes a timestamp older
     * than the retransmission's, the original arrived and only its ACKs were lost: the timeout was spurious. The
     * response (RFC 4015, Linux's undo): cwnd and ssthresh as before the timeout, the RTO recovery ends, and
     * nothing more is resent for it (RACK's marks of that timeout are dropped: later ACKs mark real losses again).
     *
     * @param echoesOriginal the ACK's TSecr is earlier than RetransmitTS.
     * @return true when the timeout was found spurious: the ACK's echo measures the wait, not the path, and is
     * no RTT sample.
     */
    boolean checkSpuriousTimeout(final boolean echoesOriginal)
    {
        if (!eifelArmed)
        {
            return false;
        }
        eifelArmed = false;
        if (!echoesOriginal || !congestion.undoRetransmissionTimeout())
        {
            congestion.forgetUndo();
            return false;
        }
        counters.spuriousTimeouts++;
        rtoRecovery = false;
        goBackN = false;
        if (rack != null)
        {
            rack.onRetransmissionTimeout(false); // the timeout's loss marks go; SACKed stays SACKed
        }
        return true;
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
     * @param ackInfo      {@link #ACK_RECOVERY_ENDED} and {@link #ACK_PURE_DUPLICATE} bits.
     * @param nowNs        the ACK's arrival.
     * @return true when recovery starts: retransmit the first hole at SND.UNA (RFC 6675 §5 step 4.3), or the
     * first segment RACK deems lost (RFC 8985 §6.2), now.
     */
    boolean onSack(
        final SendSequenceSpace snd, final TcpOptions options, final int segAck, final boolean unaAdvanced,
        final int flightBefore, final int smss, final int ackInfo, final long nowNs)
    {
        final long sackedBefore = scoreboard.sackedBytes(); // above the SND.UNA before this ACK
        final int unaBefore = snd.nxt - flightBefore;
        final int newlySacked = scoreboard.update(options, segAck, snd.una, snd.nxt);
        final boolean dsack = scoreboard.lastWasDsack();
        if (dsack)
        {
            dsacks++;
            counters.dsacks++;
        }
        if (rackOn)
        {
            if (rack == null)
            {
                return false;
            }
            final boolean started = onRackAck(snd, options, segAck, dsack, newlySacked, ackInfo, nowNs);
            if (congestion.inSackRecovery() && prr != null)
            {
                reduceWithSack(snd, unaBefore, sackedBefore, smss); // RFC 6937 with RACK's pipe
            }
            return started;
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

    /** {@link #onSack} ackInfo bit: the ACK ended a fast recovery (SND.UNA passed "recover"). */
    static final int ACK_RECOVERY_ENDED = 1;
    /** {@link #onSack} ackInfo bit: the ACK carries no data and does not advance SND.UNA. */
    static final int ACK_PURE_DUPLICATE = 2;

    // RFC 8985 §6.2 steps 2-5 and §7.4 for one ACK; true when recovery starts
    private boolean onRackAck(
        final SendSequenceSpace snd, final TcpOptions options, final int segAck, final boolean dsack,
        final int newlySacked, final int ackInfo, final long nowNs)
    {
        final RackTlp r = rack;
        r.onAck(snd.una, scoreboard, nowNs);
        if (dsack && le(options.sackRightEdge(0), r.highRetransmitted()))
        {
            counters.spuriousRetransmissions++; // RFC 2883 §4: the receiver had it already: our resend was not needed
        }
        r.updateReoWnd(dsack, snd.una, snd.nxt, (ackInfo & ACK_RECOVERY_ENDED) != 0);
        final boolean pureDuplicate = (ackInfo & ACK_PURE_DUPLICATE) != 0 && newlySacked == 0;
        if (r.processAck(segAck, dsack, pureDuplicate, options.sackBlockCount()) && !congestion.inRecovery())
        {
            congestion.onLossRepairedByProbe(snd.flight()); // §7.4: the probe repaired a loss: a congestion event
            counters.tlpRepairedLosses++;
        }
        return detectLosses(snd, nowNs);
    }

    // RACK_detect_loss_and_arm_timer() (§6.2 step 5, §6.3): true when the losses start a recovery
    private boolean detectLosses(final SendSequenceSpace snd, final long nowNs)
    {
        final RackTlp r = rack;
        final long srttNs = rtt.hasSample() ? rtt.srttNs() : rtt.rtoNs();
        final boolean recovering = congestion.inRecovery() || goBackN || rtoRecovery;
        final long timeoutNs = r.detectLoss(nowNs, r.reoWndNs(recovering, srttNs));
        r.reorderDeadlineNs = timeoutNs > 0 ? nowNs + timeoutNs : TcpTimers.NONE;
        final int lost = r.takeNewlyLost();
        counters.rackLosses += lost;
        if (lost > 0 && !goBackN && !congestion.inRecovery() && snd.una != snd.nxt &&
            congestion.enterSackRecovery(snd.una, snd.nxt, snd.flight()))
        {
            sackRecoveries++;
            counters.sackRecoveries++;
            startPrr(snd.flight(), 0);
            return true;
        }
        return false;
    }

    /**
     * RACK's reordering timer expired (RFC 8985 §6.3): loss detection runs again.
     *
     * @param snd   the send sequence space.
     * @param nowNs the duty cycle's time.
     * @return true when the losses start a recovery: retransmit the first lost segment now.
     */
    boolean onReorderTimeout(final SendSequenceSpace snd, final long nowNs)
    {
        if (rack != null && detectLosses(snd, nowNs))
        {
            reduceWithSack(snd, snd.una, scoreboard.sackedBytes(), congestion.smss); // PRR, nothing delivered yet
            return true;
        }
        return false;
    }

    /** @return whether RACK-TLP (RFC 8985) is in use on this connection. */
    boolean rackOn()
    {
        return rackOn;
    }

    /**
     * RACK's state, created with the entry of what is in flight when first needed.
     *
     * @param snd    the send sequence space.
     * @param sentNs when the flight was last sent.
     * @return the state, or null without RACK.
     */
    RackTlp rack(final SendSequenceSpace snd, final long sentNs)
    {
        if (rack == null && rackOn)
        {
            // once per TCB, reused; an idle connection with one segment in flight has none
            rack = new RackTlp(snd.buffer.capacityBytes(), congestion.smss);
        }
        if (rack != null && rackOn && rack.isUnseeded())
        {
            rack.seed(snd.una, snd.nxt, sentNs, rtt.hasSample() ? rtt.srttNs() : Long.MAX_VALUE, congestion.smss);
        }
        return rack;
    }

    /** @return RACK's state if created (and RACK on), else null. */
    RackTlp rackIfAny()
    {
        return rackOn ? rack : null;
    }

    /**
     * Arms the one retransmission deadline after an ACK or a transmission (RFC 8985 §6.3, §7.2, RFC 6298 (5.1)
     * to (5.3)): nothing when all is acknowledged; RACK's reordering timer when a segment waits for its
     * reordering window; the PTO when a tail loss probe is allowed (new data went, or new data was acknowledged);
     * else the RTO: restarted when new data was acknowledged or another kind ran, left running otherwise.
     *
     * @param timers      the timers.
     * @param snd         the send sequence space.
     * @param nowNs       the duty cycle's time.
     * @param restartable new data was acknowledged, or sent (not as a probe): the PTO may be restarted.
     * @param ackedNew    new data was acknowledged: the RTO restarts (RFC 6298 (5.3)).
     * @param smss        the sender MSS.
     */
    void armTimer(
        final TcpTimers timers, final SendSequenceSpace snd, final long nowNs, final boolean restartable,
        final boolean ackedNew, final int smss)
    {
        if (snd.una == snd.nxt)
        {
            timers.armRetransmission(TcpTimers.RTO, TcpTimers.NONE); // RFC 6298 (5.2)
            return;
        }
        if (ackedNew && sackedAtUna(snd))
        {
            // RFC 2018 §8: the peer acknowledged up to data it had SACKed: it dropped (reneged on) it. An ACK that
            // clarifies may follow; if none does within max(SRTT / 2, 10 ms) (Linux's tcp_check_sack_reneging),
            // the RTO forgets the scoreboard and resends: not a whole RTO (200 ms or more) per reneged range
            timers.armRetransmission(TcpTimers.RTO, nowNs + renegingDelayNs());
            return;
        }
        if (rackOn && rack != null && rack.reorderDeadlineNs != TcpTimers.NONE)
        {
            timers.armRetransmission(TcpTimers.REORDER, rack.reorderDeadlineNs);
            return;
        }
        if (probeAllowed())
        {
            // an ACK that acknowledges nothing new (the peer's data, a window update) leaves a running PTO alone
            if (restartable || timers.retransmissionKind != TcpTimers.PROBE ||
                timers.retransmissionNs == TcpTimers.NONE)
            {
                timers.armRetransmission(TcpTimers.PROBE, nowNs + ptoNs(snd.flight(), smss));
            }
            return;
        }
        if (ackedNew || timers.retransmissionNs == TcpTimers.NONE || timers.retransmissionKind != TcpTimers.RTO)
        {
            timers.armRetransmission(TcpTimers.RTO, nowNs + rtt.rtoNs()); // RFC 6298 (5.1), (5.3)
        }
    }

    // the data at SND.UNA is SACKed: the peer acknowledged up to it and no further, so it dropped it (RFC 2018 §8)
    private boolean sackedAtUna(final SendSequenceSpace snd)
    {
        return !scoreboard.isEmpty() && scoreboard.skipSacked(snd.una) != snd.una;
    }

    private long renegingDelayNs()
    {
        return Math.min(rtt.rtoNs(), Math.max(RENEGING_DELAY_NS, rtt.hasSample() ? rtt.srttNs() / 2 : 0));
    }

    /** The least time a suspected reneging is given to clear up before the RTO resends (Linux: 10 ms). */
    static final long RENEGING_DELAY_NS = 10_000_000L;

    // §7.2: in the open state (no recovery, no SACKed data), and beyond it in SACK recovery (not RTO recovery),
    // with no probe outstanding. RFC 8985 schedules the PTO in the open state only: in recovery RACK detects the
    // losses, but only from ACKs; when the last ones of a flight are lost (at 5 % random loss both ways, the ACK
    // of a retransmission in a cwnd of 2-4 segments), nothing comes back and the RTO (200 ms or more against a
    // sub-millisecond round trip) is the only way out, and 45-80 % of those timeouts are spurious (Eifel): the
    // data had arrived. A probe after PTO draws an ACK (and SACK) that restarts the ACK clock, or lets RACK mark a
    // lost retransmission by the transmit time of the probe sent after it (§6.2 applies to retransmissions).
    private boolean probeAllowed()
    {
        return rackOn && !goBackN && !rtoRecovery && (rack == null || !rack.probeOutstanding()) &&
            (congestion.inSackRecovery() || !congestion.inRecovery() && scoreboard.isEmpty());
    }

    /**
     * TLP_calc_PTO() (RFC 8985 §7.2): 2 * SRTT, plus WCDelAckT when one segment is in flight (its ACK may be
     * delayed), else plus 2 ms (Linux's TCP_TIMEOUT_MIN: on a sub-millisecond path 2 * SRTT is shorter than the
     * gaps between ACKs and the timer wheel's tick), 1 s without an RTT sample; never later than the RTO.
     *
     * @param flight bytes in flight.
     * @param smss   the sender MSS.
     * @return nanoseconds.
     */
    long ptoNs(final int flight, final int smss)
    {
        long ptoNs = INITIAL_PTO_NS;
        if (rtt.hasSample())
        {
            ptoNs = 2 * rtt.srttNs() + (flight <= smss ? WC_DEL_ACK_T_NS : PTO_SLACK_NS);
        }
        return Math.min(ptoNs, rtt.rtoNs());
    }

    /** WCDelAckT (RFC 8985 §7.2): the worst-case delayed-ACK timer, 200 ms. */
    static final long WC_DEL_ACK_T_NS = 200_000_000L;
    /** Added to 2 * SRTT with more than one segment in flight (Linux's TCP_TIMEOUT_MIN, 2 ms). */
    static final long PTO_SLACK_NS = 2_000_000L;
    private static final long INITIAL_PTO_NS = 1_000_000_000L;

    /**
     * A tail loss probe left (RFC 8985 §7.3).
     *
     * @param snd       the send sequence space, SND.NXT after the probe.
     * @param isRetrans the probe retransmitted the last segment.
     */
    void onProbeSent(final SendSequenceSpace snd, final boolean isRetrans)
    {
        rack.onProbeSent(snd.nxt, isRetrans);
        counters.tlpProbes++;
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
        final int pipe = rackOn && rack != null ? rack.pipe(snd.flight()) : scoreboard.pipe(snd.una, snd.nxt, smss);
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
     * New data leaves: it is timed unless a measurement is running (RFC 6298: one at a time), and RACK records
     * its transmit time (its state is created when a second segment joins the flight).
     *
     * @param snd         the send sequence space, SND.NXT still before the segment.
     * @param dataEnd     sequence number after its data.
     * @param nowNs       the duty cycle's time.
     * @param lastSendNs  when the data in flight was last sent.
     * @param segmentBytes the size the data was cut into (several segments at once with segmentation offload).
     */
    void onNewDataSent(
        final SendSequenceSpace snd, final int dataEnd, final long nowNs, final long lastSendNs,
        final int segmentBytes)
    {
        if (dataEnd != snd.nxt && rtt.startTiming(dataEnd, nowNs))
        {
            karnAmbiguous = false;
        }
        if (rackOn && dataEnd != snd.nxt && (rack != null || snd.una != snd.nxt))
        {
            // data only: SACK blocks never cover a FIN; an entry holding it would never count as SACKed
            rack(snd, lastSendNs).onSent(snd.nxt, dataEnd, nowNs, segmentBytes);
        }
    }

    /**
     * A segment is sent again: the running measurement is ambiguous and dropped (Karn, MUST-18); RACK times it
     * anew.
     *
     * @param snd        the send sequence space.
     * @param seq        its first sequence number.
     * @param end        the sequence number after it.
     * @param nowNs      the duty cycle's time.
     * @param lastSendNs when the data in flight was last sent.
     */
    void onRetransmit(final SendSequenceSpace snd, final int seq, final int end, final long nowNs,
        final long lastSendNs)
    {
        rtt.onRetransmit();
        karnAmbiguous = true;
        if (rackOn)
        {
            rack(snd, lastSendNs).onRetransmitted(seq, end, nowNs);
        }
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

package dev.sluice.core.tcp;

import static dev.sluice.core.tcp.SequenceNumbers.gt;
import static dev.sluice.core.tcp.SequenceNumbers.le;
import static dev.sluice.core.tcp.SequenceNumbers.lt;
import static dev.sluice.core.wire.TcpHeader.ACK;
import static dev.sluice.core.wire.TcpHeader.FIN;
import static dev.sluice.core.wire.TcpHeader.RST;
import static dev.sluice.core.wire.TcpHeader.SYN;
import static dev.sluice.core.wire.TcpHeader.URG;

/**
 * SEGMENT ARRIVES (RFC 9293 §3.10.7) for one connection: LISTEN (§3.10.7.2), SYN-SENT (§3.10.7.3) and every
 * other state (§3.10.7.4), one method per step in the RFC's order, each returning what happens next
 * ({@link Step}). Steps decide; the application hears what a step decided after it ({@link #settleStep}),
 * except data and urgent notifications, which the sixth and seventh steps deliver. RFC 5961 adds exact-RST,
 * SYN and ACK-acceptability checks answered by challenge ACKs, at most one per
 * {@link TcpConfig#challengeAckIntervalNs()} (like Linux).
 *
 * <p>Part of {@link TcpConnection}, which owns the state and the lifecycle (CLOSED, back to LISTEN, the
 * events); the sequence spaces, recovery and scheduler are shared with it. No allocation; single-threaded.
 */
final class SegmentArrives
{
    /** What happens after a step. */
    private enum Step
    {
        /** Go on with the next step. */
        CONTINUE,
        /** Zero window (MUST-66): process the ACK and URG, drop the text, acknowledge. */
        ACK_AND_URG_ONLY,
        /** Done with the segment. */
        DROP,
        /** Done with the segment; send {@code <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>} at once. */
        ACK_AND_DROP,
        /** The connection reached CLOSED. */
        CLOSED
    }

    private final TcpConnection c;
    private final TcpConfig config;
    private final IsnGenerator isnGenerator;
    private final TcpFlow flow;
    private final SendSequenceSpace snd;
    private final ReceiveSequenceSpace rcv;
    private final LossRecovery recovery;
    private final SegmentScheduler scheduler;
    private final TcpTimers timers;
    private final WindowScaling windowScaling;

    private long lastChallengeAckNs;
    private boolean challengeAckSent;
    private long challengeAcksSuppressed;

    SegmentArrives(
        final TcpConnection connection, final TcpConfig config, final IsnGenerator isnGenerator, final TcpFlow flow,
        final SendSequenceSpace snd, final ReceiveSequenceSpace rcv, final LossRecovery recovery,
        final SegmentScheduler scheduler, final TcpTimers timers, final WindowScaling windowScaling)
    {
        this.c = connection;
        this.config = config;
        this.isnGenerator = isnGenerator;
        this.flow = flow;
        this.snd = snd;
        this.rcv = rcv;
        this.recovery = recovery;
        this.scheduler = scheduler;
        this.timers = timers;
        this.windowScaling = windowScaling;
    }

    void clear()
    {
        challengeAckSent = false;
    }

    long challengeAcksSuppressed()
    {
        return challengeAcksSuppressed;
    }

    // §3.10.7.2
    void inListen(final TcpSegment segment, final long nowNs)
    {
        // first: an incoming RST is ignored
        if (segment.has(RST))
        {
            return;
        }
        // second: any ACK is bad in LISTEN: <SEQ=SEG.ACK><CTL=RST>
        if (segment.has(ACK))
        {
            flow.resetTo(segment.sourceIp(), segment.sourcePort(), segment.ack());
            return;
        }
        // third: SYN (the security check is not implemented: no compartments)
        if (segment.has(SYN))
        {
            flow.remote(segment.sourceIp(), segment.sourcePort());
            snd.mssBytes = segment.options().hasMss() ? segment.options().mss() : TcpConnection.DEFAULT_SEND_MSS_BYTES;
            rcv.onPeerSyn(segment);
            if (segment.payloadLength() > 0)
            {
                rcv.hold(segment); // "queued for processing after the connection is established"
            }
            snd.open(isnGenerator.nextIsn(flow.localIp(), flow.localPort(), flow.remoteIp(), flow.remotePort(),
                nowNs));
            scheduler.sendSynAck();
            c.state = TcpState.SYN_RECEIVED;
            timers.onSegmentReceived(nowNs);
            timers.retransmissionNs = nowNs + recovery.rtoNs(); // SYN-ACK retransmission (MUST-22)
        }
        // fourth: other text or control, drop
    }

    // §3.10.7.3
    void inSynSent(final TcpSegment segment, final long nowNs)
    {
        Step next = synSentCheckAck(segment); // first
        if (next == Step.CONTINUE)
        {
            next = synSentCheckRst(segment); // second; third (security) is not implemented
        }
        if (next == Step.CONTINUE)
        {
            next = settleStep(synSentCheckSyn(segment, nowNs)); // fourth; fifth: neither SYN nor RST, drop
        }
        if (next == Step.CONTINUE)
        {
            // text and FIN on the SYN-ACK: "continue processing at the sixth step"; the handler may already have
            // called CLOSE (FIN-WAIT-1 still receives text) or ABORT (CLOSED: nothing)
            if (receivesText())
            {
                settleStep(processText(segment, segment.seq() + 1, nowNs));
            }
            if (c.state.isSynchronized())
            {
                scheduler.sendAck();
            }
        }
    }

    // §3.10.7.3 first: an ACK outside ISS < SEG.ACK =< SND.NXT gets <SEQ=SEG.ACK><CTL=RST> (unless a RST)
    private Step synSentCheckAck(final TcpSegment segment)
    {
        if (segment.has(ACK) && (le(segment.ack(), snd.iss) || gt(segment.ack(), snd.nxt)))
        {
            if (!segment.has(RST))
            {
                scheduler.sendReset(segment.ack());
            }
            return Step.DROP;
        }
        return Step.CONTINUE;
    }

    // §3.10.7.3 second: only a RST whose ACK is acceptable resets ("connection refused")
    private Step synSentCheckRst(final TcpSegment segment)
    {
        if (!segment.has(RST))
        {
            return Step.CONTINUE;
        }
        if (segment.has(ACK))
        {
            c.enterClosed(TcpCloseReason.RESET_BY_PEER);
            return Step.CLOSED;
        }
        return Step.DROP;
    }

    // §3.10.7.3 fourth: the SYN; CONTINUE when text or FIN on a SYN-ACK remain for the sixth step
    private Step synSentCheckSyn(final TcpSegment segment, final long nowNs)
    {
        if (!segment.has(SYN))
        {
            return Step.DROP;
        }
        snd.mssBytes = segment.options().hasMss() ? segment.options().mss() : TcpConnection.DEFAULT_SEND_MSS_BYTES;
        rcv.onPeerSyn(segment);
        // the SYN's window (never scaled, RFC 7323 §2.2) is taken here because processing continues at the
        // sixth step, after the fifth step's window update
        snd.initWindow(segment.window(), segment.seq(), segment.ack());
        if (segment.has(ACK))
        {
            snd.una = segment.ack();
        }
        if (!gt(snd.una, snd.iss))
        {
            // simultaneous open (MUST-10): <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>; text on it is not queued: the
            // peer retransmits it
            c.state = TcpState.SYN_RECEIVED;
            scheduler.sendSynAck();
            return Step.DROP;
        }
        c.state = TcpState.ESTABLISHED;
        onSynchronized(nowNs);
        c.events |= TcpConnection.EVENT_ESTABLISHED;
        if (segment.payloadLength() == 0 && !segment.has(FIN))
        {
            scheduler.sendAck();
            return Step.DROP;
        }
        return Step.CONTINUE;
    }

    // the handshake completed: congestion control starts, the SYN timers end (RFC 6298 (5.7))
    private void onSynchronized(final long nowNs)
    {
        snd.maxWnd = snd.wnd;
        recovery.onSynchronized(scheduler.effectiveSendMssBytes(), snd.iss, c.synRetransmitted);
        timers.onAckReceived(true);
        timers.onSegmentReceived(nowNs);
        if (snd.una == snd.nxt)
        {
            timers.retransmissionNs = TcpConnection.NO_DEADLINE;
        }
    }

    // §3.10.7.4, SYN-RECEIVED and the synchronized states: the steps in the RFC's order
    void otherwise(final TcpSegment segment, final long nowNs)
    {
        timers.onSegmentReceived(nowNs); // the peer is alive (keep-alive, MUST-26)
        final boolean synReceived = c.state == TcpState.SYN_RECEIVED;
        Step next = checkSequenceNumber(segment, nowNs); // first
        final boolean textDropped = next == Step.ACK_AND_URG_ONLY;
        if (next == Step.CONTINUE)
        {
            next = checkRst(segment, nowNs); // second; third (security) is not implemented
        }
        if (next == Step.CONTINUE)
        {
            next = checkSyn(segment, nowNs); // fourth
        }
        if (next == Step.CONTINUE && synReceived)
        {
            next = settleStep(checkAckInSynReceived(segment, nowNs)); // fifth, SYN-RECEIVED
            if (next == Step.CONTINUE)
            {
                rcv.deliverHeld(); // text held from the SYN (LISTEN), now that the connection is ESTABLISHED
                next = settleStep(next);
            }
        }
        if (next == Step.CONTINUE || textDropped)
        {
            next = checkAck(segment, nowNs); // fifth
            if (next == Step.CONTINUE)
            {
                next = settleStep(ackInClosingStates(nowNs));
            }
            if (next == Step.CONTINUE)
            {
                next = textDropped ? checkUrg(segment, Step.ACK_AND_DROP) : processText(segment, segment.seq(), nowNs);
            }
        }
        if (next == Step.ACK_AND_DROP)
        {
            scheduler.sendAck();
        }
    }

    // first: check the sequence number (Table 6); an unacceptable segment is answered with an ACK
    private Step checkSequenceNumber(final TcpSegment segment, final long nowNs)
    {
        if (TcpConnection.isAcceptable(segment.seq(), segment.segLen(), rcv.nxt, rcv.wnd))
        {
            return Step.CONTINUE;
        }
        if (segment.has(RST))
        {
            return Step.DROP;
        }
        if (c.state == TcpState.SYN_RECEIVED && segment.has(SYN) && segment.seq() == rcv.irs)
        {
            // the peer retransmitted its SYN, so our SYN-ACK was lost: answer with the SYN-ACK (Linux), not with
            // the bare ACK of the first step, which a peer in SYN-SENT would drop
            scheduler.sendSynAck();
            return Step.DROP;
        }
        if (c.state == TcpState.TIME_WAIT && segment.has(FIN) && segment.seq() + segment.segLen() == rcv.nxt)
        {
            // eighth step, TIME-WAIT: a retransmitted FIN restarts the 2 MSL timeout (MUST-13)
            timers.timeWaitNs = nowNs + config.timeWaitNs();
        }
        else if (rcv.wnd == 0 && segment.seq() == rcv.nxt && segment.has(ACK) && !segment.has(SYN) &&
            c.state.isSynchronized())
        {
            return Step.ACK_AND_URG_ONLY; // zero window: the text is dropped, valid ACKs and URGs processed (MUST-66)
        }
        return Step.ACK_AND_DROP;
    }

    // second: check the RST bit (RFC 5961 §3: only an exact match resets)
    private Step checkRst(final TcpSegment segment, final long nowNs)
    {
        if (!segment.has(RST))
        {
            return Step.CONTINUE;
        }
        if (segment.seq() != rcv.nxt)
        {
            challengeAck(nowNs); // RFC 5961 §3.2
            return Step.DROP;
        }
        if (c.state == TcpState.SYN_RECEIVED && c.passiveOpen)
        {
            c.returnToListen();
            return Step.DROP;
        }
        // TIME-WAIT: both FINs were exchanged and acknowledged, every byte delivered: the connection completed.
        // A reset now is the peer's stack answering a late segment after its LAST-ACK ended (RFC 1337), so
        // CLOSED as §3.10.7.4 says, but reported NORMAL (MUST-12 tells the application what happened to its
        // data). SYN-RECEIVED from active OPEN: "connection refused"; synchronized states: "connection reset"
        c.enterClosed(c.state == TcpState.TIME_WAIT ? TcpCloseReason.NORMAL : TcpCloseReason.RESET_BY_PEER);
        return Step.CLOSED;
    }

    // fourth: check the SYN bit (RFC 5961 §4)
    private Step checkSyn(final TcpSegment segment, final long nowNs)
    {
        if (!segment.has(SYN))
        {
            return Step.CONTINUE;
        }
        if (c.state == TcpState.SYN_RECEIVED && c.passiveOpen)
        {
            c.returnToListen();
            return Step.DROP;
        }
        challengeAck(nowNs); // RFC 5961 §4.2
        return Step.DROP;
    }

    // fifth, SYN-RECEIVED: an ACK of our SYN completes the handshake, any other gets <SEQ=SEG.ACK><CTL=RST>
    private Step checkAckInSynReceived(final TcpSegment segment, final long nowNs)
    {
        if (!segment.has(ACK))
        {
            return Step.DROP;
        }
        if (!(lt(snd.una, segment.ack()) && le(segment.ack(), snd.nxt)))
        {
            scheduler.sendReset(segment.ack());
            return Step.DROP;
        }
        // a CLOSE issued in SYN-RECEIVED was queued until now (§3.10.4)
        c.state = snd.finQueued() ? TcpState.FIN_WAIT_1 : TcpState.ESTABLISHED;
        snd.initWindow(segmentWindow(segment), segment.seq(), segment.ack());
        onSynchronized(nowNs);
        c.events |= TcpConnection.EVENT_ESTABLISHED;
        return Step.CONTINUE;
    }

    // fifth: check the ACK field, the processing common to ESTABLISHED and the closing states
    private Step checkAck(final TcpSegment segment, final long nowNs)
    {
        if (!segment.has(ACK))
        {
            return Step.DROP;
        }
        final int segAck = segment.ack();
        if (!snd.isAcceptableAck(segAck))
        {
            challengeAck(nowNs); // RFC 5961 §5.2: drop and (rate-limited) ACK
            return Step.DROP;
        }
        timers.onAckReceived(lt(snd.una, segAck)); // zero-window probes are answered (MUST-37)
        final int flightBefore = snd.flight();
        if (lt(snd.una, segAck))
        {
            final int acked = segAck - snd.una - (snd.una == snd.iss ? 1 : 0); // the SYN is no data
            snd.una = segAck;
            snd.buffer.release(segAck); // an ACK of our FIN releases everything
            if (recovery.onNewAck(snd, acked, nowNs))
            {
                scheduler.retransmitAt(snd.una); // NewReno partial ACK (RFC 6582 §3.2 step 5)
            }
            // RFC 6298 (5.2), (5.3): stop the timer when all is acknowledged, else restart it
            timers.retransmissionNs = snd.una == snd.nxt ? TcpConnection.NO_DEADLINE : nowNs + recovery.rtoNs();
        }
        else if (segAck == snd.una && flightBefore > 0 && segment.payloadLength() == 0 && !segment.has(FIN) &&
            segmentWindow(segment) == snd.wnd && c.state != TcpState.SYN_RECEIVED)
        {
            // a duplicate ACK (RFC 5681 §2): the third starts fast retransmit and NewReno fast recovery
            if (recovery.onDuplicateAck(snd, flightBefore))
            {
                scheduler.retransmitAt(snd.una);
            }
        }
        if (snd.updateWindow(segment.seq(), segAck, segmentWindow(segment)) && snd.wnd > 0)
        {
            timers.onWindowOpened(); // poll sends
        }
        return Step.CONTINUE;
    }

    // fifth, the state-specific part for the closing states
    private Step ackInClosingStates(final long nowNs)
    {
        if (!snd.isFinAcked())
        {
            return Step.CONTINUE;
        }
        switch (c.state)
        {
            case FIN_WAIT_1 -> c.state = TcpState.FIN_WAIT_2;
            case CLOSING -> enterTimeWait(nowNs);
            case LAST_ACK ->
            {
                c.enterClosed(TcpCloseReason.NORMAL);
                return Step.CLOSED;
            }
            default ->
            {
                // ESTABLISHED, FIN-WAIT-2, CLOSE-WAIT: nothing more; TIME-WAIT: see the eighth step
            }
        }
        return Step.CONTINUE;
    }

    // sixth: check the URG bit (MUST-30, MUST-31); urgent bytes stay inline in the stream
    private Step checkUrg(final TcpSegment segment, final Step next)
    {
        if (segment.has(URG) && receivesText())
        {
            rcv.onUrgentPointer(segment.seq() + segment.urgentPointer());
        }
        return next;
    }

    // sixth to eighth steps; textSeq is the sequence number of the first payload byte (SEG.SEQ + 1 on a SYN)
    private Step processText(final TcpSegment segment, final int textSeq, final long nowNs)
    {
        checkUrg(segment, Step.CONTINUE);
        final Step next = processSegmentText(segment, textSeq, nowNs);
        return next == Step.CONTINUE ? checkFin(segment, textSeq, nowNs) : next;
    }

    // seventh: process the segment text (ignored once the peer's FIN was received)
    private Step processSegmentText(final TcpSegment segment, final int textSeq, final long nowNs)
    {
        if (segment.payloadLength() > 0 && receivesText())
        {
            final boolean inOrder = rcv.isInOrder(textSeq);
            final int newRcvNxt = rcv.onText(segment, textSeq);
            if (c.state == TcpState.CLOSED)
            {
                return Step.CLOSED; // the handler aborted
            }
            rcv.onTextAccepted(inOrder, newRcvNxt, segment.payloadLength(), nowNs);
        }
        return Step.CONTINUE;
    }

    // eighth: check the FIN bit; a FIN beyond a gap is held until RCV.NXT reaches it
    private Step checkFin(final TcpSegment segment, final int textSeq, final long nowNs)
    {
        if ((segment.has(FIN) && rcv.onFinArrived(textSeq + segment.payloadLength(), receivesText())) ||
            rcv.heldFinReached())
        {
            onFin(nowNs);
        }
        return Step.CONTINUE;
    }

    private void onFin(final long nowNs)
    {
        rcv.ackNow();
        switch (c.state)
        {
            case SYN_RECEIVED, ESTABLISHED -> c.state = TcpState.CLOSE_WAIT;
            case FIN_WAIT_1 ->
            {
                if (snd.isFinAcked())
                {
                    enterTimeWait(nowNs);
                }
                else
                {
                    c.state = TcpState.CLOSING;
                }
            }
            case FIN_WAIT_2 -> enterTimeWait(nowNs);
            case TIME_WAIT ->
            {
                timers.timeWaitNs = nowNs + config.timeWaitNs(); // restart the 2 MSL timeout
                return;
            }
            default ->
            {
                return; // CLOSE-WAIT, CLOSING, LAST-ACK: the peer's FIN was already counted; remain
            }
        }
        rcv.acceptFin(); // advance RCV.NXT over the FIN
        c.events |= TcpConnection.EVENT_PEER_CLOSED;
    }

    private boolean receivesText()
    {
        return c.state == TcpState.ESTABLISHED || c.state == TcpState.FIN_WAIT_1 || c.state == TcpState.FIN_WAIT_2;
    }


    private void enterTimeWait(final long nowNs)
    {
        c.state = TcpState.TIME_WAIT;
        timers.retransmissionNs = TcpConnection.NO_DEADLINE; // everything we sent is acknowledged
        timers.persistNs = TcpConnection.NO_DEADLINE;
        timers.timeWaitNs = nowNs + config.timeWaitNs(); // MUST-13
    }

    // RFC 5961 §7: challenge ACKs of one connection at most one per challengeAckIntervalNs (like Linux)
    private void challengeAck(final long nowNs)
    {
        if (challengeAckSent && nowNs - lastChallengeAckNs < config.challengeAckIntervalNs())
        {
            challengeAcksSuppressed++;
            return;
        }
        challengeAckSent = true;
        lastChallengeAckNs = nowNs;
        scheduler.sendAck();
    }

    // SEG.WND of a segment without SYN, scaled by the peer's shift (RFC 7323 §2.3)
    private int segmentWindow(final TcpSegment segment)
    {
        return windowScaling.sendWindow(segment.window());
    }

    // after a step: the application hears what the step decided; CLOSED if it (or the step) closed the connection
    private Step settleStep(final Step next)
    {
        c.fireEvents();
        return c.state == TcpState.CLOSED ? Step.CLOSED : next;
    }
}

package dev.sluice.core.tcp;

import static dev.sluice.core.tcp.SequenceNumbers.gt;
import static dev.sluice.core.tcp.SequenceNumbers.le;
import static dev.sluice.core.tcp.SequenceNumbers.lt;
import static dev.sluice.core.wire.TcpHeader.ACK;
import static dev.sluice.core.wire.TcpHeader.FIN;
import static dev.sluice.core.wire.TcpHeader.RST;
import static dev.sluice.core.wire.TcpHeader.SYN;
import static dev.sluice.core.wire.TcpHeader.URG;

import dev.sluice.core.wire.TcpOptions;

/**
 * SEGMENT ARRIVES (RFC 9293 §3.10.7) for one connection: LISTEN (§3.10.7.2), SYN-SENT (§3.10.7.3) and every
 * other state (§3.10.7.4), one method per step in the RFC's order, each returning what happens next
 * ({@link Step}). Steps decide; the application hears what a step decided after it ({@link #settleStep}),
 * except data and urgent notifications, which the sixth and seventh steps deliver. RFC 5961 adds exact-RST,
 * SYN and ACK-acceptability checks answered by challenge ACKs, at most one per
 * {@link TcpConfig#challengeAckIntervalNs()} (like Linux).
 *
 * <p>Part of {@link TcpConnection}, which owns the state, the parts (sequence spaces, recovery, scheduler) and the
 * lifecycle (CLOSED, back to LISTEN, the events): the steps are static functions of the connection, so an idle
 * connection pays no object for them. No allocation; single-threaded.
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



    private SegmentArrives()
    {
        // the steps are functions of the connection: no state of its own, no object per connection
    }

    static void clear(final TcpConnection c)
    {
        c.challengeAckSent = false;
    }

    // §3.10.7.2
    static void inListen(final TcpConnection c, final TcpSegment segment, final long nowNs)
    {
        // first: an incoming RST is ignored
        if (segment.has(RST))
        {
            return;
        }
        // second: any ACK is bad in LISTEN: <SEQ=SEG.ACK><CTL=RST>
        if (segment.has(ACK))
        {
            c.flow.resetTo(segment.sourceIp(), segment.sourcePort(), segment.ack());
            return;
        }
        // third: SYN (the security check is not implemented: no compartments)
        if (segment.has(SYN))
        {
            synReceived(c, segment.sourceIp(), segment.sourcePort(), segment.seq(), segment.options(),
                c.isnGenerator.nextIsn(c.flow.localIp(), c.flow.localPort(), segment.sourceIp(), segment.sourcePort(),
                nowNs), nowNs);
            if (segment.payloadLength() > 0)
            {
                c.rcv.hold(segment); // "queued for processing after the connection is established"
            }
            c.scheduler.sendSynAck();
        }
        // fourth: other text or control, drop
    }

    // LISTEN's third step without the reply: IRS and the SYN's options taken, ISS chosen, SYN-RECEIVED with the
    // SYN-ACK's retransmission timer (MUST-22); also a SYN restored from a SYN cookie (RFC 4987 §3.6)
    static void synReceived(
        final TcpConnection c, final int remoteIp, final int remotePort, final int synSeq, final TcpOptions synOptions,
        final int iss, final long nowNs)
    {
        c.flow.remote(remoteIp, remotePort);
        c.snd.mssBytes = synOptions.hasMss() ? synOptions.mss() : TcpConnection.DEFAULT_SEND_MSS_BYTES; // MUST-15
        c.rcv.onPeerSyn(synSeq, synOptions);
        c.timestamps.open(c.isnGenerator.timestampOffset(c.flow.localIp(), c.flow.localPort(), remoteIp, remotePort));
        c.timestamps.onPeerSyn(synOptions);
        c.sack.onPeerSyn(synOptions);
        c.snd.open(iss);
        c.state = TcpState.SYN_RECEIVED;
        c.timers.onSegmentReceived(nowNs);
        c.timers.retransmissionNs = nowNs + c.recovery.rtoNs(); // SYN-ACK retransmission (MUST-22)
    }

    // §3.10.7.3
    static void inSynSent(final TcpConnection c, final TcpSegment segment, final long nowNs)
    {
        Step next = synSentCheckAck(c, segment); // first
        if (next == Step.CONTINUE)
        {
            next = synSentCheckRst(c, segment); // second; third (security) is not implemented
        }
        if (next == Step.CONTINUE)
        {
            next = settleStep(c, synSentCheckSyn(c, segment, nowNs)); // fourth; fifth: neither SYN nor RST, drop
        }
        if (next == Step.CONTINUE)
        {
            // text and FIN on the SYN-ACK: "continue processing at the sixth step"; the handler may already have
            // called CLOSE (FIN-WAIT-1 still receives text) or ABORT (CLOSED: nothing)
            if (receivesText(c))
            {
                settleStep(c, processText(c, segment, segment.seq() + 1, nowNs));
            }
            if (c.state.isSynchronized())
            {
                c.scheduler.sendAck();
            }
        }
    }

    // §3.10.7.3 first: an ACK outside ISS < SEG.ACK =< SND.NXT gets <SEQ=SEG.ACK><CTL=RST> (unless a RST)
    private static Step synSentCheckAck(final TcpConnection c, final TcpSegment segment)
    {
        if (segment.has(ACK) && (le(segment.ack(), c.snd.iss) || gt(segment.ack(), c.snd.nxt)))
        {
            if (!segment.has(RST))
            {
                c.scheduler.sendReset(segment.ack());
            }
            return Step.DROP;
        }
        return Step.CONTINUE;
    }

    // §3.10.7.3 second: only a RST whose ACK is acceptable resets ("connection refused")
    private static Step synSentCheckRst(final TcpConnection c, final TcpSegment segment)
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
    private static Step synSentCheckSyn(final TcpConnection c, final TcpSegment segment, final long nowNs)
    {
        if (!segment.has(SYN))
        {
            return Step.DROP;
        }
        c.snd.mssBytes = peerMss(segment);
        c.rcv.onPeerSyn(segment);
        c.timestamps.onPeerSyn(segment.options());
        c.sack.onPeerSyn(segment.options());
        // the SYN's window (never scaled, RFC 7323 §2.2) is taken here because processing continues at the
        // sixth step, after the fifth step's window update
        c.snd.initWindow(segment.window(), segment.seq(), segment.ack());
        if (segment.has(ACK))
        {
            c.snd.una = segment.ack();
        }
        if (!gt(c.snd.una, c.snd.iss))
        {
            // simultaneous open (MUST-10): <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>; text on it is not queued: the
            // peer retransmits it
            c.state = TcpState.SYN_RECEIVED;
            c.scheduler.sendSynAck();
            return Step.DROP;
        }
        c.state = TcpState.ESTABLISHED;
        onSynchronized(c, segment, nowNs);
        c.events |= TcpConnection.EVENT_ESTABLISHED;
        if (segment.payloadLength() == 0 && !segment.has(FIN))
        {
            c.scheduler.sendAck();
            return Step.DROP;
        }
        return Step.CONTINUE;
    }

    // the handshake completed: congestion control starts, the SYN timers end (RFC 6298 (5.7))
    private static void onSynchronized(final TcpConnection c, final TcpSegment segment, final long nowNs)
    {
        c.snd.maxWnd = c.snd.wnd;
        final long rttNs = c.timestamps.rttSampleNs(segment); // the handshake's RTT, echoed by RFC 7323 timestamps
        if (rttNs >= 0)
        {
            c.recovery.rtt.onRttSample(rttNs);
        }
        c.recovery.onSynchronized(c.scheduler.effectiveSendMssBytes(), c.snd.iss, c.synRetransmitted,
            c.sack.enabled() && c.config.rack());
        c.timers.onAckReceived(true);
        c.timers.onSegmentReceived(nowNs);
        if (c.snd.una == c.snd.nxt)
        {
            c.timers.retransmissionNs = TcpConnection.NO_DEADLINE;
        }
    }

    // §3.10.7.4, SYN-RECEIVED and the synchronized states: the steps in the RFC's order
    static void otherwise(final TcpConnection c, final TcpSegment segment, final long nowNs)
    {
        c.timers.onSegmentReceived(nowNs); // the peer is alive (keep-alive, MUST-26)
        final boolean synReceived = c.state == TcpState.SYN_RECEIVED;
        Step next = checkSequenceNumber(c, segment, nowNs); // first
        final boolean textDropped = next == Step.ACK_AND_URG_ONLY;
        if (next == Step.CONTINUE)
        {
            next = checkRst(c, segment, nowNs); // second; third (security) is not implemented
        }
        if (next == Step.CONTINUE)
        {
            next = checkSyn(c, segment, nowNs); // fourth
        }
        if (next == Step.CONTINUE && synReceived)
        {
            next = settleStep(c, checkAckInSynReceived(c, segment, nowNs)); // fifth, SYN-RECEIVED
            if (next == Step.CONTINUE)
            {
                c.rcv.deliverHeld(); // text held from the SYN (LISTEN), now that the connection is ESTABLISHED
                next = settleStep(c, next);
            }
        }
        if (next == Step.CONTINUE || textDropped)
        {
            next = checkAck(c, segment, nowNs); // fifth
            if (next == Step.CONTINUE)
            {
                next = settleStep(c, ackInClosingStates(c, nowNs));
            }
            if (next == Step.CONTINUE)
            {
                next = textDropped ?
                    checkUrg(c, segment, Step.ACK_AND_DROP) : processText(c, segment, segment.seq(), nowNs);
            }
        }
        if (next == Step.ACK_AND_DROP)
        {
            c.scheduler.sendAck();
        }
    }

    // first: check the sequence number (Table 6); an unacceptable segment is answered with an ACK
    private static Step checkSequenceNumber(final TcpConnection c, final TcpSegment segment, final long nowNs)
    {
        if (c.timestamps.isMissing(segment))
        {
            return Step.DROP; // RFC 7323 §3.2: a segment without the timestamps in effect is dropped silently
        }
        if (c.timestamps.rejects(segment))
        {
            return Step.ACK_AND_DROP; // PAWS, RFC 7323 §5.3 R1: an old duplicate
        }
        if (TcpConnection.isAcceptable(segment.seq(), segment.segLen(), c.rcv.nxt, c.rcv.wnd))
        {
            c.timestamps.onAcceptable(segment); // R3: TS.Recent (RFC 7323 §4.3)
            return Step.CONTINUE;
        }
        if (segment.has(RST))
        {
            return Step.DROP;
        }
        if (c.state == TcpState.SYN_RECEIVED && segment.has(SYN) && segment.seq() == c.rcv.irs)
        {
            // the peer retransmitted its SYN, so our SYN-ACK was lost: answer with the SYN-ACK (Linux), not with
            // the bare ACK of the first step, which a peer in SYN-SENT would drop
            c.scheduler.sendSynAck();
            return Step.DROP;
        }
        if (c.state == TcpState.TIME_WAIT && segment.has(FIN) && segment.seq() + segment.segLen() == c.rcv.nxt)
        {
            // eighth step, TIME-WAIT: a retransmitted FIN restarts the 2 MSL timeout (MUST-13)
            c.timers.timeWaitNs = nowNs + c.config.timeWaitNs();
        }
        else if (c.rcv.wnd == 0 && segment.seq() == c.rcv.nxt && segment.has(ACK) && !segment.has(SYN) &&
            c.state.isSynchronized())
        {
            return Step.ACK_AND_URG_ONLY; // zero window: the text is dropped, valid ACKs and URGs processed (MUST-66)
        }
        c.rcv.onOldSegment(segment); // a duplicate: D-SACK (RFC 2883)
        return Step.ACK_AND_DROP;
    }

    // second: check the RST bit (RFC 5961 §3: only an exact match resets)
    private static Step checkRst(final TcpConnection c, final TcpSegment segment, final long nowNs)
    {
        if (!segment.has(RST))
        {
            return Step.CONTINUE;
        }
        if (segment.seq() != c.rcv.nxt)
        {
            challengeAck(c, nowNs); // RFC 5961 §3.2
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
    private static Step checkSyn(final TcpConnection c, final TcpSegment segment, final long nowNs)
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
        challengeAck(c, nowNs); // RFC 5961 §4.2
        return Step.DROP;
    }

    // fifth, SYN-RECEIVED: an ACK of our SYN completes the handshake, any other gets <SEQ=SEG.ACK><CTL=RST>
    private static Step checkAckInSynReceived(final TcpConnection c, final TcpSegment segment, final long nowNs)
    {
        if (!segment.has(ACK))
        {
            return Step.DROP;
        }
        if (!(lt(c.snd.una, segment.ack()) && le(segment.ack(), c.snd.nxt)))
        {
            c.scheduler.sendReset(segment.ack());
            return Step.DROP;
        }
        // a CLOSE issued in SYN-RECEIVED was queued until now (§3.10.4)
        c.state = c.snd.finQueued() ? TcpState.FIN_WAIT_1 : TcpState.ESTABLISHED;
        c.snd.initWindow(segmentWindow(c, segment), segment.seq(), segment.ack());
        onSynchronized(c, segment, nowNs);
        c.events |= TcpConnection.EVENT_ESTABLISHED;
        return Step.CONTINUE;
    }

    // fifth: check the ACK field, the processing common to ESTABLISHED and the closing states
    private static Step checkAck(final TcpConnection c, final TcpSegment segment, final long nowNs)
    {
        if (!segment.has(ACK))
        {
            return Step.DROP;
        }
        final int segAck = segment.ack();
        if (!c.snd.isAcceptableAck(segAck))
        {
            challengeAck(c, nowNs); // RFC 5961 §5.2: drop and (rate-limited) ACK
            return Step.DROP;
        }
        c.timers.onAckReceived(lt(c.snd.una, segAck)); // zero-window probes are answered (MUST-37)
        final int flightBefore = c.snd.flight();
        final boolean unaAdvances = lt(c.snd.una, segAck);
        final boolean recoveringBefore = c.recovery.congestion.inRecovery();
        if (unaAdvances)
        {
            final int acked = segAck - c.snd.una - (c.snd.una == c.snd.iss ? 1 : 0); // the SYN is no data
            c.snd.una = segAck;
            c.snd.buffer.release(segAck); // an ACK of our FIN releases everything
            // RFC 3522: the first ACK of new data after a timeout tells by its echo whether the timeout was spurious
            final boolean spuriousTimeout = c.recovery.eifelArmed() && c.recovery.checkSpuriousTimeout(
                c.timestamps.echoesEarlierThan(segment, c.recovery.eifelRetransmitTs()));
            if (c.recovery.onNewAck(c.snd, acked, nowNs, spuriousTimeout ? -1 : c.timestamps.rttSampleNs(segment)))
            {
                c.scheduler.retransmitAt(c.snd.una, nowNs); // NewReno partial ACK (RFC 6582 §3.2 step 5)
            }
        }
        if (c.sack.enabled())
        {
            // RFC 6675: the scoreboard, duplicate ACKs as SACK defines them, and the start of loss recovery;
            // with RACK-TLP (RFC 8985 §6.2, §7.4) the losses RACK detects start it
            final int ackInfo = (recoveringBefore && !c.recovery.congestion.inRecovery() ?
                LossRecovery.ACK_RECOVERY_ENDED : 0) |
                (!unaAdvances && segment.payloadLength() == 0 ? LossRecovery.ACK_PURE_DUPLICATE : 0);
            if (c.recovery.onSack(c.snd, segment.options(), segAck, unaAdvances, flightBefore,
                c.scheduler.effectiveSendMssBytes(), ackInfo, nowNs))
            {
                c.scheduler.retransmitOnRecoveryStart(nowNs); // RFC 6675 §5 step 4.3
            }
        }
        else if (!unaAdvances && segAck == c.snd.una && flightBefore > 0 && segment.payloadLength() == 0 &&
            !segment.has(FIN) && segmentWindow(c, segment) == c.snd.wnd && c.state != TcpState.SYN_RECEIVED)
        {
            // a duplicate ACK (RFC 5681 §2): the third starts fast retransmit and NewReno fast recovery
            if (c.recovery.onDuplicateAck(c.snd, flightBefore))
            {
                c.scheduler.retransmitAt(c.snd.una, nowNs);
            }
        }
        if (unaAdvances || c.recovery.rackOn())
        {
            // RFC 6298 (5.2), (5.3): stop the timer when all is acknowledged, else restart it; RFC 8985: or RACK's
            // reordering timer, or the PTO
            c.recovery.armTimer(c.timers, c.snd, nowNs, unaAdvances, unaAdvances, c.scheduler.effectiveSendMssBytes());
        }
        if (c.snd.updateWindow(segment.seq(), segAck, segmentWindow(c, segment)) && c.snd.wnd > 0)
        {
            c.timers.onWindowOpened(); // poll sends
        }
        return Step.CONTINUE;
    }

    // fifth, the state-specific part for the closing states
    private static Step ackInClosingStates(final TcpConnection c, final long nowNs)
    {
        if (!c.snd.isFinAcked())
        {
            return Step.CONTINUE;
        }
        switch (c.state)
        {
            case FIN_WAIT_1 -> c.state = TcpState.FIN_WAIT_2;
            case CLOSING -> enterTimeWait(c, nowNs);
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
    private static Step checkUrg(final TcpConnection c, final TcpSegment segment, final Step next)
    {
        if (segment.has(URG) && receivesText(c))
        {
            c.rcv.onUrgentPointer(segment.seq() + segment.urgentPointer());
        }
        return next;
    }

    // sixth to eighth steps; textSeq is the sequence number of the first payload byte (SEG.SEQ + 1 on a SYN)
    private static Step processText(
        final TcpConnection c, final TcpSegment segment, final int textSeq, final long nowNs)
    {
        checkUrg(c, segment, Step.CONTINUE);
        final Step next = processSegmentText(c, segment, textSeq, nowNs);
        return next == Step.CONTINUE ? checkFin(c, segment, textSeq, nowNs) : next;
    }

    // seventh: process the segment text (ignored once the peer's FIN was received)
    private static Step processSegmentText(
        final TcpConnection c, final TcpSegment segment, final int textSeq, final long nowNs)
    {
        if (segment.payloadLength() > 0 && receivesText(c))
        {
            final boolean inOrder = c.rcv.isInOrder(textSeq);
            final int newRcvNxt = c.rcv.onText(segment, textSeq);
            if (c.state == TcpState.CLOSED)
            {
                return Step.CLOSED; // the handler aborted
            }
            c.rcv.onTextAccepted(inOrder, newRcvNxt, segment.payloadLength(), nowNs);
        }
        return Step.CONTINUE;
    }

    // eighth: check the FIN bit; a FIN beyond a gap is held until RCV.NXT reaches it
    private static Step checkFin(final TcpConnection c, final TcpSegment segment, final int textSeq, final long nowNs)
    {
        if ((segment.has(FIN) && c.rcv.onFinArrived(textSeq + segment.payloadLength(), receivesText(c))) ||
            c.rcv.heldFinReached())
        {
            onFin(c, nowNs);
        }
        return Step.CONTINUE;
    }

    private static void onFin(final TcpConnection c, final long nowNs)
    {
        c.rcv.ackNow();
        switch (c.state)
        {
            case SYN_RECEIVED, ESTABLISHED -> c.state = TcpState.CLOSE_WAIT;
            case FIN_WAIT_1 ->
            {
                if (c.snd.isFinAcked())
                {
                    enterTimeWait(c, nowNs);
                }
                else
                {
                    c.state = TcpState.CLOSING;
                }
            }
            case FIN_WAIT_2 -> enterTimeWait(c, nowNs);
            case TIME_WAIT ->
            {
                c.timers.timeWaitNs = nowNs + c.config.timeWaitNs(); // restart the 2 MSL timeout
                return;
            }
            default ->
            {
                return; // CLOSE-WAIT, CLOSING, LAST-ACK: the peer's FIN was already counted; remain
            }
        }
        c.rcv.acceptFin(); // advance RCV.NXT over the FIN
        c.events |= TcpConnection.EVENT_PEER_CLOSED;
    }

    private static boolean receivesText(final TcpConnection c)
    {
        return c.state == TcpState.ESTABLISHED || c.state == TcpState.FIN_WAIT_1 || c.state == TcpState.FIN_WAIT_2;
    }


    private static void enterTimeWait(final TcpConnection c, final long nowNs)
    {
        c.state = TcpState.TIME_WAIT;
        c.timers.retransmissionNs = TcpConnection.NO_DEADLINE; // everything we sent is acknowledged
        c.timers.persistNs = TcpConnection.NO_DEADLINE;
        c.timers.timeWaitNs = nowNs + c.config.timeWaitNs(); // MUST-13
    }

    // RFC 5961 §7: challenge ACKs of one connection at most one per challengeAckIntervalNs, then within the
    // stack-wide allowance per second (like Linux: the per-socket limit, then tcp_challenge_ack_limit)
    private static void challengeAck(final TcpConnection c, final long nowNs)
    {
        if ((c.challengeAckSent && nowNs - c.lastChallengeAckNs < c.config.challengeAckIntervalNs()) ||
            !c.flow.output().mayChallengeAck(nowNs))
        {
            c.challengeAcksSuppressed++;
            return;
        }
        c.challengeAckSent = true;
        c.lastChallengeAckNs = nowNs;
        c.scheduler.sendAck();
    }

    // SEG.WND of a segment without SYN, scaled by the peer's shift (RFC 7323 §2.3)
    private static int segmentWindow(final TcpConnection c, final TcpSegment segment)
    {
        return c.windowScaling.sendWindow(segment.window());
    }

    // the MSS option of the peer's SYN, 536 if it sent none (MUST-15)
    private static int peerMss(final TcpSegment segment)
    {
        return segment.options().hasMss() ? segment.options().mss() : TcpConnection.DEFAULT_SEND_MSS_BYTES;
    }

    // after a step: the application hears what the step decided; CLOSED if it (or the step) closed the connection
    private static Step settleStep(final TcpConnection c, final Step next)
    {
        c.fireEvents();
        return c.state == TcpState.CLOSED ? Step.CLOSED : next;
    }
}

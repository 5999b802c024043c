package dev.sluice.core.tcp;

import static dev.sluice.core.tcp.SequenceNumbers.lt;
import static dev.sluice.core.wire.TcpHeader.ACK;
import static dev.sluice.core.wire.TcpHeader.FIN;
import static dev.sluice.core.wire.TcpHeader.PSH;
import static dev.sluice.core.wire.TcpHeader.RST;
import static dev.sluice.core.wire.TcpHeader.SYN;

/**
 * What one connection sends now, and how: go-back-N retransmissions after an RTO, new data within
 * min(cwnd, SND.WND) with sender SWS avoidance and Nagle (MUST-38, MUST-17, SHLD-7), our FIN behind the data,
 * single retransmissions decided by {@link LossRecovery}, zero-window and keep-alive probes, SYN, SYN-ACK,
 * ACK and RST. Every segment goes out through the connection's {@link TcpFlow}; every segment that carries
 * our current ACK tells the {@link ReceiveSequenceSpace} that no ACK is owed any more. No allocation;
 * single-threaded.
 */
final class SegmentScheduler
{
    private final TcpConfig config;
    private final TcpFlow flow;
    private final SendSequenceSpace snd;
    private final ReceiveSequenceSpace rcv;
    private final LossRecovery recovery;
    private final TcpTimers timers;
    private final WindowScaling windowScaling; // timestamps are the flow's: one reference fewer per connection

    private boolean noDelay;
    private long lastSendNs;
    private boolean quantumUsed; // the last sendQueued stopped at the send quantum with more to send

    SegmentScheduler(
        final TcpConfig config, final TcpFlow flow, final SendSequenceSpace snd, final ReceiveSequenceSpace rcv,
        final LossRecovery recovery, final TcpTimers timers, final WindowScaling windowScaling)
    {
        this.config = config;
        this.flow = flow;
        this.snd = snd;
        this.rcv = rcv;
        this.recovery = recovery;
        this.timers = timers;
        this.windowScaling = windowScaling;
        this.noDelay = config.noDelay();
    }

    void noDelay(final boolean noDelay)
    {
        this.noDelay = noDelay;
    }

    /**
     * Send MSS used to cut segments: the peer's MSS (536 if it sent none, MUST-15), never more than our own
     * MSS, which bounds what the local MTU carries, less the options every segment carries (MUST-16 with
     * MMS_S = our MSS + 40: 12 bytes with timestamps, RFC 7323 §3.2, like Linux's 1448).
     *
     * @return bytes.
     */
    int effectiveSendMssBytes()
    {
        return sendMssBytes() - (flow.timestampsEnabled() ? Timestamps.OPTION_BYTES : 0);
    }

    // the send MSS without options: min(the peer's MSS, ours)
    private int sendMssBytes()
    {
        return Math.min(snd.mssBytes, config.mssBytes());
    }

    /**
     * Path MTU discovery (RFC 1191): a smaller MSS fits the path; what is in flight was dropped by the router and
     * is sent again at once in segments that fit, without a congestion response (RFC 1191 §6.5, Linux's simple
     * retransmit).
     *
     * @param mssBytes the path MTU less 40.
     * @return true if the send MSS was lowered, false if it is already no larger.
     */
    boolean lowerSendMss(final int mssBytes)
    {
        if (mssBytes >= sendMssBytes())
        {
            return false;
        }
        snd.mssBytes = mssBytes;
        if (snd.nxt != snd.una)
        {
            recovery.goBackN(snd.una, snd.nxt);
        }
        return true;
    }

    /** {@code <SEQ=ISS><CTL=SYN>} with MSS and Window Scale (RFC 7323 §2.2: MSS, NOP, WS). */
    void sendSyn()
    {
        flow.syn(snd.iss, 0, SYN, rcv.wnd, config.mssBytes(), windowScaling.offeredShift());
    }

    /** {@code <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>}, the window never scaled. */
    void sendSynAck()
    {
        flow.syn(snd.iss, rcv.nxt, SYN | ACK, Math.min(rcv.wnd, TcpConnection.MAX_UNSCALED_WINDOW),
            config.mssBytes(), windowScaling.synAckShift());
    }

    /** {@code <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>}. */
    void sendAck()
    {
        flow.control(snd.nxt, rcv.nxt, ACK, rcv.advertisedWindow());
        rcv.onAckSent();
    }

    /**
     * {@code <SEQ=seq><CTL=RST>}.
     *
     * @param seq SEG.SEQ.
     */
    void sendReset(final int seq)
    {
        flow.control(seq, 0, RST, 0);
    }

    /**
     * Zero-window probe (MUST-36) in Linux's form {@code <SEQ=SND.UNA-1><ACK=RCV.NXT><CTL=ACK>}: an old
     * sequence number makes the peer answer with its window.
     */
    void sendZeroWindowProbe()
    {
        flow.control(snd.una - 1, rcv.nxt, ACK, rcv.advertisedWindow());
    }

    /** Keep-alive probe {@code <SEQ=SND.NXT-1><ACK=RCV.NXT><CTL=ACK>} without data (SHLD-12). */
    void sendKeepAliveProbe()
    {
        flow.control(snd.nxt - 1, rcv.nxt, ACK, rcv.advertisedWindow());
    }

    /**
     * Sends what the windows allow: first the go-back-N range after an RTO, then new data and our FIN; arms the
     * persist timer when data waits for the window with nothing in flight.
     *
     * @param nowNs the duty cycle's time.
     * @return segments sent.
     */
    int sendQueued(final long nowNs)
    {
        final int mss = effectiveSendMssBytes();
        int segments = 0;
        quantumUsed = false;
        if (snd.una == snd.nxt && snd.buffer.tailSeq() != snd.nxt && nowNs - lastSendNs > recovery.rtoNs())
        {
            recovery.congestion.onIdleRestart(); // RFC 5681 §4.1: restart window after an idle period
        }
        // after an RTO: resend what was outstanding (go-back-N), as cwnd and SND.WND allow (SHLD-16); data the peer
        // SACKed is skipped
        while (recovery.isGoingBackN())
        {
            final int unsacked = recovery.scoreboard.skipSacked(recovery.rexmtNxt());
            recovery.rexmtSent(unsacked - recovery.rexmtNxt());
            final int rexmtNxt = recovery.rexmtNxt();
            final int rexmtEnd = recovery.rexmtEnd();
            final int dataEnd = snd.finSent() ? rexmtEnd - 1 : rexmtEnd;
            final int length = Math.min(mss, dataEnd - rexmtNxt);
            if (!lt(rexmtNxt, rexmtEnd))
            {
                recovery.endGoBackN();
            }
            else if (rexmtNxt - snd.una + Math.max(length, 1) > Math.min(recovery.cwnd(), Math.max(snd.wnd, mss)))
            {
                return segments;
            }
            else
            {
                recovery.rexmtSent(retransmitAt(rexmtNxt, recovery.scoreboard.holeEnd(rexmtNxt, snd.nxt), nowNs));
                segments++;
            }
        }
        final RackTlp rack = recovery.rackIfAny();
        if (rack != null)
        {
            // RFC 8985 §6.2 with RFC 6675 §5 (C): while pipe leaves room in cwnd, the segments RACK deemed lost go
            // first (NextSeg rule 1 with RACK's notion of lost)
            while (rack.lostEntries() > 0 && recovery.cwnd() - rack.pipe(snd.flight()) >= mss)
            {
                segments += retransmitLost(rack, nowNs);
            }
        }
        else
        {
            // RFC 6675 §5 (C): while pipe leaves room in cwnd, the holes deemed lost go first (NextSeg rule 1)
            while (recovery.inSackRecovery())
            {
                final int lost = recovery.scoreboard.nextLost(snd.una, snd.nxt, mss);
                if (lost == snd.nxt || recovery.cwnd() - recovery.scoreboard.pipe(snd.una, snd.nxt, mss) < mss)
                {
                    break;
                }
                retransmitHole(lost, nowNs);
                segments++;
            }
        }
        final int quantum = config.sendQuantumBytes();
        final int newDataStart = snd.nxt;
        while (!snd.finSent())
        {
            if (quantum > 0 && snd.nxt - newDataStart >= quantum)
            {
                quantumUsed = true; // the rest at the next poll: the duty cycle reads the ACKs in between
                break;
            }
            final int unsent = snd.unsent();
            // in recovery new data goes when cwnd - pipe allows (NextSeg rule 2); with RACK, SACKed and lost
            // segments are out of the network at any time (Linux's in_flight)
            final int flight = rack != null ? rack.pipe(snd.flight()) :
                recovery.inSackRecovery() ? recovery.scoreboard.pipe(snd.una, snd.nxt, mss) : snd.flight();
            final int cwndUsable = recovery.cwnd() - flight;
            // negative when the peer shrank the window (MUST-34); cwnd never cuts a segment short while
            // data is in flight: its ACK opens cwnd by a whole segment
            final int usable = Math.min(snd.una + snd.wnd - snd.nxt,
                flight > 0 && cwndUsable < Math.min(unsent, mss) ? 0 : cwndUsable);
            final int length = Math.min(Math.min(unsent, mss), Math.max(0, usable));
            final boolean withFin = snd.finQueued() && length == unsent;
            if (length == 0 && !withFin)
            {
                break; // nothing to send, a zero window or a full cwnd
            }
            final int large = length == mss && !recovery.inSackRecovery() ? largeLength(unsent, usable, mss,
                quantum > 0 ? quantum - (snd.nxt - newDataStart) : Integer.MAX_VALUE) : 0;
            if (large > mss)
            {
                // segmentation offload: the full segments the loop would send one by one, handed over at once
                sendNew(large, large == unsent ? ACK | PSH : ACK, mss, nowNs, false);
                segments += large / mss;
                continue;
            }
            final boolean swsAllows = length == unsent || length >= snd.maxWnd / 2;
            if (length < mss && !withFin && !((noDelay || flight == 0) && swsAllows))
            {
                // Nagle (SHLD-7): a small segment waits until the outstanding data is acked; sender SWS
                // avoidance (MUST-38, §3.8.6.2.1): less than a full segment goes only if it is all that is
                // queued or at least half the largest window the peer offered; the persist timer overrides
                break;
            }
            int flags = ACK;
            if (length > 0 && length == unsent)
            {
                flags |= PSH; // MUST-61: PSH on the segment that empties the buffer
            }
            if (withFin)
            {
                flags |= FIN;
            }
            sendNew(length, flags, mss, nowNs, false);
            segments++;
        }
        if (snd.una == snd.nxt && snd.buffer.tailSeq() != snd.nxt)
        {
            // data waits for the window with nothing in flight: zero-window probing (MUST-35, MUST-36) after
            // one RTO (SHLD-29), backing off (SHLD-30); also the sender SWS override timeout (MUST-38)
            timers.armPersist(nowNs, recovery.rtoNs());
        }
        return segments;
    }

    /**
     * @return whether the last {@link #sendQueued} stopped at the send quantum ({@link TcpConfig#sendQuantumBytes()})
     *         with more to send: the connection wants another poll.
     */
    boolean quantumUsed()
    {
        return quantumUsed;
    }

    /**
     * The persist timer found a usable window while data (or our FIN) waits: the sender SWS override timeout
     * (MUST-38) sends what the window allows now.
     *
     * @param nowNs the duty cycle's time.
     * @return true if a segment was sent; false if the window is still closed (probe instead).
     */
    boolean sendOnPersistTimeout(final long nowNs)
    {
        final int unsent = snd.unsent();
        final int usable = snd.una + snd.wnd - snd.nxt;
        if (usable > 0 && (unsent > 0 || snd.finQueued()))
        {
            final int length = Math.min(Math.min(unsent, usable), effectiveSendMssBytes());
            final boolean withFin = snd.finQueued() && length == unsent;
            sendNew(length, ACK | (length == unsent && length > 0 ? PSH : 0) | (withFin ? FIN : 0), length, nowNs,
                false);
            return true;
        }
        return false;
    }

    // the bytes of whole segments to hand over at once when the output offers segmentation offload: as many
    // full segments as the windows, the queue and the offload allow; the segment that carries our FIN stays
    // with the one-by-one path; 0 when offload is off
    private int largeLength(final int unsent, final int usable, final int mss, final int quantumLeft)
    {
        final int max = flow.largeSegmentBytes();
        if (max < 2 * mss)
        {
            return 0;
        }
        // whole segments up to the rest of the send quantum, rounded up: a quantum is never cut below one segment
        final int quantumSegments = quantumLeft / mss + (quantumLeft % mss == 0 ? 0 : 1);
        int length = Math.min(Math.min(unsent, usable), (int)Math.min(max, (long)quantumSegments * mss));
        length -= length % mss;
        if (length == unsent && snd.finQueued())
        {
            length -= mss;
        }
        return length;
    }

    // new data at SND.NXT (and/or our FIN): one segment, or full segments of segmentBytes handed over at once
    // (segmentation offload: RACK records one entry per segment, all sent at nowNs); a probe (RFC 8985 §7.3) does
    // not restart the PTO
    private void sendNew(
        final int length, final int flags, final int segmentBytes, final long nowNs, final boolean probe)
    {
        if (length > segmentBytes)
        {
            flow.largeData(snd.nxt, rcv.nxt, flags, rcv.advertisedWindow(), snd.buffer, length, segmentBytes);
            recovery.onDataSent(length); // PRR's prr_out (RFC 6937)
        }
        else if (length > 0)
        {
            flow.data(snd.nxt, rcv.nxt, flags, rcv.advertisedWindow(), snd.buffer, length);
            recovery.onDataSent(length); // PRR's prr_out (RFC 6937)
        }
        else
        {
            flow.control(snd.nxt, rcv.nxt, flags, rcv.advertisedWindow());
        }
        final int end = snd.nxt + length + ((flags & FIN) != 0 ? 1 : 0);
        // new data only is timed (retransmissions never are); RACK records every segment's transmit time
        recovery.onNewDataSent(snd, snd.nxt + length, nowNs, lastSendNs, segmentBytes);
        rcv.onDataSent();
        timers.persistNs = TcpTimers.NONE;
        lastSendNs = nowNs;
        snd.nxt = end;
        if ((flags & FIN) != 0)
        {
            snd.fin = SendSequenceSpace.Fin.SENT;
        }
        // RFC 6298 (5.1): the RTO runs if it did not; RFC 8985 §7.2: or the PTO restarts
        recovery.armTimer(timers, snd, nowNs, !probe, false, effectiveSendMssBytes());
    }

    /**
     * The PTO expired (RFC 8985 §7.3): a probe of new data if the peer's window takes one, else the last segment
     * sent again, to draw an ACK (and SACK) that lets RACK see a tail loss; cwnd does not hold it back. The RTO
     * is armed after it, not another PTO.
     *
     * @param nowNs the duty cycle's time.
     */
    void sendProbe(final long nowNs)
    {
        final int mss = effectiveSendMssBytes();
        final RackTlp rack = recovery.rack(snd, lastSendNs);
        final int unsent = snd.unsent();
        final int usable = snd.una + snd.wnd - snd.nxt;
        final boolean isRetrans;
        if (unsent > 0 && usable > 0 && !snd.finSent())
        {
            final int length = Math.min(Math.min(unsent, mss), usable);
            final boolean withFin = snd.finQueued() && length == unsent;
            sendNew(length, ACK | (length == unsent ? PSH : 0) | (withFin ? FIN : 0), length, nowNs, true);
            isRetrans = false;
        }
        else
        {
            // the last segment the peer has not SACKed: in the open state the last sent, in SACK recovery the
            // highest hole (a SACKed segment sent again would tell nothing new)
            final int dataEnd = snd.dataEnd();
            final int k = rack.lastUnsacked();
            final int last = k < 0 ? rack.lastStart() : rack.start(k);
            final int limit = k < 0 || !lt(rack.end(k), dataEnd) ? snd.nxt : rack.end(k);
            final boolean whole = !lt(last, snd.una) && !lt(dataEnd, last) && (limit != snd.nxt || dataEnd - last <= mss);
            final int seq = whole ? last : dataEnd - Math.min(mss, dataEnd - snd.una);
            retransmitAt(seq, whole ? limit : snd.nxt, nowNs);
            isRetrans = true;
        }
        recovery.onProbeSent(snd, isRetrans);
        timers.armRetransmission(TcpTimers.RTO, nowNs + recovery.rtoNs()); // §7.3: the RTO, not another PTO
    }

    /**
     * Loss recovery started: the first segment RACK deems lost (RFC 8985), or the hole at SND.UNA (RFC 6675 §5
     * step 4.3), goes now.
     *
     * @param nowNs the duty cycle's time.
     */
    void retransmitOnRecoveryStart(final long nowNs)
    {
        final RackTlp rack = recovery.rackIfAny();
        if (rack != null)
        {
            if (rack.lostEntries() > 0)
            {
                retransmitLost(rack, nowNs);
            }
        }
        else
        {
            retransmitHole(snd.una, nowNs);
        }
    }

    // the first segment RACK deems lost, whole (an entry joined when RACK's ring was full is larger than SMSS)
    private int retransmitLost(final RackTlp rack, final long nowNs)
    {
        final int k = rack.firstLost();
        final int end = rack.end(k) == snd.dataEnd() ? snd.nxt : rack.end(k); // our FIN behind the last data too
        int seq = rack.start(k);
        int segments = 0;
        do
        {
            final int covered = retransmitAt(seq, end, nowNs);
            seq += covered;
            segments++;
            if (covered == 0)
            {
                break;
            }
        }
        while (lt(seq, end));
        return segments;
    }

    /**
     * §3.10.8: one segment at {@code seq} (SND.UNA or a later go-back-N point), data and/or our FIN.
     *
     * @param seq   first sequence number.
     * @param nowNs the duty cycle's time.
     * @return the sequence space it covers.
     */
    int retransmitAt(final int seq, final long nowNs)
    {
        return retransmitAt(seq, snd.nxt, nowNs);
    }

    /**
     * Retransmits the hole at {@code seq} (up to the next SACKed byte, one MSS at most) and records it as
     * retransmitted in this recovery (HighRxt, RFC 6675).
     *
     * @param seq   first unSACKed sequence number of the hole.
     * @param nowNs the duty cycle's time.
     */
    void retransmitHole(final int seq, final long nowNs)
    {
        final int covered = retransmitAt(seq, recovery.scoreboard.holeEnd(seq, snd.nxt), nowNs);
        recovery.scoreboard.onRetransmitted(seq + covered);
    }

    // one segment at seq, data and/or our FIN, not beyond limit; returns the sequence space it covers
    private int retransmitAt(final int seq, final int limit, final long nowNs)
    {
        final int dataEnd = snd.dataEnd();
        final int end = lt(limit, dataEnd) ? limit : dataEnd;
        final int length = Math.max(0, Math.min(effectiveSendMssBytes(), end - seq));
        int flags = ACK;
        final boolean withFin = snd.finSent() && seq + length == dataEnd && !lt(limit, snd.nxt);
        if (withFin)
        {
            flags |= FIN;
        }
        if (length > 0)
        {
            if (seq + length == snd.buffer.tailSeq())
            {
                flags |= PSH;
            }
            flow.data(seq, rcv.nxt, flags, rcv.advertisedWindow(), snd.buffer, length);
            recovery.onDataSent(length); // PRR's prr_out (RFC 6937)
        }
        else
        {
            flow.control(seq, rcv.nxt, flags, rcv.advertisedWindow());
        }
        final int covered = length + (withFin ? 1 : 0);
        recovery.onRetransmit(snd, seq, seq + covered, nowNs, lastSendNs); // Karn (MUST-18); RACK times it anew
        rcv.onDataSent();
        return covered;
    }
}

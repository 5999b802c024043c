package dev.sluice.core.tcp;

import static dev.sluice.core.tcp.SequenceNumbers.gt;
import static dev.sluice.core.tcp.SequenceNumbers.le;
import static dev.sluice.core.tcp.SequenceNumbers.lt;

/**
 * RACK-TLP (RFC 8985) state of one connection that uses SACK: the transmit time of every segment in flight and
 * the time-based loss detection over it (RACK, §6), and the tail loss probe's episode (TLP, §7).
 *
 * <pre>
 * each segment sent        entry (end_seq, xmit_ts); a retransmission sets xmit_ts again and "retransmitted"
 * each ACK (§6.2)          step 2: per segment newly ACKed or SACKed, RACK_update: RACK.rtt, RACK.xmit_ts and
 *                          RACK.end_seq of the most recently sent delivered segment (a retransmission whose RTT
 *                          is below min_RTT is ambiguous and skipped)
 *                          step 3: delivered below RACK.fack and never retransmitted: reordering_seen
 *                          step 4: a D-SACK once per round trip: reo_wnd_mult += 1, reo_wnd_persist = 16;
 *                          16 recoveries without one: reo_wnd_mult = 1
 *                          step 5: RACK_detect_loss: a segment sent before RACK.xmit_ts, neither SACKed nor
 *                          lost, is lost once xmit_ts + RACK.rtt + reo_wnd has passed; otherwise the earliest
 *                          such moment arms the reordering timer
 * reo_wnd                  0 before reordering was seen when recovering or DupThresh segments are SACKed,
 *                          else min(reo_wnd_mult * min_RTT / 4, SRTT)
 * TLP (§7.3, §7.4)         TLP.end_seq = SND.NXT after the probe; an ACK at or above it ends the episode: a
 *                          probe of new data, or one the receiver D-SACKed, repaired nothing; an ACK above it, or
 *                          a pure duplicate ACK, says the probe repaired a loss: cwnd is reduced
 * </pre>
 *
 * Entries hold data only (a FIN is never SACKed): our FIN sits after the last entry. The entries are a ring in
 * sequence order (start of entry k = end of entry k - 1, the first starts at SND.UNA) of three parallel arrays,
 * created when a connection first has two segments in flight (an idle or request-response connection with one
 * segment in flight carries none) with one entry per SMSS of the send buffer (a power of two, 16 to
 * {@value #MAX_ENTRIES}): they never grow; when a flight of smaller segments fills them, new data joins the last
 * entry. Reused with the TCB: no
 * allocation in steady state. Scans walk entries in sequence order and stop at the first segment sent for the
 * first time after RACK.xmit_ts (nothing later in sequence was sent earlier). Single-threaded.
 */
final class RackTlp
{
    static final int MAX_ENTRIES = 4096;
    private static final int INITIAL_ENTRIES = 16;
    private static final byte SACKED = 1;
    private static final byte LOST = 2;
    private static final byte RETRANSMITTED = 4;
    /** reo_wnd_persist after a D-SACK (RFC 8985 §6.2 step 4). */
    static final int REO_WND_PERSIST = 16;
    private static final int MAX_REO_WND_MULT = 64;

    private final int[] ends;
    private final long[] xmitNs;
    private final byte[] flags;
    private int head;
    private int count;
    private int headStart; // SND.UNA
    private int sackedBytes;
    private int lostBytes;
    private int lostEntries;
    private int segsSacked;
    private int newlyLost;
    private boolean seeded;

    // RACK (§6.1)
    private boolean hasDelivered;
    private long rackXmitNs;
    private int rackEndSeq;
    private long rackRttNs;
    private int fack;
    private long minRttNs = Long.MAX_VALUE;
    private boolean reorderingSeen;
    private int reoWndMult = 1;
    private int reoWndPersist;
    private boolean dsackRoundActive;
    private int dsackRound;

    /** When RACK's reordering timer should fire (§6.3), {@link TcpTimers#NONE} when no segment waits. */
    long reorderDeadlineNs = TcpTimers.NONE;
    private int highRetransmitted;

    // TLP (§7)
    private boolean tlpActive;
    private boolean tlpIsRetrans;
    private int tlpEndSeq;

    /**
     * Creates the state with room for a flight of the given size: one entry per segment, so the ring never
     * grows (a flight of smaller segments than that shares the last entry when the ring is full).
     *
     * @param sendBufferBytes the most bytes that can be in flight.
     * @param smss            the sender MSS.
     */
    RackTlp(final int sendBufferBytes, final int smss)
    {
        final int segments = (int)Math.min(MAX_ENTRIES, Math.max(INITIAL_ENTRIES,
            ((long)sendBufferBytes + Math.max(1, smss) - 1) / Math.max(1, smss) + 1));
        final int capacity = Integer.highestOneBit(segments - 1) << 1;
        ends = new int[capacity];
        xmitNs = new long[capacity];
        flags = new byte[capacity];
    }

    /**
     * Forgets the connection (the TCB is reused); the arrays stay.
     */
    void clear()
    {
        seeded = false;
        head = 0;
        count = 0;
        sackedBytes = 0;
        lostBytes = 0;
        lostEntries = 0;
        segsSacked = 0;
        hasDelivered = false;
        rackRttNs = 0;
        minRttNs = Long.MAX_VALUE;
        reorderingSeen = false;
        reoWndMult = 1;
        reoWndPersist = 0;
        dsackRoundActive = false;
        tlpActive = false;
        reorderDeadlineNs = TcpTimers.NONE;
    }

    /**
     * What is already in flight when the state is created: one entry sent at {@code xmitNs}.
     *
     * @param sndUna SND.UNA.
     * @param sndNxt SND.NXT.
     * @param sentNs when it was (last) sent.
     * @param srttNs SRTT so far, the first estimate of min_RTT until a segment RACK times is delivered; or
     *               {@link Long#MAX_VALUE}.
     * @param segmentBytes the send MSS: what was sent in one go is one entry per segment.
     */
    void seed(final int sndUna, final int sndNxt, final long sentNs, final long srttNs, final int segmentBytes)
    {
        seeded = true;
        minRttNs = srttNs;
        headStart = sndUna;
        fack = sndUna;
        highRetransmitted = sndUna;
        if (sndUna != sndNxt)
        {
            onSent(sndUna, sndNxt, sentNs, segmentBytes);
        }
    }

    /**
     * New data left, one segment or several handed over at once (segmentation offload): one entry per segment of
     * {@code segmentBytes}, the frames the receiver SACKs one by one, so that a loss inside a large send marks
     * one segment lost and the rest SACKed (Linux splits its TSO buffers on SACK for the same reason). While the
     * ring is full, the rest joins the last entry.
     *
     * @param start        its first sequence number (SND.NXT before).
     * @param end          the sequence number after it.
     * @param nowNs        the duty cycle's time.
     * @param segmentBytes the size the data was cut into (the send MSS).
     */
    void onSent(final int start, final int end, final long nowNs, final int segmentBytes)
    {
        final int step = Math.max(1, segmentBytes);
        int s = start;
        while (end - s > step && count < ends.length)
        {
            onSentSegment(s, s + step, nowNs);
            s += step;
        }
        onSentSegment(s, end, nowNs);
    }

    // one entry, or the last one grown when the ring is full
    private void onSentSegment(final int start, final int end, final long nowNs)
    {
        if (count == 0)
        {
            headStart = start;
            if (!hasDelivered)
            {
                fack = start;
            }
        }
        if (count == ends.length)
        {
            final int last = index(count - 1);
            if ((flags[last] & SACKED) != 0)
            {
                sackedBytes -= ends[last] - start(count - 1);
                segsSacked--;
            }
            if ((flags[last] & LOST) != 0)
            {
                lostBytes -= ends[last] - start(count - 1);
                lostEntries--;
            }
            ends[last] = end; // full: the last entry grows (its transmit time moves later: never lost earlier)
            xmitNs[last] = nowNs;
            flags[last] = 0;
            return;
        }
        final int i = index(count);
        ends[i] = end;
        xmitNs[i] = nowNs;
        flags[i] = 0;
        count++;
    }

    /**
     * A retransmission of {@code [start, end)} left: the entries it covers are retransmitted, no longer lost, and
     * timed again.
     *
     * @param start first sequence number sent.
     * @param end   sequence number after it.
     * @param nowNs the duty cycle's time.
     */
    void onRetransmitted(final int start, final int end, final long nowNs)
    {
        if (gt(end, highRetransmitted) || lt(highRetransmitted, headStart))
        {
            highRetransmitted = end;
        }
        for (int k = 0; k < count; k++)
        {
            final int i = index(k);
            final int entryStart = start(k);
            if (le(end, entryStart))
            {
                return;
            }
            if (gt(ends[i], start))
            {
                if ((flags[i] & LOST) != 0)
                {
                    lostBytes -= ends[i] - entryStart;
                    lostEntries--;
                }
                flags[i] = (byte)((flags[i] & ~LOST) | RETRANSMITTED);
                xmitNs[i] = nowNs;
            }
        }
    }

    /**
     * Steps 2 and 3 of §6.2 for one ACK: entries cumulatively acknowledged leave, entries the scoreboard now
     * holds SACKed are marked; each newly delivered one updates RACK.
     *
     * @param sndUna     SND.UNA after the ACK.
     * @param scoreboard the scoreboard, updated with the ACK's blocks.
     * @param nowNs      the ACK's arrival.
     */
    void onAck(final int sndUna, final SackScoreboard scoreboard, final long nowNs)
    {
        while (count > 0 && le(ends[head], sndUna))
        {
            final int length = ends[head] - headStart;
            final byte f = flags[head];
            if ((f & SACKED) != 0)
            {
                sackedBytes -= length;
                segsSacked--;
            }
            else
            {
                if ((f & LOST) != 0)
                {
                    lostBytes -= length;
                    lostEntries--;
                }
                delivered(head, nowNs);
            }
            headStart = ends[head];
            head = (head + 1) & (ends.length - 1);
            count--;
        }
        if (count == 0 || lt(headStart, sndUna))
        {
            headStart = sndUna; // part of the first entry, or everything
        }
        final int ranges = scoreboard.rangeCount();
        int r = 0;
        for (int k = 0; k < count && r < ranges; k++)
        {
            final int i = index(k);
            final int start = start(k);
            while (r < ranges && le(scoreboard.rangeEnd(r), start))
            {
                r++;
            }
            if (r == ranges)
            {
                break;
            }
            if ((flags[i] & SACKED) == 0 && le(scoreboard.rangeStart(r), start) && le(ends[i], scoreboard.rangeEnd(r)))
            {
                final int length = ends[i] - start;
                if ((flags[i] & LOST) != 0)
                {
                    lostBytes -= length;
                    lostEntries--;
                }
                flags[i] = (byte)((flags[i] & ~LOST) | SACKED);
                sackedBytes += length;
                segsSacked++;
                delivered(i, nowNs);
            }
        }
    }

    // RACK_update() and RACK_detect_reordering() (§6.2 steps 2, 3) for a delivered entry
    private void delivered(final int i, final long nowNs)
    {
        final long rttNs = nowNs - xmitNs[i];
        final boolean retransmitted = (flags[i] & RETRANSMITTED) != 0;
        if (gt(ends[i], fack))
        {
            fack = ends[i];
        }
        else if (lt(ends[i], fack) && !retransmitted)
        {
            reorderingSeen = true;
        }
        if (retransmitted && rttNs < minRttNs - minRttNs / 8)
        {
            // faster than the path allows: the ACK was for the original, not the retransmission (Karn). RFC 8985
            // says below min_RTT; min_RTT is measured on full segments, and a short probe is serialised faster:
            // 1/8 of slack (an original delivered shows an RTT near 0: it was sent at least an RTT earlier)
            return;
        }
        if (!retransmitted && rttNs < minRttNs)
        {
            minRttNs = rttNs;
        }
        rackRttNs = rttNs;
        if (!hasDelivered || sentAfter(xmitNs[i], ends[i], rackXmitNs, rackEndSeq))
        {
            rackXmitNs = xmitNs[i];
            rackEndSeq = ends[i];
            hasDelivered = true;
        }
    }

    private static boolean sentAfter(final long t1, final int seq1, final long t2, final int seq2)
    {
        return t1 > t2 || (t1 == t2 && gt(seq1, seq2));
    }

    /**
     * Step 4 of §6.2, RACK_update_reo_wnd(): D-SACKs widen the reordering window, at most once per round trip;
     * recoveries without one let it return to min_RTT / 4.
     *
     * @param dsack            the ACK carried a D-SACK block.
     * @param sndUna           SND.UNA.
     * @param sndNxt           SND.NXT.
     * @param recoveryFinished the ACK ended a fast or RTO recovery.
     */
    void updateReoWnd(final boolean dsack, final int sndUna, final int sndNxt, final boolean recoveryFinished)
    {
        if (dsackRoundActive && !lt(sndUna, dsackRound))
        {
            dsackRoundActive = false;
        }
        if (!dsackRoundActive && dsack)
        {
            dsackRoundActive = true;
            dsackRound = sndNxt;
            reoWndMult = Math.min(MAX_REO_WND_MULT, reoWndMult + 1);
            reoWndPersist = REO_WND_PERSIST;
        }
        else if (recoveryFinished && --reoWndPersist <= 0)
        {
            reoWndPersist = 0;
            reoWndMult = 1;
        }
    }

    /**
     * RACK_reo_wnd() (§6.2 step 4).
     *
     * @param inRecovery fast recovery or RTO recovery is under way.
     * @param srttNs     SRTT.
     * @return the reordering window in nanoseconds.
     */
    long reoWndNs(final boolean inRecovery, final long srttNs)
    {
        if (!reorderingSeen && (inRecovery || segsSacked >= SackScoreboard.DUP_THRESH))
        {
            return 0;
        }
        if (minRttNs == Long.MAX_VALUE)
        {
            return 0;
        }
        return Math.min(reoWndMult * (minRttNs / 4), srttNs);
    }

    /**
     * RACK_detect_loss() (§6.2 step 5): marks lost every segment sent before RACK.xmit_ts whose time is up
     * ({@link #takeNewlyLost()} counts them).
     *
     * @param nowNs    the duty cycle's time.
     * @param reoWndNs the reordering window.
     * @return the time until the next such segment's deadline (for the reordering timer), 0 if none.
     */
    long detectLoss(final long nowNs, final long reoWndNs)
    {
        if (!hasDelivered)
        {
            return 0;
        }
        long timeoutNs = 0;
        for (int k = 0; k < count; k++)
        {
            final int i = index(k);
            final byte f = flags[i];
            if ((f & (SACKED | LOST)) != 0)
            {
                continue;
            }
            if (!sentAfter(rackXmitNs, rackEndSeq, xmitNs[i], ends[i]))
            {
                if ((f & RETRANSMITTED) == 0)
                {
                    break; // sent for the first time after RACK.xmit_ts: so was everything above it
                }
                continue;
            }
            final long remainingNs = xmitNs[i] + rackRttNs + reoWndNs - nowNs;
            if (remainingNs <= 0)
            {
                flags[i] = (byte)(f | LOST);
                lostBytes += ends[i] - start(k);
                lostEntries++;
                newlyLost++;
            }
            else
            {
                timeoutNs = Math.max(timeoutNs, remainingNs);
            }
        }
        return timeoutNs;
    }

    /**
     * Segments marked lost by the {@link #detectLoss} calls since the last call of this method.
     *
     * @return count.
     */
    int takeNewlyLost()
    {
        final int n = newlyLost;
        newlyLost = 0;
        return n;
    }

    /**
     * A retransmission timeout: go-back-N resends what is in flight; marks are dropped, and the SACKed ones too
     * when the scoreboard was forgotten (the receiver may have reneged).
     *
     * @param forgetSacked the scoreboard was cleared.
     */
    void onRetransmissionTimeout(final boolean forgetSacked)
    {
        for (int k = 0; k < count; k++)
        {
            final int i = index(k);
            flags[i] &= forgetSacked ? ~(LOST | SACKED) : ~LOST;
        }
        lostBytes = 0;
        lostEntries = 0;
        if (forgetSacked)
        {
            sackedBytes = 0;
            segsSacked = 0;
        }
        tlpActive = false;
    }

    /**
     * RACK_mark_losses_on_RTO() (RFC 8985 §6.3): the retransmission timer expired. The first segment was sent an
     * RTO ago: lost; any other segment not SACKed is lost once xmit_ts + RACK.rtt + reo_wnd has passed; the ones
     * sent more recently than that wait for RACK like any other. SACKed segments stay SACKed (nothing the peer
     * holds is sent again) unless the scoreboard was forgotten (the receiver may have reneged).
     *
     * @param nowNs        the duty cycle's time.
     * @param reoWndNs     the reordering window.
     * @param forgetSacked the scoreboard was cleared: SACKed marks go too.
     */
    void markLossesOnRto(final long nowNs, final long reoWndNs, final boolean forgetSacked)
    {
        if (forgetSacked)
        {
            for (int k = 0; k < count; k++)
            {
                flags[index(k)] &= ~SACKED;
            }
            sackedBytes = 0;
            segsSacked = 0;
        }
        for (int k = 0; k < count; k++)
        {
            final int i = index(k);
            final byte f = flags[i];
            if ((f & (SACKED | LOST)) != 0)
            {
                continue;
            }
            if (k == 0 || xmitNs[i] + rackRttNs + reoWndNs - nowNs <= 0)
            {
                flags[i] = (byte)(f | LOST);
                lostBytes += ends[i] - start(k);
                lostEntries++;
            }
        }
        tlpActive = false;
    }

    /** @return the sequence number after the highest data retransmitted (for D-SACKs of spurious resends). */
    int highRetransmitted()
    {
        return highRetransmitted;
    }

    /** @return entries marked lost and not yet retransmitted. */
    int lostEntries()
    {
        return lostEntries;
    }

    /**
     * The first entry marked lost, to retransmit (NextSeg rule 1 with RACK's notion of lost).
     *
     * @return its logical index, or -1.
     */
    int firstLost()
    {
        if (lostEntries == 0)
        {
            return -1;
        }
        for (int k = 0; k < count; k++)
        {
            if ((flags[index(k)] & LOST) != 0)
            {
                return k;
            }
        }
        return -1;
    }

    /**
     * @param k logical index.
     * @return the entry's first sequence number.
     */
    int start(final int k)
    {
        return k == 0 ? headStart : ends[index(k - 1)];
    }

    /**
     * @param k logical index.
     * @return the sequence number after the entry.
     */
    int end(final int k)
    {
        return ends[index(k)];
    }

    /**
     * Pipe with RACK's marks: the flight less what is SACKed and what is lost and not yet sent again.
     *
     * @param flight SND.NXT - SND.UNA.
     * @return bytes in the network.
     */
    int pipe(final int flight)
    {
        return Math.max(0, flight - sackedBytes - lostBytes);
    }

    /** @return the first sequence number of the last segment sent (the tail), or -1 when none is tracked. */
    int lastStart()
    {
        return count == 0 ? headStart : start(count - 1);
    }

    /**
     * The last segment the peer has not SACKed, what a probe sends again when no new data can go (the last
     * segment sent in the open state; in SACK recovery the highest hole).
     *
     * @return its logical index, or -1 when every entry is SACKed or none is tracked.
     */
    int lastUnsacked()
    {
        for (int k = count - 1; k >= 0; k--)
        {
            if ((flags[index(k)] & SACKED) == 0)
            {
                return k;
            }
        }
        return -1;
    }

    /** @return whether {@link #seed} is still to be called (new, or the TCB was reused). */
    boolean isUnseeded()
    {
        return !seeded;
    }

    /** @return whether entries are tracked. */
    boolean isEmpty()
    {
        return count == 0;
    }

    // ---- TLP (§7) ----

    /**
     * A probe left (§7.3): the episode runs until an ACK reaches SND.NXT.
     *
     * @param sndNxt    SND.NXT after the probe.
     * @param isRetrans the probe retransmitted the last segment (no new data could go).
     */
    void onProbeSent(final int sndNxt, final boolean isRetrans)
    {
        tlpActive = true;
        tlpEndSeq = sndNxt;
        tlpIsRetrans = isRetrans;
    }

    /** @return a probe is outstanding (TLP.end_seq is set). */
    boolean probeOutstanding()
    {
        return tlpActive;
    }

    /**
     * TLP_process_ack() (§7.4).
     *
     * @param segAck        SEG.ACK.
     * @param dsack         the ACK carried a D-SACK block.
     * @param pureDuplicate the ACK neither advanced SND.UNA nor SACKed anything new nor carried data.
     * @param sackBlocks    SACK blocks on the ACK.
     * @return true when the probe repaired a loss: the caller reduces cwnd.
     */
    boolean processAck(final int segAck, final boolean dsack, final boolean pureDuplicate, final int sackBlocks)
    {
        if (!tlpActive || lt(segAck, tlpEndSeq))
        {
            return false;
        }
        if (!tlpIsRetrans || dsack)
        {
            tlpActive = false; // new data delivered, or the retransmission was spurious
            return false;
        }
        if (gt(segAck, tlpEndSeq) || (pureDuplicate && sackBlocks == 0))
        {
            tlpActive = false;
            return true;
        }
        return false;
    }

    /** @return RACK.rtt (tests). */
    long rackRttNs()
    {
        return rackRttNs;
    }

    /** @return reo_wnd_mult (tests). */
    int reoWndMult()
    {
        return reoWndMult;
    }

    private int index(final int k)
    {
        return (head + k) & (ends.length - 1);
    }
}

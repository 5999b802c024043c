package dev.sluice.core.tcp;

import static dev.sluice.core.tcp.SequenceNumbers.gt;
import static dev.sluice.core.tcp.SequenceNumbers.lt;

import org.agrona.DirectBuffer;

/**
 * The receive sequence space of one connection (RFC 9293 §3.3.1) and what belongs to it: RCV.NXT, RCV.WND,
 * IRS, RCV.UP; steps six (URG) and seven (segment text) of §3.10.7.4; a FIN held beyond a gap; and the ACK
 * policy (when an ACK is due, delayed or at once).
 *
 * <pre>
 *     1          2          3
 * ----------|----------|----------
 *        RCV.NXT    RCV.NXT
 *                  +RCV.WND
 * 1 - old sequence numbers that have been acknowledged
 * 2 - sequence numbers allowed for new reception
 * 3 - future sequence numbers that are not yet allowed
 * </pre>
 *
 * In-order bytes go to the {@link TcpReceiveHandler} straight from the received frame; out-of-order bytes wait
 * in a {@link ReassemblyBuffer} (SHLD-31, held by reference) until the hole before them fills; every byte is
 * delivered once. RCV.WND is computed from what the application has not consumed. The fields {@link #nxt},
 * {@link #wnd} and {@link #irs} are read by the connection's parts directly; this class writes them. No
 * allocation; single-threaded.
 */
final class ReceiveSequenceSpace implements ReassemblyBuffer.Sink // its own sink: no extra object per connection
{
    private final TcpConfig config;
    private final TcpReceiveHandler handler;
    private final TcpTimers timers;
    private final WindowScaling windowScaling;
    private final ChunkPool pool; // of the reassembly store, created at the first out-of-order segment
    private final SackReceiver sack;

    int nxt;
    int wnd;
    int irs;

    private int unreadBytes;
    private int rcvUp;
    private boolean urgentValid;
    private int windowCap = TcpConnection.MAX_UNSCALED_WINDOW;
    private boolean finHeld;
    private int heldFinSeq;
    // ACK policy
    private int rcvMss; // largest segment received, Linux's rcv_mss: "full-sized" for delayed ACKs (SHLD-19)
    private int unackedBytes; // received in order since our last ACK
    private boolean ackPending;

    ReceiveSequenceSpace(
        final TcpConfig config, final TcpReceiveHandler handler, final TcpTimers timers,
        final WindowScaling windowScaling, final ChunkPool pool, final SackReceiver sack)
    {
        this.config = config;
        this.handler = handler;
        this.timers = timers;
        this.windowScaling = windowScaling;
        this.pool = pool;
        this.sack = sack;
        this.rcvMss = initialRcvMss();
    }

    private int initialRcvMss()
    {
        return Math.min(config.mssBytes(), TcpConnection.DEFAULT_SEND_MSS_BYTES);
    }

    /**
     * Forgets everything, for a new connection or after CLOSED.
     */
    void clear()
    {
        nxt = 0;
        wnd = 0;
        irs = 0;
        if (sack.reassembly != null)
        {
            sack.reassembly.clear(); // kept for the next connection of this TCB: allocated once
        }
        unreadBytes = 0;
        rcvUp = 0;
        urgentValid = false;
        windowCap = TcpConnection.MAX_UNSCALED_WINDOW;
        finHeld = false;
        ackPending = false;
        rcvMss = initialRcvMss();
        unackedBytes = 0;
    }

    /**
     * Active OPEN: the window our SYN offers (the SYN's window field is never scaled).
     */
    void openActive()
    {
        wnd = Math.min(config.receiveBufferBytes(), TcpConnection.MAX_UNSCALED_WINDOW);
    }

    /**
     * The peer's SYN: IRS = SEG.SEQ, RCV.NXT = SEG.SEQ + 1; window scaling is in effect only if both SYNs carry
     * the option (RFC 7323 §2.2); RCV.WND may then exceed 65,535.
     *
     * @param segment the SYN.
     */
    void onPeerSyn(final TcpSegment segment)
    {
        nxt = segment.seq() + 1;
        irs = segment.seq();
        windowScaling.onPeerSyn(segment.options());
        windowCap = windowScaling.maxReceiveWindow();
        wnd = window();
    }

    /**
     * The window field of every segment without SYN: RCV.WND scaled down, right edge never receding (RFC 7323
     * §2.4).
     *
     * @return the field's value.
     */
    int advertisedWindow()
    {
        return windowScaling.advertise(nxt, wnd);
    }

    /**
     * Sixth step: RCV.UP = max(RCV.UP, SEG.SEQ + SEG.UP), SEG.UP pointing after the urgent data (MUST-62);
     * the application is told when it advances beyond RCV.NXT (MUST-32). Urgent bytes stay inline.
     *
     * @param urgentEnd SEG.SEQ + SEG.UP.
     */
    void onUrgentPointer(final int urgentEnd)
    {
        if (!urgentValid || gt(urgentEnd, rcvUp))
        {
            rcvUp = urgentEnd;
            urgentValid = true;
            if (gt(rcvUp, nxt))
            {
                handler.onUrgent(rcvUp - nxt);
            }
        }
    }

    /**
     * Urgent bytes ahead of RCV.NXT (MUST-33).
     *
     * @return bytes, 0 when none.
     */
    int urgentBytesPending()
    {
        return urgentValid && gt(rcvUp, nxt) ? rcvUp - nxt : 0;
    }

    /**
     * Whether text at this sequence number arrives in order with no out-of-order data held (it then neither
     * fills nor shortens a hole).
     *
     * @param textSeq the first payload byte.
     * @return true if in order.
     */
    boolean isInOrder(final int textSeq)
    {
        return textSeq == nxt && (sack.reassembly == null || sack.reassembly.isEmpty());
    }

    /**
     * Seventh step, for an acceptable segment with payload: trims bytes before RCV.NXT (duplicates) and beyond
     * RCV.WND, delivers what is in order (then whatever the reassembly buffer holds after it), stores the rest.
     * RCV.NXT is not advanced here ({@link #onTextAccepted}), since the handler may abort the connection.
     *
     * @param segment the segment.
     * @param textSeq sequence number of the first payload byte: SEG.SEQ, or SEG.SEQ + 1 on a SYN.
     * @return the new RCV.NXT.
     */
    int onText(final TcpSegment segment, final int textSeq)
    {
        int seq = textSeq;
        int offset = segment.payloadOffset();
        int length = segment.payloadLength();
        final int rcvNxt = nxt;
        if (lt(seq, rcvNxt))
        {
            final int duplicate = rcvNxt - seq; // acceptability guarantees some byte is at or after RCV.NXT
            sack.onDuplicate(seq, rcvNxt); // D-SACK (RFC 2883 §4)
            seq += duplicate;
            offset += duplicate;
            length -= duplicate;
        }
        if (seq != rcvNxt)
        {
            final ReassemblyBuffer store = reassembly();
            if (store.insert(rcvNxt, wnd, seq, segment.buffer(), offset, length) > 0)
            {
                sack.onOutOfOrder(seq); // its block goes first in the next ACK (RFC 2018 §4)
            }
            else if (store.lastDuplicateBytes() == length)
            {
                sack.onDuplicate(seq, seq + length); // held already: D-SACK (RFC 2883 §4)
            }
            return rcvNxt;
        }
        final int accepted = Math.min(length, wnd); // bytes beyond the window are dropped
        deliver(segment.buffer(), offset, accepted);
        return drain(rcvNxt + accepted);
    }

    /**
     * Seventh step, after {@link #onText}: RCV.NXT and RCV.WND advance, and the ACK policy decides when to
     * acknowledge (MUST-40, SHLD-18, SHLD-19, RFC 5681 §4.2).
     *
     * @param inOrder       {@link #isInOrder} before the text.
     * @param newRcvNxt     what {@link #onText} returned.
     * @param payloadLength SEG.LEN without SYN and FIN.
     * @param nowNs         the duty cycle's time.
     */
    void onTextAccepted(final boolean inOrder, final int newRcvNxt, final int payloadLength, final long nowNs)
    {
        final int newBytes = newRcvNxt - nxt;
        rcvMss = Math.max(rcvMss, Math.min(payloadLength, config.mssBytes()));
        unackedBytes += newBytes;
        if (!inOrder || newBytes < payloadLength || config.delayedAckNs() == 0 || unackedBytes >= 2 * rcvMss)
        {
            // out-of-order, duplicate, filling a hole, or the second full-sized segment: at the next poll
            ackPending = true;
        }
        else if (timers.delayedAckNs == TcpTimers.NONE)
        {
            timers.delayedAckNs = nowNs + config.delayedAckNs();
        }
        nxt = newRcvNxt;
        wnd = window();
    }

    /**
     * Text on a SYN received in LISTEN (RFC 9293 §3.10.7.2: "queued for processing after the connection is
     * established"): copied into the reassembly buffer, delivered by {@link #deliverHeld} once ESTABLISHED.
     *
     * @param segment the SYN.
     */
    void hold(final TcpSegment segment)
    {
        reassembly().insert(nxt, wnd, nxt, segment.buffer(), segment.payloadOffset(), segment.payloadLength());
    }

    /**
     * Delivers the held bytes that start at RCV.NXT (text of a SYN) and acknowledges them at the next poll.
     */
    void deliverHeld()
    {
        final int newRcvNxt = drain(nxt);
        if (newRcvNxt != nxt)
        {
            unackedBytes += newRcvNxt - nxt;
            nxt = newRcvNxt;
            wnd = window();
            ackPending = true;
        }
    }

    /**
     * Eighth step: whether a FIN at this sequence number is processed now. Only a FIN that follows all data is;
     * a FIN beyond a gap is held with its out-of-order data (SHLD-31) until RCV.NXT reaches it (Linux keeps it
     * likewise).
     *
     * @param finSeq       sequence number of the FIN.
     * @param receivesText the state still accepts text.
     * @return true to process the FIN now.
     */
    boolean onFinArrived(final int finSeq, final boolean receivesText)
    {
        if (finSeq == nxt)
        {
            finHeld = false;
            return true;
        }
        if (receivesText && gt(finSeq, nxt))
        {
            finHeld = true;
            heldFinSeq = finSeq;
        }
        return false;
    }

    /**
     * Eighth step: whether the held FIN is now at RCV.NXT (the gap before it filled).
     *
     * @return true to process it now.
     */
    boolean heldFinReached()
    {
        if (finHeld && heldFinSeq == nxt)
        {
            finHeld = false;
            return true;
        }
        return false;
    }

    /**
     * The peer's FIN was processed: RCV.NXT advances over it and it is acknowledged at the next poll.
     */
    void acceptFin()
    {
        nxt += 1;
    }

    /**
     * An ACK is due at the next poll (MUST-58, MUST-59: aggregated per burst).
     */
    void ackNow()
    {
        ackPending = true;
    }

    boolean isAckPending()
    {
        return ackPending;
    }

    /**
     * A segment before RCV.NXT arrived again (the first step found it unacceptable): its text is reported as a
     * D-SACK (RFC 2883 §4).
     *
     * @param segment the segment.
     */
    void onOldSegment(final TcpSegment segment)
    {
        final int length = segment.payloadLength();
        final int textSeq = segment.seq() + (segment.has(dev.sluice.core.wire.TcpHeader.SYN) ? 1 : 0);
        if (length > 0 && SequenceNumbers.le(textSeq + length, nxt))
        {
            sack.onDuplicate(textSeq, textSeq + length);
        }
    }

    /**
     * A data segment carrying our current ACK left: it discharges the ACK owed unless SACK blocks are to be
     * reported, which only an ACK without data carries.
     */
    void onDataSent()
    {
        if (!sack.hasBlocks(nxt))
        {
            onAckSent();
        }
    }

    /**
     * A segment carrying our current ACK left: nothing is owed any more.
     */
    void onAckSent()
    {
        ackPending = false;
        unackedBytes = 0;
        timers.delayedAckNs = TcpTimers.NONE;
    }

    /**
     * The application finished with bytes it kept. A window that opens from zero or by at least one MSS (or
     * half the buffer) is announced at the next poll (receiver-side SWS avoidance, MUST-39).
     *
     * @param bytes          released, clamped to what is unconsumed.
     * @param announceWindow the peer may still send (no window updates once its FIN arrived).
     */
    void consumed(final int bytes, final boolean announceWindow)
    {
        unreadBytes -= Math.max(0, Math.min(bytes, unreadBytes));
        if (announceWindow)
        {
            final int before = wnd;
            wnd = window();
            final int threshold = Math.min(config.receiveBufferBytes() / 2, config.mssBytes());
            if ((before == 0 && wnd > 0) || wnd - before >= threshold)
            {
                ackPending = true;
            }
        }
    }

    /**
     * Bytes delivered but not consumed.
     *
     * @return bytes.
     */
    int unreadBytes()
    {
        return unreadBytes;
    }

    // RCV.WND: the receive buffer less the bytes the application holds unconsumed, capped to what the (possibly
    // scaled) window field carries. RCV.NXT advances by exactly what becomes unconsumed, so the right edge
    // RCV.NXT + RCV.WND never moves left (SHLD-14)
    private int window()
    {
        return Math.max(0, Math.min(config.receiveBufferBytes() - unreadBytes, windowCap));
    }

    // the store, created at the first out-of-order segment (or SYN text) and kept while the TCB lives: a
    // connection that never sees reordering or loss pays no 48 B for it (issue 11, an idle connection < 1 KiB)
    private ReassemblyBuffer reassembly()
    {
        ReassemblyBuffer store = sack.reassembly;
        if (store == null)
        {
            store = new ReassemblyBuffer(config.receiveBufferBytes(), config.maxReassemblyRanges(), pool);
            sack.reassembly = store;
        }
        return store;
    }

    private int drain(final int rcvNxt)
    {
        final ReassemblyBuffer store = sack.reassembly;
        if (store == null)
        {
            return rcvNxt;
        }
        int newRcvNxt = rcvNxt;
        int drained;
        while ((drained = store.readInOrder(newRcvNxt, this)) > 0)
        {
            newRcvNxt += drained; // the reassembly buffer trims what the frame already delivered
        }
        return newRcvNxt;
    }

    private void deliver(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length > 0)
        {
            final int consumed = handler.onData(buffer, offset, length);
            unreadBytes += length - Math.max(0, Math.min(consumed, length));
        }
    }

    /** The reassembly buffer's in-order bytes (its {@link ReassemblyBuffer.Sink}). */
    @Override
    public void onData(final DirectBuffer buffer, final int offset, final int length)
    {
        deliver(buffer, offset, length);
    }
}

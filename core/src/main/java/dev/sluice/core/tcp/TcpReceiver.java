package dev.sluice.core.tcp;

import static dev.sluice.core.tcp.SequenceNumbers.gt;
import static dev.sluice.core.tcp.SequenceNumbers.lt;

import org.agrona.DirectBuffer;

/**
 * The receive side of one connection, RFC 9293 §3.10.7.4 steps six (URG) and seven (segment text): hands
 * in-order bytes to the {@link TcpReceiveHandler} straight from the received frame, keeps out-of-order bytes
 * in a {@link ReassemblyBuffer} (SHLD-31) until the hole before them fills, delivers every byte once, and
 * computes RCV.WND from what the application has not consumed. The TCB variables RCV.NXT and RCV.WND stay in
 * {@link TcpConnection}, which passes them in and stores what comes back. No allocation; single-threaded.
 */
final class TcpReceiver
{
    private final TcpReceiveHandler handler;
    private final ReassemblyBuffer reassembly;
    private final ReassemblySink reassemblySink = new ReassemblySink();
    private final int receiveBufferBytes;
    private int unreadBytes;
    private int rcvUp;
    private boolean urgentValid;
    private int windowCap = TcpConnection.MAX_UNSCALED_WINDOW;

    TcpReceiver(final TcpConfig config, final TcpReceiveHandler handler, final ChunkPool pool)
    {
        this.handler = handler;
        this.receiveBufferBytes = config.receiveBufferBytes();
        this.reassembly = new ReassemblyBuffer(config.receiveBufferBytes(), config.maxReassemblyRanges(), pool);
    }

    /**
     * Forgets everything, for a new connection or after CLOSED.
     */
    void clear()
    {
        reassembly.clear();
        unreadBytes = 0;
        rcvUp = 0;
        urgentValid = false;
        windowCap = TcpConnection.MAX_UNSCALED_WINDOW;
    }

    /**
     * Sets the largest RCV.WND the window field can express: 65,535 without window scaling, 65,535 shifted
     * by our shift with it (RFC 7323 §2.3).
     *
     * @param windowCap bytes.
     */
    void windowCap(final int windowCap)
    {
        this.windowCap = windowCap;
    }

    /**
     * Sixth step: RCV.UP = max(RCV.UP, SEG.SEQ + SEG.UP), SEG.UP pointing after the urgent data (MUST-62);
     * the application is told when it advances beyond RCV.NXT (MUST-32). Urgent bytes stay inline.
     *
     * @param urgentEnd SEG.SEQ + SEG.UP.
     * @param rcvNxt    RCV.NXT.
     */
    void onUrgentPointer(final int urgentEnd, final int rcvNxt)
    {
        if (!urgentValid || gt(urgentEnd, rcvUp))
        {
            rcvUp = urgentEnd;
            urgentValid = true;
            if (gt(rcvUp, rcvNxt))
            {
                handler.onUrgent(rcvUp - rcvNxt);
            }
        }
    }

    /**
     * Urgent bytes ahead of RCV.NXT (MUST-33).
     *
     * @param rcvNxt RCV.NXT.
     * @return bytes, 0 when none.
     */
    int urgentBytesPending(final int rcvNxt)
    {
        return urgentValid && gt(rcvUp, rcvNxt) ? rcvUp - rcvNxt : 0;
    }

    /**
     * Seventh step, for an acceptable segment with payload: trims bytes before RCV.NXT (duplicates) and beyond
     * RCV.WND, delivers what is in order (then whatever the reassembly buffer holds after it), stores the rest.
     *
     * @param segment the segment.
     * @param textSeq sequence number of the first payload byte: SEG.SEQ, or SEG.SEQ + 1 on a SYN.
     * @param rcvNxt  RCV.NXT.
     * @param rcvWnd  RCV.WND.
     * @return the new RCV.NXT.
     */
    int onText(final TcpSegment segment, final int textSeq, final int rcvNxt, final int rcvWnd)
    {
        int seq = textSeq;
        int offset = segment.payloadOffset();
        int length = segment.payloadLength();
        if (lt(seq, rcvNxt))
        {
            final int duplicate = rcvNxt - seq; // acceptability guarantees some byte is at or after RCV.NXT
            seq += duplicate;
            offset += duplicate;
            length -= duplicate;
        }
        if (seq != rcvNxt)
        {
            reassembly.insert(rcvNxt, rcvWnd, seq, segment.buffer(), offset, length);
            return rcvNxt;
        }
        final int accepted = Math.min(length, rcvWnd); // bytes beyond the window are dropped
        deliver(segment.buffer(), offset, accepted);
        return drainHeld(rcvNxt + accepted);
    }

    /**
     * Text on a SYN received in LISTEN (RFC 9293 §3.10.7.2: "queued for processing after the connection is
     * established"): copied into the reassembly buffer, delivered by {@link #drainHeld} once ESTABLISHED.
     *
     * @param segment the SYN.
     * @param rcvNxt  RCV.NXT (IRS + 1, the first payload byte).
     * @param rcvWnd  RCV.WND.
     */
    void hold(final TcpSegment segment, final int rcvNxt, final int rcvWnd)
    {
        reassembly.insert(rcvNxt, rcvWnd, rcvNxt, segment.buffer(), segment.payloadOffset(),
            segment.payloadLength());
    }

    /**
     * Delivers the held bytes that start at RCV.NXT.
     *
     * @param rcvNxt RCV.NXT.
     * @return the new RCV.NXT.
     */
    int drainHeld(final int rcvNxt)
    {
        int newRcvNxt = rcvNxt;
        int drained;
        while ((drained = reassembly.readInOrder(newRcvNxt, reassemblySink)) > 0)
        {
            newRcvNxt += drained; // the reassembly buffer trims what the frame already delivered
        }
        return newRcvNxt;
    }

    /**
     * RCV.WND: the receive buffer less the bytes the application holds unconsumed, capped to what the
     * (possibly scaled) window field carries. RCV.NXT advances by exactly what becomes unconsumed, so the right edge
     * RCV.NXT + RCV.WND never moves left (SHLD-14).
     *
     * @return bytes.
     */
    int window()
    {
        return Math.max(0, Math.min(receiveBufferBytes - unreadBytes, windowCap));
    }

    /**
     * The application finished with bytes it kept.
     *
     * @param bytes released, clamped to what is unconsumed.
     */
    void consumed(final int bytes)
    {
        unreadBytes -= Math.max(0, Math.min(bytes, unreadBytes));
    }

    /**
     * Whether no out-of-order data is held: a segment at RCV.NXT then neither fills nor shortens a hole.
     *
     * @return true when the reassembly buffer is empty.
     */
    boolean isInOrder()
    {
        return reassembly.isEmpty();
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

    private void deliver(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length > 0)
        {
            final int consumed = handler.onData(buffer, offset, length);
            unreadBytes += length - Math.max(0, Math.min(consumed, length));
        }
    }

    private final class ReassemblySink implements ReassemblyBuffer.Sink
    {
        @Override
        public void onData(final DirectBuffer buffer, final int offset, final int length)
        {
            deliver(buffer, offset, length);
        }
    }
}

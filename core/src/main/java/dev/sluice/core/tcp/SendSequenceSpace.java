package dev.sluice.core.tcp;

import static dev.sluice.core.tcp.SequenceNumbers.ge;
import static dev.sluice.core.tcp.SequenceNumbers.gt;
import static dev.sluice.core.tcp.SequenceNumbers.le;
import static dev.sluice.core.tcp.SequenceNumbers.lt;

/**
 * The send sequence space of one connection (RFC 9293 §3.3.1) and what belongs to it: SND.UNA, SND.NXT,
 * SND.WND, SND.WL1, SND.WL2, ISS, MAX.SND.WND (RFC 5961 §5, also Max(SND.WND) of sender SWS avoidance,
 * MUST-38), the send MSS, the send buffer (held by reference) and our FIN as one small state.
 *
 * <pre>
 *      1         2          3          4
 * ----------|----------|----------|----------
 *        SND.UNA    SND.NXT    SND.UNA
 *                             +SND.WND
 * 1 - old sequence numbers that have been acknowledged
 * 2 - sequence numbers of unacknowledged data
 * 3 - sequence numbers allowed for new data transmission
 * 4 - future sequence numbers that are not yet allowed
 * </pre>
 *
 * Fields are read and written by the connection's parts directly, like a C struct (Seastar's {@code _snd}); the
 * rules that involve only these variables live here. No allocation; single-threaded.
 */
final class SendSequenceSpace
{
    /** Our FIN: not asked for, queued by CLOSE behind the data, or sent (and occupying SND.NXT - 1). */
    enum Fin
    {
        NONE, QUEUED, SENT
    }

    final SendBuffer buffer;

    int una;
    int nxt;
    int wnd;
    int wl1;
    int wl2;
    int iss;
    int maxWnd;
    int mssBytes;
    Fin fin = Fin.NONE;

    SendSequenceSpace(final SendBuffer buffer)
    {
        this.buffer = buffer;
    }

    /**
     * Chooses ISS: SND.UNA = ISS, SND.NXT = ISS + 1 (the SYN), data starts after it.
     *
     * @param iss our initial sequence number.
     */
    void open(final int iss)
    {
        this.iss = iss;
        una = iss;
        nxt = iss + 1;
        buffer.reset(iss + 1);
    }

    /**
     * Takes the window of the segment that synchronized the connection.
     *
     * @param segWnd SEG.WND (scaled where that applies).
     * @param segSeq SEG.SEQ.
     * @param segAck SEG.ACK.
     */
    void initWindow(final int segWnd, final int segSeq, final int segAck)
    {
        wnd = segWnd;
        wl1 = segSeq;
        wl2 = segAck;
    }

    /**
     * RFC 5961 §5.2: an ACK is acceptable only within SND.UNA - MAX.SND.WND =&lt; SEG.ACK =&lt; SND.NXT; beyond
     * SND.NXT it acknowledges something not yet sent (§3.10.7.4).
     *
     * @param segAck SEG.ACK.
     * @return true if acceptable.
     */
    boolean isAcceptableAck(final int segAck)
    {
        return !(gt(segAck, nxt) || lt(segAck, una - maxWnd));
    }

    /**
     * The window update of the fifth step: only from a segment at least as new as the last one used
     * (SND.WL1, SND.WL2).
     *
     * @param segSeq SEG.SEQ.
     * @param segAck SEG.ACK.
     * @param segWnd SEG.WND, scaled.
     * @return true if SND.WND was updated.
     */
    boolean updateWindow(final int segSeq, final int segAck, final int segWnd)
    {
        if (ge(segAck, una) && (lt(wl1, segSeq) || (wl1 == segSeq && le(wl2, segAck))))
        {
            wnd = segWnd;
            wl1 = segSeq;
            wl2 = segAck;
            maxWnd = Math.max(maxWnd, wnd);
            return true;
        }
        return false;
    }

    /**
     * Bytes sent and not acknowledged (the SYN and FIN count one each).
     *
     * @return SND.NXT - SND.UNA.
     */
    int flight()
    {
        return nxt - una;
    }

    /**
     * Queued bytes not yet sent.
     *
     * @return bytes.
     */
    int unsent()
    {
        return buffer.tailSeq() - nxt;
    }

    /**
     * End of the data sent so far (SND.NXT less our FIN once sent).
     *
     * @return sequence number.
     */
    int dataEnd()
    {
        return fin == Fin.SENT ? nxt - 1 : nxt;
    }

    boolean finQueued()
    {
        return fin != Fin.NONE;
    }

    boolean finSent()
    {
        return fin == Fin.SENT;
    }

    boolean isFinAcked()
    {
        return fin == Fin.SENT && una == nxt;
    }

    /**
     * Forgets the connection (back to LISTEN or CLOSED); the MSS is set again by the next SYN.
     */
    void clear()
    {
        una = 0;
        nxt = 0;
        wnd = 0;
        wl1 = 0;
        wl2 = 0;
        iss = 0;
        maxWnd = 0;
        fin = Fin.NONE;
        buffer.reset(0);
    }
}

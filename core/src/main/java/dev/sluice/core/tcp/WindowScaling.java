package dev.sluice.core.tcp;

import static dev.sluice.core.tcp.SequenceNumbers.gt;

import dev.sluice.core.wire.TcpOptions;

/**
 * RFC 7323 §2 window scaling of one connection: the shift we offer on our SYN (chosen from the receive
 * buffer), the peer's shift, whether scaling is in effect (only when both SYNs carried the option, §2.2),
 * and the advertised window field with the right edge never moving left (§2.4). SND.WND, RCV.WND and
 * MAX.SND.WND stay unscaled byte counts in {@link TcpConnection}; only the 16-bit header field is scaled.
 * No allocation; single-threaded.
 */
final class WindowScaling
{
    /** Largest shift count (RFC 7323 §2.3); a larger received value is used as 14. */
    static final int MAX_SHIFT = 14;
    /** {@link #offeredShift()} when our SYN carries no Window Scale option. */
    static final int NO_WINDOW_SCALE = -1;

    // shifts are 0..14 (or NO_WINDOW_SCALE): bytes keep this object at 24 B (issue 11, an idle connection < 1 KiB)
    private final byte offeredShift;
    private boolean enabled;
    private byte sndShift;
    private byte rcvShift;
    private boolean edgeValid;
    private int lastAdvertisedEdge;

    WindowScaling(final TcpConfig config)
    {
        this.offeredShift = (byte)(config.windowScaling() ? shiftFor(config.receiveBufferBytes()) : NO_WINDOW_SCALE);
    }

    /**
     * The smallest shift with which the 16-bit window field covers the whole receive buffer (Linux chooses
     * likewise), at most {@link #MAX_SHIFT}.
     *
     * @param receiveBufferBytes receive buffer.
     * @return 0..14.
     */
    static int shiftFor(final int receiveBufferBytes)
    {
        int shift = 0;
        while (shift < MAX_SHIFT && ((long)TcpConnection.MAX_UNSCALED_WINDOW << shift) < receiveBufferBytes)
        {
            shift++;
        }
        return shift;
    }

    /**
     * The shift our SYN (or SYN-ACK) announces.
     *
     * @return 0..14, or {@link #NO_WINDOW_SCALE} when window scaling is configured off.
     */
    int offeredShift()
    {
        return offeredShift;
    }

    /**
     * The shift to put on a SYN-ACK answering a SYN: the option is sent only if the SYN carried one (§2.2).
     *
     * @return 0..14, or {@link #NO_WINDOW_SCALE}.
     */
    int synAckShift()
    {
        return enabled ? rcvShift : NO_WINDOW_SCALE;
    }

    /**
     * The peer's SYN (LISTEN, simultaneous open) or SYN-ACK (SYN-SENT) arrived: scaling is on in both
     * directions only if we offered it and the peer's SYN carries the option too.
     *
     * @param options the peer's SYN options.
     */
    void onPeerSyn(final TcpOptions options)
    {
        enabled = offeredShift != NO_WINDOW_SCALE && options.hasWindowScale();
        sndShift = (byte)(enabled ? Math.min(options.windowScale(), MAX_SHIFT) : 0);
        rcvShift = enabled ? offeredShift : 0;
        edgeValid = false;
    }

    /**
     * Forgets the peer, for a new connection.
     */
    void clear()
    {
        enabled = false;
        sndShift = 0;
        rcvShift = 0;
        edgeValid = false;
        lastAdvertisedEdge = 0;
    }

    /**
     * Whether both SYNs carried the option.
     *
     * @return true when scaling is in effect.
     */
    boolean enabled()
    {
        return enabled;
    }

    /**
     * Shift applied to the peer's window field (Snd.Wind.Shift).
     *
     * @return 0..14.
     */
    int sndShift()
    {
        return sndShift;
    }

    /**
     * Shift applied to our window field (Rcv.Wind.Shift).
     *
     * @return 0..14.
     */
    int rcvShift()
    {
        return rcvShift;
    }

    /**
     * SND.WND from the window field of a segment without SYN (a SYN's window is never scaled, §2.2).
     *
     * @param segWindow SEG.WND as received, 0..65535.
     * @return bytes.
     */
    int sendWindow(final int segWindow)
    {
        return segWindow << sndShift;
    }

    /**
     * Largest RCV.WND the window field can express.
     *
     * @return bytes.
     */
    int maxReceiveWindow()
    {
        return TcpConnection.MAX_UNSCALED_WINDOW << rcvShift;
    }

    /**
     * The window field of a segment without SYN: RCV.WND &gt;&gt; Rcv.Wind.Shift, rounded down to the scale's
     * granularity unless that would move the right edge we advertised last to the left (RFC 7323 §2.4), in
     * which case the old edge is kept, rounded up like Linux's tcp_select_window. Unlike Linux the round-up
     * never goes beyond RCV.WND rounded up: while the application holds data unread the edge could otherwise
     * creep ahead of the buffer by up to 2^shift - 1 bytes per ACK; then it recedes by less than the
     * granularity, which RFC 7323 §2.4 expects senders to tolerate (FreeBSD's wire value does the same).
     * Without scaling it is RCV.WND itself, as before.
     *
     * @param rcvNxt RCV.NXT.
     * @param rcvWnd RCV.WND in bytes.
     * @return 0..65535.
     */
    int advertise(final int rcvNxt, final int rcvWnd)
    {
        if (rcvShift == 0)
        {
            return Math.min(rcvWnd, TcpConnection.MAX_UNSCALED_WINDOW);
        }
        int field = rcvWnd >>> rcvShift;
        if (edgeValid && gt(lastAdvertisedEdge, rcvNxt))
        {
            final int current = lastAdvertisedEdge - rcvNxt;
            if ((field << rcvShift) < current)
            {
                // keep the old edge, but never promise more than the scale's granularity beyond the buffer
                final int roundUp = (1 << rcvShift) - 1;
                field = Math.min((current + roundUp) >>> rcvShift, (rcvWnd + roundUp) >>> rcvShift);
            }
        }
        field = Math.min(field, TcpConnection.MAX_UNSCALED_WINDOW);
        lastAdvertisedEdge = rcvNxt + (field << rcvShift);
        edgeValid = true;
        return field;
    }
}

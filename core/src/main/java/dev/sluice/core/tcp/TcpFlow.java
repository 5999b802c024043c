package dev.sluice.core.tcp;

import static dev.sluice.core.wire.TcpHeader.ACK;
import static dev.sluice.core.wire.TcpHeader.RST;

import dev.sluice.core.wire.TcpOptions;

/**
 * The addresses of one connection (its 4-tuple) bound to the shard's {@link TcpSegmentOutput}: every segment
 * the connection sends goes through here, so no caller repeats the addresses, and here each segment gets the
 * options in effect: RFC 7323 timestamps on every segment but RST once both SYNs carried them (§3.2), offered
 * on our SYN; SACK-permitted on SYNs and SACK blocks on ACKs without data (RFC 2018). No allocation;
 * single-threaded.
 */
final class TcpFlow
{
    private final TcpSegmentOutput output;
    private final Timestamps timestamps;
    private final SackReceiver sack;
    private final TcpOptions options;
    private int localIp;
    private int localPort;
    private int remoteIp;
    private int remotePort;

    TcpFlow(final TcpSegmentOutput output, final Timestamps timestamps, final SackReceiver sack)
    {
        this.output = output;
        this.timestamps = timestamps;
        this.sack = sack;
        this.options = output.optionsHolder();
    }

    boolean timestampsEnabled()
    {
        return timestamps.enabled();
    }

    TcpSegmentOutput output()
    {
        return output;
    }

    void local(final int localIp, final int localPort)
    {
        this.localIp = localIp;
        this.localPort = localPort;
    }

    void remote(final int remoteIp, final int remotePort)
    {
        this.remoteIp = remoteIp;
        this.remotePort = remotePort;
    }

    int localIp()
    {
        return localIp;
    }

    int localPort()
    {
        return localPort;
    }

    int remoteIp()
    {
        return remoteIp;
    }

    int remotePort()
    {
        return remotePort;
    }

    /**
     * A segment without payload or options.
     *
     * @param seq    SEG.SEQ.
     * @param ack    SEG.ACK.
     * @param flags  flag bits.
     * @param window SEG.WND as carried in the header.
     */
    void control(final int seq, final int ack, final int flags, final int window)
    {
        final boolean sackBlocks = (flags & (ACK | RST)) == ACK && sack.hasBlocks(ack);
        if (sackBlocks || (timestamps.enabled() && (flags & RST) == 0))
        {
            options.clear();
            if (timestamps.enabled())
            {
                options.timestamps(timestamps.tsVal(), timestamps.tsRecent());
            }
            if (sackBlocks)
            {
                // RFC 2018 §4, RFC 2883: four blocks fill the 40 option bytes, three beside the timestamps
                sack.addBlocks(options, ack, timestamps.enabled() ? 3 : TcpOptions.MAX_SACK_BLOCKS);
            }
            output.sendSegment(localIp, localPort, remoteIp, remotePort, seq, ack, flags, window, options, null, 0);
            onSent(ack, flags);
            return;
        }
        output.sendControl(localIp, localPort, remoteIp, remotePort, seq, ack, flags, window,
            TcpSegmentOutput.NO_MSS_OPTION);
        onSent(ack, flags);
    }

    /**
     * A reset to a peer other than the connection's (LISTEN has no remote address yet).
     *
     * @param remoteIp   the peer's address.
     * @param remotePort the peer's port.
     * @param seq        SEG.SEQ.
     */
    void resetTo(final int remoteIp, final int remotePort, final int seq)
    {
        output.sendControl(localIp, localPort, remoteIp, remotePort, seq, 0, RST, 0,
            TcpSegmentOutput.NO_MSS_OPTION);
    }

    /**
     * A segment with payload read from the send buffer.
     *
     * @param seq    SEG.SEQ.
     * @param ack    SEG.ACK.
     * @param flags  flag bits.
     * @param window SEG.WND as carried in the header.
     * @param source the send buffer.
     * @param length payload bytes, &gt; 0.
     */
    void data(final int seq, final int ack, final int flags, final int window, final SendBuffer source,
        final int length)
    {
        if (timestamps.enabled())
        {
            sendWithOptions(seq, ack, flags, window, source, length);
            return;
        }
        output.sendData(localIp, localPort, remoteIp, remotePort, seq, ack, flags, window, source, length);
        onSent(ack, flags);
    }

    /**
     * A SYN or SYN-ACK with the MSS option and, unless {@link TcpSegmentOutput#NO_WINDOW_SCALE}, Window Scale.
     *
     * @param seq              SEG.SEQ.
     * @param ack              SEG.ACK.
     * @param flags            SYN or SYN | ACK.
     * @param window           SEG.WND, never scaled.
     * @param mssBytes         the MSS option.
     * @param windowScaleShift the shift or {@link TcpSegmentOutput#NO_WINDOW_SCALE}.
     */
    void syn(final int seq, final int ack, final int flags, final int window, final int mssBytes,
        final int windowScaleShift)
    {
        // SYN: offered when configured; SYN-ACK: only in reply to a SYN that carried them (RFC 7323 §3.2)
        // SACK-permitted likewise (RFC 2018 §2)
        final boolean synOnly = (flags & ACK) == 0;
        final boolean withTimestamps = synOnly ? timestamps.offered() : timestamps.enabled();
        final boolean sackPermitted = synOnly ? sack.offered() : sack.enabled();
        if (withTimestamps || sackPermitted)
        {
            options.clear().mss(mssBytes).sackPermitted(sackPermitted);
            if (windowScaleShift != TcpSegmentOutput.NO_WINDOW_SCALE)
            {
                options.windowScale(windowScaleShift);
            }
            if (withTimestamps)
            {
                options.timestamps(timestamps.tsVal(), synOnly ? 0 : timestamps.tsRecent());
            }
            output.sendSegment(localIp, localPort, remoteIp, remotePort, seq, ack, flags, window, options, null, 0);
        }
        else
        {
            output.sendSyn(localIp, localPort, remoteIp, remotePort, seq, ack, flags, window, mssBytes,
                windowScaleShift);
        }
        onSent(ack, flags);
    }

    private void sendWithOptions(
        final int seq, final int ack, final int flags, final int window, final SendBuffer source, final int length)
    {
        options.clear().timestamps(timestamps.tsVal(), timestamps.tsRecent());
        output.sendSegment(localIp, localPort, remoteIp, remotePort, seq, ack, flags, window, options, source,
            length);
        onSent(ack, flags);
    }

    private void onSent(final int ack, final int flags)
    {
        if ((flags & ACK) != 0)
        {
            timestamps.onAckSent(ack); // Last.ACK.sent (RFC 7323 §4.3)
        }
    }
}

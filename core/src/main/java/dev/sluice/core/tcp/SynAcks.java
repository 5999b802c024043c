package dev.sluice.core.tcp;

import static dev.sluice.core.wire.TcpHeader.ACK;
import static dev.sluice.core.wire.TcpHeader.SYN;

import dev.sluice.core.wire.TcpOptions;

/**
 * The SYN-ACK a listener sends without a connection: for a SYN cookie ({@link SynCookies}) and for a compact
 * SYN-RECEIVED record, with the options the connection will use: our MSS, our window scale when the peer offered
 * one, SACK-permitted when both allow it, timestamps when both use them (TSval given by the caller, TSecr the
 * SYN's TSval). The window is the receive buffer, unscaled (RFC 7323 §2.2: a SYN's window is never scaled).
 * No allocation.
 */
public final class SynAcks
{
    private SynAcks()
    {
    }

    /**
     * Sends {@code <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>}.
     *
     * @param config          the TCP settings (MSS, receive buffer).
     * @param output          where it goes.
     * @param options         a holder to encode the options in (not kept).
     * @param localIp         our address.
     * @param localPort       our port.
     * @param remoteIp        the peer's address.
     * @param remotePort      the peer's port.
     * @param iss             our ISS.
     * @param rcvNxt          the SYN's sequence number + 1.
     * @param windowScaling   whether both scale windows (we then send our shift).
     * @param sackPermitted   whether both allow SACK.
     * @param timestamps      whether both use timestamps.
     * @param tsVal           our TSval (when timestamps).
     * @param tsEcr           the SYN's TSval (when timestamps).
     */
    public static void send(
        final TcpConfig config, final TcpSegmentOutput output, final TcpOptions options, final int localIp,
        final int localPort, final int remoteIp, final int remotePort, final int iss, final int rcvNxt,
        final boolean windowScaling, final boolean sackPermitted, final boolean timestamps, final int tsVal,
        final int tsEcr)
    {
        final int window = Math.min(config.receiveBufferBytes(), TcpConnection.MAX_UNSCALED_WINDOW);
        if (!timestamps && !sackPermitted)
        {
            output.sendSyn(localIp, localPort, remoteIp, remotePort, iss, rcvNxt, SYN | ACK, window,
                config.mssBytes(), windowScaling ? WindowScaling.shiftFor(config.receiveBufferBytes()) :
                TcpSegmentOutput.NO_WINDOW_SCALE);
            return;
        }
        options.clear().mss(config.mssBytes()).sackPermitted(sackPermitted);
        if (timestamps)
        {
            options.timestamps(tsVal, tsEcr);
        }
        if (windowScaling)
        {
            options.windowScale(WindowScaling.shiftFor(config.receiveBufferBytes()));
        }
        output.sendSegment(localIp, localPort, remoteIp, remotePort, iss, rcvNxt, SYN | ACK, window, options, null,
            0);
    }

    /**
     * Our timestamp clock for a 4-tuple (RFC 7323 §5.4 with the per-connection offset of RFC 7323 §7.1).
     *
     * @param isnGenerator the shard's keyed hash (gives the offset).
     * @param localIp      our address.
     * @param localPort    our port.
     * @param remoteIp     the peer's address.
     * @param remotePort   the peer's port.
     * @param nowNs        the duty cycle's time.
     * @return the TSval a segment sent now carries.
     */
    public static int tsVal(
        final IsnGenerator isnGenerator, final int localIp, final int localPort, final int remoteIp,
        final int remotePort, final long nowNs)
    {
        return (int)(nowNs / Timestamps.TICK_NS) + isnGenerator.timestampOffset(localIp, localPort, remoteIp, remotePort);
    }
}

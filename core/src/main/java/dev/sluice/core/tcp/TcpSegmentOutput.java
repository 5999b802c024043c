package dev.sluice.core.tcp;

import dev.sluice.core.wire.TcpOptions;

/**
 * Where the TCP layer sends segments. The implementation builds the header (and the MSS option when asked)
 * and hands it to the network layer; tests record the calls. Implementations must not allocate.
 */
public interface TcpSegmentOutput
{
    /** Value of {@code mssOptionBytes} meaning "no MSS option" (MUST-65: MSS only on SYNs). */
    int NO_MSS_OPTION = 0;
    /** Value of {@code windowScaleShift} meaning "no Window Scale option" (RFC 7323 §2.2). */
    int NO_WINDOW_SCALE = -1;

    /**
     * Sends a segment without payload.
     *
     * @param localIp        our IPv4 address (source).
     * @param localPort      our port.
     * @param remoteIp       the peer's IPv4 address (destination).
     * @param remotePort     the peer's port.
     * @param seq            SEG.SEQ.
     * @param ack            SEG.ACK (meaningful only with the ACK flag).
     * @param flags          {@link dev.sluice.core.wire.TcpHeader} flag bits.
     * @param window         SEG.WND, 0..65535.
     * @param mssOptionBytes MSS option value, or {@link #NO_MSS_OPTION}.
     */
    void sendControl(
        int localIp, int localPort, int remoteIp, int remotePort, int seq, int ack, int flags, int window,
        int mssOptionBytes);

    /**
     * Sends a segment carrying payload taken from a send buffer (first transmission or retransmission).
     * The implementation copies {@code length} bytes starting at sequence number {@code seq} with
     * {@link SendBuffer#read} into the frame; the bytes stay buffered until acknowledged.
     *
     * @param localIp    our IPv4 address (source).
     * @param localPort  our port.
     * @param remoteIp   the peer's IPv4 address (destination).
     * @param remotePort the peer's port.
     * @param seq        SEG.SEQ, also the sequence number of the first payload byte.
     * @param ack        SEG.ACK.
     * @param flags      flag bits (ACK, and PSH or FIN where they apply).
     * @param window     SEG.WND, 0..65535.
     * @param source     the connection's send buffer.
     * @param length     payload bytes, &gt; 0.
     */
    void sendData(
        int localIp, int localPort, int remoteIp, int remotePort, int seq, int ack, int flags, int window,
        SendBuffer source, int length);

    /**
     * Sends a SYN or SYN-ACK without payload, with the MSS option and, unless {@link #NO_WINDOW_SCALE}, the
     * Window Scale option (RFC 7323 §2.2), in Linux's order: MSS, NOP, Window Scale.
     *
     * @param localIp          our IPv4 address (source).
     * @param localPort        our port.
     * @param remoteIp         the peer's IPv4 address (destination).
     * @param remotePort       the peer's port.
     * @param seq              SEG.SEQ (ISS).
     * @param ack              SEG.ACK (meaningful only with the ACK flag).
     * @param flags            SYN, or SYN and ACK.
     * @param window           SEG.WND, 0..65535, never scaled on a SYN.
     * @param mssOptionBytes   MSS option value.
     * @param windowScaleShift shift count 0..14, or {@link #NO_WINDOW_SCALE}.
     */
    void sendSyn(
        int localIp, int localPort, int remoteIp, int remotePort, int seq, int ack, int flags, int window,
        int mssOptionBytes, int windowScaleShift);
    /**
     * The stack-wide challenge-ACK limit (RFC 5961 §7, Linux's tcp_challenge_ack_limit), asked after a
     * connection's own limit let a challenge ACK through: false when the shard's allowance for this second is
     * spent (the caller drops the challenge ACK). The default has no stack-wide limit.
     *
     * @param nowNs the duty cycle's time.
     * @return true if the challenge ACK may be sent.
     */
    default boolean mayChallengeAck(final long nowNs)
    {
        return true;
    }

    /**
     * The holder a connection fills with the options of each segment it sends through this output, right
     * before {@link #sendSegment}. An output used by one thread may hand every connection the same holder (a
     * shard's output does: it saves a holder per connection); the default gives each caller its own.
     *
     * @return a holder.
     */
    default TcpOptions optionsHolder()
    {
        return new TcpOptions();
    }

    /**
     * Sends a segment with options beyond a SYN's MSS and Window Scale: timestamps (RFC 7323) and SACK
     * (RFC 2018), the MSS and Window Scale options too when it is a SYN; payload, if any, read from the send
     * buffer like {@link #sendData}. The implementation encodes {@code options} with {@link TcpOptions#encode}
     * (Linux's order) and may clamp its MSS to what the MTU carries; it must not keep the holder.
     *
     * <p>The default implementation drops the options other than MSS and Window Scale and calls
     * {@link #sendSyn}, {@link #sendData} or {@link #sendControl}: an output that predates them still works.
     *
     * @param localIp    our IPv4 address (source).
     * @param localPort  our port.
     * @param remoteIp   the peer's IPv4 address (destination).
     * @param remotePort the peer's port.
     * @param seq        SEG.SEQ.
     * @param ack        SEG.ACK.
     * @param flags      flag bits.
     * @param window     SEG.WND, 0..65535.
     * @param options    the options of this segment (read only during the call).
     * @param source     the connection's send buffer, used when {@code length} &gt; 0.
     * @param length     payload bytes, 0 for none.
     */
    default void sendSegment(
        int localIp, int localPort, int remoteIp, int remotePort, int seq, int ack, int flags, int window,
        TcpOptions options, SendBuffer source, int length)
    {
        if ((flags & dev.sluice.core.wire.TcpHeader.SYN) != 0)
        {
            sendSyn(localIp, localPort, remoteIp, remotePort, seq, ack, flags, window,
                options.hasMss() ? options.mss() : NO_MSS_OPTION,
                options.hasWindowScale() ? options.windowScale() : NO_WINDOW_SCALE);
        }
        else if (length > 0)
        {
            sendData(localIp, localPort, remoteIp, remotePort, seq, ack, flags, window, source, length);
        }
        else
        {
            sendControl(localIp, localPort, remoteIp, remotePort, seq, ack, flags, window, NO_MSS_OPTION);
        }
    }

    /**
     * Segmentation offload (TSO in the device, or GSO in software: Linux's idea): the most payload bytes one
     * {@link #sendLargeSegment} call takes. A connection then hands over up to this many bytes of new, full-sized
     * segments at once and does its per-segment work (windows, timers, RTT timing) once for all of them.
     *
     * @return bytes, or 0 when the output cuts no segments itself (the default: one MSS per call).
     */
    default int largeSegmentBytes()
    {
        return 0;
    }

    /**
     * Sends {@code length} payload bytes as consecutive segments of {@code segmentBytes} each (the last may be
     * shorter) that carry the same header and options, sequence numbers advancing; PSH and FIN, if set, only
     * on the last one, like the segments a connection would send one call at a time. The wire bytes equal
     * those of {@code ceil(length / segmentBytes)} {@link #sendSegment} calls.
     *
     * <p>The default implementation makes those calls (correct for every output; no faster).
     *
     * @param localIp      our IPv4 address (source).
     * @param localPort    our port.
     * @param remoteIp     the peer's IPv4 address (destination).
     * @param remotePort   the peer's port.
     * @param seq          SEG.SEQ of the first segment.
     * @param ack          SEG.ACK.
     * @param flags        flag bits (PSH and FIN apply to the last segment only).
     * @param window       SEG.WND, 0..65535.
     * @param options      the options of every segment (read only during the call).
     * @param source       the connection's send buffer.
     * @param length       payload bytes, 1..{@link #largeSegmentBytes()} (any length for the default).
     * @param segmentBytes payload bytes per segment (the effective send MSS), &gt; 0.
     */
    default void sendLargeSegment(
        int localIp, int localPort, int remoteIp, int remotePort, int seq, int ack, int flags, int window,
        TcpOptions options, SendBuffer source, int length, int segmentBytes)
    {
        final int lastOnly = dev.sluice.core.wire.TcpHeader.PSH | dev.sluice.core.wire.TcpHeader.FIN;
        for (int done = 0; done < length; done += segmentBytes)
        {
            final int n = Math.min(segmentBytes, length - done);
            final int pieceFlags = done + n == length ? flags : flags & ~lastOnly;
            sendSegment(localIp, localPort, remoteIp, remotePort, seq + done, ack, pieceFlags, window, options,
                source, n);
        }
    }
}

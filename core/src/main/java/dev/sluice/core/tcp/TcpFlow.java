package dev.sluice.core.tcp;

/**
 * The addresses of one connection (its 4-tuple) bound to the shard's {@link TcpSegmentOutput}: every segment
 * the connection sends goes through here, so no caller repeats the addresses. No allocation; single-threaded.
 */
final class TcpFlow
{
    private final TcpSegmentOutput output;
    private int localIp;
    private int localPort;
    private int remoteIp;
    private int remotePort;

    TcpFlow(final TcpSegmentOutput output)
    {
        this.output = output;
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
        output.sendControl(localIp, localPort, remoteIp, remotePort, seq, ack, flags, window,
            TcpSegmentOutput.NO_MSS_OPTION);
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
        output.sendControl(localIp, localPort, remoteIp, remotePort, seq, 0, dev.sluice.core.wire.TcpHeader.RST,
            0, TcpSegmentOutput.NO_MSS_OPTION);
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
        output.sendData(localIp, localPort, remoteIp, remotePort, seq, ack, flags, window, source, length);
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
        output.sendSyn(localIp, localPort, remoteIp, remotePort, seq, ack, flags, window, mssBytes,
            windowScaleShift);
    }
}

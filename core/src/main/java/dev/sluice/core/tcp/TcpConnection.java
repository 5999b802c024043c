package dev.sluice.core.tcp;

import static dev.sluice.core.tcp.SequenceNumbers.ge;
import static dev.sluice.core.tcp.SequenceNumbers.gt;
import static dev.sluice.core.tcp.SequenceNumbers.inWindow;
import static dev.sluice.core.tcp.SequenceNumbers.le;
import static dev.sluice.core.tcp.SequenceNumbers.lt;
import static dev.sluice.core.wire.TcpHeader.ACK;
import static dev.sluice.core.wire.TcpHeader.RST;
import static dev.sluice.core.wire.TcpHeader.SYN;

/**
 * The transmission control block of one connection and the only owner of its state transitions,
 * written in the order of RFC 9293 §3.10 with the RFC's variable names.
 *
 * <h2>What this first slice implements</h2>
 * <ul>
 *   <li>Passive OPEN ({@link #listen}), active OPEN ({@link #connect}) and SEGMENT ARRIVES in CLOSED
 *       (§3.10.7.1, {@link #replyToClosedPort}), LISTEN (§3.10.7.2), SYN-SENT (§3.10.7.3, including
 *       simultaneous open, MUST-10), SYN-RECEIVED and ESTABLISHED (§3.10.7.4 steps
 *       one to five: acceptability test of Table 6, RST with RFC 5961 §3, SYN with RFC 5961 §4, ACK with
 *       the SND.WL1/SND.WL2 window update).</li>
 *   <li>The handshakes LISTEN → SYN-RECEIVED → ESTABLISHED and SYN-SENT → ESTABLISHED (or SYN-RECEIVED),
 *       with the MSS option sent on SYN and SYN-ACK only (MUST-14, SHLD-5, MUST-65) and the peer's MSS
 *       remembered, 536 when absent (MUST-15); a RST in SYN-RECEIVED returns to LISTEN only when it was
 *       reached from a passive OPEN (MUST-11).</li>
 * </ul>
 * Not yet: segment text and FIN (steps six to eight, so payload and FIN on a
 * segment are ignored and not acknowledged), SEND/CLOSE/ABORT, timers (SYN-ACK retransmission, RTO,
 * delayed ACK, TIME-WAIT), window scaling, SACK, timestamps, challenge-ACK rate limiting. Data carried on
 * a SYN is not queued (RCV.NXT covers only the SYN), so the peer retransmits it, as Linux does without
 * TCP Fast Open.
 *
 * <p>No allocation, no clock reads: segments arrive through {@link #onSegment}, replies leave through
 * {@link TcpSegmentOutput}. Single-threaded.
 */
public final class TcpConnection
{
    /** MSS assumed when the peer's SYN carries no MSS option, IPv4 (MUST-15). */
    public static final int DEFAULT_SEND_MSS_BYTES = 536;
    /** Largest window the 16-bit field carries without window scaling. */
    public static final int MAX_UNSCALED_WINDOW = 0xFFFF;

    private final TcpConfig config;
    private final IsnGenerator isnGenerator;
    private final TcpSegmentOutput output;

    private TcpState state = TcpState.CLOSED;
    private boolean passiveOpen;
    private int localIp;
    private int localPort;
    private int remoteIp;
    private int remotePort;
    private int sendMssBytes;

    // send sequence variables (RFC 9293 §3.3.1)
    private int sndUna;
    private int sndNxt;
    private int sndWnd;
    private int sndWl1;
    private int sndWl2;
    private int iss;

    // receive sequence variables
    private int rcvNxt;
    private int rcvWnd;
    private int irs;

    /**
     * Creates a connection in CLOSED.
     *
     * @param config       validated settings.
     * @param isnGenerator the shard's ISN source (MUST-8, MUST-9).
     * @param output       where replies go.
     */
    public TcpConnection(final TcpConfig config, final IsnGenerator isnGenerator, final TcpSegmentOutput output)
    {
        this.config = config;
        this.isnGenerator = isnGenerator;
        this.output = output;
    }

    /**
     * SEGMENT ARRIVES with no TCB, state CLOSED (§3.10.7.1): all data is discarded; a RST in is dropped;
     * anything else gets a reset, {@code <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>} if the ACK bit is off,
     * {@code <SEQ=SEG.ACK><CTL=RST>} if it is on.
     *
     * @param segment the segment.
     * @param output  where the reset goes.
     * @return true if a reset was sent.
     */
    public static boolean replyToClosedPort(final TcpSegment segment, final TcpSegmentOutput output)
    {
        if (segment.has(RST))
        {
            return false;
        }
        if (segment.has(ACK))
        {
            output.sendControl(segment.destinationIp(), segment.destinationPort(), segment.sourceIp(),
                segment.sourcePort(), segment.ack(), 0, RST, 0, TcpSegmentOutput.NO_MSS_OPTION);
        }
        else
        {
            output.sendControl(segment.destinationIp(), segment.destinationPort(), segment.sourceIp(),
                segment.sourcePort(), 0, segment.seq() + segment.segLen(), RST | ACK, 0,
                TcpSegmentOutput.NO_MSS_OPTION);
        }
        return true;
    }

    /**
     * The segment acceptability test of RFC 9293 §3.10.7.4, Table 6.
     *
     * <pre>
     * SEG.LEN  RCV.WND  acceptable when
     *    0        0     SEG.SEQ = RCV.NXT
     *    0       &gt;0     RCV.NXT =&lt; SEG.SEQ &lt; RCV.NXT+RCV.WND
     *   &gt;0        0     never
     *   &gt;0       &gt;0     RCV.NXT =&lt; SEG.SEQ &lt; RCV.NXT+RCV.WND
     *                   or RCV.NXT =&lt; SEG.SEQ+SEG.LEN-1 &lt; RCV.NXT+RCV.WND
     * </pre>
     *
     * @param segSeq SEG.SEQ.
     * @param segLen SEG.LEN.
     * @param rcvNxt RCV.NXT.
     * @param rcvWnd RCV.WND, &gt;= 0.
     * @return true if acceptable.
     */
    public static boolean isAcceptable(final int segSeq, final int segLen, final int rcvNxt, final int rcvWnd)
    {
        if (segLen == 0)
        {
            return rcvWnd == 0 ? segSeq == rcvNxt : inWindow(segSeq, rcvNxt, rcvWnd);
        }
        if (rcvWnd == 0)
        {
            return false;
        }
        return inWindow(segSeq, rcvNxt, rcvWnd) || inWindow(segSeq + segLen - 1, rcvNxt, rcvWnd);
    }

    /**
     * Passive OPEN (§3.10.1): CLOSED → LISTEN on a local address and port.
     *
     * @param localIp   our IPv4 address.
     * @param localPort our port.
     * @throws IllegalStateException unless CLOSED.
     */
    public void listen(final int localIp, final int localPort)
    {
        if (state != TcpState.CLOSED)
        {
            throw new IllegalStateException("listen needs CLOSED, state is " + state.rfcName());
        }
        this.localIp = localIp;
        this.localPort = localPort;
        this.passiveOpen = true;
        state = TcpState.LISTEN;
    }

    /**
     * Active OPEN (§3.10.1): selects the ISS, sends {@code <SEQ=ISS><CTL=SYN>} with our MSS (MUST-14,
     * SHLD-5) and enters SYN-SENT. The caller has chosen a free local port.
     *
     * @param localIp    our IPv4 address.
     * @param localPort  our port.
     * @param remoteIp   the peer's IPv4 address.
     * @param remotePort the peer's port.
     * @param nowNs      the duty cycle's time (drives the ISN clock, MUST-8).
     * @throws IllegalStateException unless CLOSED.
     */
    public void connect(
        final int localIp, final int localPort, final int remoteIp, final int remotePort, final long nowNs)
    {
        if (state != TcpState.CLOSED)
        {
            throw new IllegalStateException("connect needs CLOSED, state is " + state.rfcName());
        }
        this.localIp = localIp;
        this.localPort = localPort;
        this.remoteIp = remoteIp;
        this.remotePort = remotePort;
        this.passiveOpen = false;
        rcvWnd = Math.min(config.receiveBufferBytes(), MAX_UNSCALED_WINDOW);
        iss = isnGenerator.nextIsn(localIp, localPort, remoteIp, remotePort, nowNs);
        output.sendControl(localIp, localPort, remoteIp, remotePort, iss, 0, SYN, rcvWnd, config.mssBytes());
        sndUna = iss;
        sndNxt = iss + 1;
        state = TcpState.SYN_SENT;
    }

    /**
     * SEGMENT ARRIVES (§3.10.7): one exhaustive switch over the state.
     *
     * @param segment the received segment, addressed to this connection.
     * @param nowNs   the duty cycle's time.
     */
    public void onSegment(final TcpSegment segment, final long nowNs)
    {
        if (segment.optionsResult() < 0)
        {
            return; // MUST-7: an illegal option length is handled by dropping the segment
        }
        switch (state)
        {
            case CLOSED -> replyToClosedPort(segment, output);
            case LISTEN -> onSegmentInListen(segment, nowNs);
            case SYN_SENT -> onSegmentInSynSent(segment);
            case SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT ->
                onSegmentOtherwise(segment);
        }
    }

    // §3.10.7.2
    private void onSegmentInListen(final TcpSegment segment, final long nowNs)
    {
        // first: an incoming RST is ignored
        if (segment.has(RST))
        {
            return;
        }
        // second: any ACK is bad in LISTEN: <SEQ=SEG.ACK><CTL=RST>
        if (segment.has(ACK))
        {
            output.sendControl(localIp, localPort, segment.sourceIp(), segment.sourcePort(), segment.ack(), 0, RST,
                0, TcpSegmentOutput.NO_MSS_OPTION);
            return;
        }
        // third: SYN (the security check is not implemented: no compartments)
        if (segment.has(SYN))
        {
            remoteIp = segment.sourceIp();
            remotePort = segment.sourcePort();
            rcvNxt = segment.seq() + 1;
            irs = segment.seq();
            rcvWnd = Math.min(config.receiveBufferBytes(), MAX_UNSCALED_WINDOW);
            sendMssBytes = segment.options().hasMss() ? segment.options().mss() : DEFAULT_SEND_MSS_BYTES;
            iss = isnGenerator.nextIsn(localIp, localPort, remoteIp, remotePort, nowNs);
            output.sendControl(localIp, localPort, remoteIp, remotePort, iss, rcvNxt, SYN | ACK, rcvWnd,
                config.mssBytes());
            sndNxt = iss + 1;
            sndUna = iss;
            state = TcpState.SYN_RECEIVED;
        }
        // fourth: other text or control, drop
    }

    // §3.10.7.3
    private void onSegmentInSynSent(final TcpSegment segment)
    {
        // first: check the ACK bit
        final boolean hasAck = segment.has(ACK);
        if (hasAck && (le(segment.ack(), iss) || gt(segment.ack(), sndNxt)))
        {
            if (!segment.has(RST))
            {
                output.sendControl(localIp, localPort, remoteIp, remotePort, segment.ack(), 0, RST, 0,
                    TcpSegmentOutput.NO_MSS_OPTION);
            }
            return;
        }

        // second: check the RST bit; only a RST whose ACK is acceptable resets ("connection refused")
        if (segment.has(RST))
        {
            if (hasAck)
            {
                enterClosed();
            }
            return;
        }

        // third: security, not implemented

        // fourth: check the SYN bit
        if (segment.has(SYN))
        {
            rcvNxt = segment.seq() + 1;
            irs = segment.seq();
            sendMssBytes = segment.options().hasMss() ? segment.options().mss() : DEFAULT_SEND_MSS_BYTES;
            // the SYN's window is taken here because processing continues at the sixth step, after the
            // fifth step's window update
            sndWnd = segment.window();
            sndWl1 = segment.seq();
            sndWl2 = segment.ack();
            if (hasAck)
            {
                sndUna = segment.ack();
            }
            if (gt(sndUna, iss))
            {
                state = TcpState.ESTABLISHED;
                sendAck();
            }
            else
            {
                // simultaneous open (MUST-10): <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>
                state = TcpState.SYN_RECEIVED;
                output.sendControl(localIp, localPort, remoteIp, remotePort, iss, rcvNxt, SYN | ACK, rcvWnd,
                    config.mssBytes());
            }
            // text and other controls on the SYN (sixth step onwards): not implemented yet
        }
        // fifth: neither SYN nor RST, drop
    }

    // §3.10.7.4, SYN-RECEIVED and the synchronized states
    private void onSegmentOtherwise(final TcpSegment segment)
    {
        // first: check the sequence number (Table 6)
        if (!isAcceptable(segment.seq(), segment.segLen(), rcvNxt, rcvWnd))
        {
            if (!segment.has(RST))
            {
                sendAck();
            }
            return;
        }

        // second: check the RST bit (RFC 5961 §3: only an exact match resets)
        if (segment.has(RST))
        {
            if (segment.seq() != rcvNxt)
            {
                sendAck(); // challenge ACK
                return;
            }
            if (state == TcpState.SYN_RECEIVED && passiveOpen)
            {
                returnToListen();
            }
            else
            {
                // SYN-RECEIVED from active OPEN: "connection refused"; synchronized states: "connection reset"
                enterClosed();
            }
            return;
        }

        // third: security, not implemented

        // fourth: check the SYN bit (RFC 5961 §4)
        if (segment.has(SYN))
        {
            if (state == TcpState.SYN_RECEIVED && passiveOpen)
            {
                returnToListen();
                return;
            }
            sendAck(); // challenge ACK
            return;
        }

        // fifth: check the ACK field
        if (!segment.has(ACK))
        {
            return;
        }
        if (state == TcpState.SYN_RECEIVED)
        {
            if (lt(sndUna, segment.ack()) && le(segment.ack(), sndNxt))
            {
                state = TcpState.ESTABLISHED;
                sndWnd = segment.window();
                sndWl1 = segment.seq();
                sndWl2 = segment.ack();
            }
            else
            {
                output.sendControl(localIp, localPort, remoteIp, remotePort, segment.ack(), 0, RST, 0,
                    TcpSegmentOutput.NO_MSS_OPTION);
                return;
            }
        }
        if (state == TcpState.ESTABLISHED)
        {
            onAckInEstablished(segment);
        }
        // sixth to eighth (URG, segment text, FIN): not implemented yet
    }

    private void onAckInEstablished(final TcpSegment segment)
    {
        final int segAck = segment.ack();
        if (gt(segAck, sndNxt))
        {
            sendAck(); // acknowledges something not yet sent
            return;
        }
        if (lt(sndUna, segAck))
        {
            sndUna = segAck;
        }
        // window update, only from a segment at least as new as the last one used (SND.WL1, SND.WL2)
        if (ge(segAck, sndUna) && (lt(sndWl1, segment.seq()) || (sndWl1 == segment.seq() && le(sndWl2, segAck))))
        {
            sndWnd = segment.window();
            sndWl1 = segment.seq();
            sndWl2 = segAck;
        }
    }

    private void sendAck()
    {
        output.sendControl(localIp, localPort, remoteIp, remotePort, sndNxt, rcvNxt, ACK, rcvWnd,
            TcpSegmentOutput.NO_MSS_OPTION);
    }

    private void returnToListen()
    {
        remoteIp = 0;
        remotePort = 0;
        sndUna = 0;
        sndNxt = 0;
        sndWnd = 0;
        sndWl1 = 0;
        sndWl2 = 0;
        iss = 0;
        rcvNxt = 0;
        rcvWnd = 0;
        irs = 0;
        state = TcpState.LISTEN;
    }

    private void enterClosed()
    {
        returnToListen();
        state = TcpState.CLOSED;
        passiveOpen = false;
    }

    /**
     * Current state.
     *
     * @return the state.
     */
    public TcpState state()
    {
        return state;
    }

    /**
     * Whether the connection came from a passive OPEN (MUST-11).
     *
     * @return true for a passive OPEN.
     */
    public boolean isPassiveOpen()
    {
        return passiveOpen;
    }

    /**
     * SND.UNA: oldest unacknowledged sequence number.
     *
     * @return raw sequence number.
     */
    public int sndUna()
    {
        return sndUna;
    }

    /**
     * SND.NXT: next sequence number to send.
     *
     * @return raw sequence number.
     */
    public int sndNxt()
    {
        return sndNxt;
    }

    /**
     * SND.WND: the peer's window.
     *
     * @return bytes.
     */
    public int sndWnd()
    {
        return sndWnd;
    }

    /**
     * SND.WL1: SEG.SEQ of the segment last used to update SND.WND.
     *
     * @return raw sequence number.
     */
    public int sndWl1()
    {
        return sndWl1;
    }

    /**
     * SND.WL2: SEG.ACK of the segment last used to update SND.WND.
     *
     * @return raw sequence number.
     */
    public int sndWl2()
    {
        return sndWl2;
    }

    /**
     * ISS: our initial sequence number.
     *
     * @return raw sequence number.
     */
    public int iss()
    {
        return iss;
    }

    /**
     * RCV.NXT: next sequence number expected.
     *
     * @return raw sequence number.
     */
    public int rcvNxt()
    {
        return rcvNxt;
    }

    /**
     * RCV.WND: our receive window.
     *
     * @return bytes.
     */
    public int rcvWnd()
    {
        return rcvWnd;
    }

    /**
     * IRS: the peer's initial sequence number.
     *
     * @return raw sequence number.
     */
    public int irs()
    {
        return irs;
    }

    /**
     * The peer's MSS from its SYN, 536 if it sent none (MUST-15); the effective send MSS (MUST-16) also
     * depends on the MTU and options and is computed where segments are built.
     *
     * @return bytes.
     */
    public int sendMssBytes()
    {
        return sendMssBytes;
    }

    /**
     * Our address.
     *
     * @return IPv4 address.
     */
    public int localIp()
    {
        return localIp;
    }

    /**
     * Our port.
     *
     * @return 0..65535.
     */
    public int localPort()
    {
        return localPort;
    }

    /**
     * The peer's address, 0 in LISTEN.
     *
     * @return IPv4 address.
     */
    public int remoteIp()
    {
        return remoteIp;
    }

    /**
     * The peer's port, 0 in LISTEN.
     *
     * @return 0..65535.
     */
    public int remotePort()
    {
        return remotePort;
    }
}

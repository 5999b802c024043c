package dev.sluice.core.tcp;

import static dev.sluice.core.tcp.SequenceNumbers.ge;
import static dev.sluice.core.tcp.SequenceNumbers.gt;
import static dev.sluice.core.tcp.SequenceNumbers.inWindow;
import static dev.sluice.core.tcp.SequenceNumbers.le;
import static dev.sluice.core.tcp.SequenceNumbers.lt;
import static dev.sluice.core.wire.TcpHeader.ACK;
import static dev.sluice.core.wire.TcpHeader.FIN;
import static dev.sluice.core.wire.TcpHeader.PSH;
import static dev.sluice.core.wire.TcpHeader.RST;
import static dev.sluice.core.wire.TcpHeader.SYN;
import static dev.sluice.core.wire.TcpHeader.URG;

import org.agrona.DirectBuffer;

/**
 * The transmission control block of one connection and the only owner of its state transitions,
 * written in the order of RFC 9293 §3.10 with the RFC's variable names.
 *
 * <h2>What this slice implements</h2>
 * <ul>
 *   <li>OPEN: passive ({@link #listen}) and active ({@link #connect}); SEGMENT ARRIVES in CLOSED
 *       (§3.10.7.1, {@link #replyToClosedPort}), LISTEN (§3.10.7.2), SYN-SENT (§3.10.7.3, including
 *       simultaneous open, MUST-10) and every other state (§3.10.7.4 steps one to eight: acceptability,
 *       RST and SYN with RFC 5961, ACK with the closing-state transitions, URG, segment text, FIN).</li>
 *   <li>Receive: in-order payload goes to the {@link TcpReceiveHandler} straight from the received frame
 *       (zero copy); out-of-order payload is copied into a {@link ReassemblyBuffer} (SHLD-31) and delivered
 *       when the hole fills; every byte is delivered once (the receive side lives in {@link TcpReceiver}).
 *       Bytes the handler has not consumed shrink RCV.WND ({@link #consumed}); with a zero window, ACK and
 *       URG are still processed (MUST-66).</li>
 *   <li>ACK aggregation (MUST-58, MUST-59): data and FIN processing only mark an ACK as due; {@link #poll}
 *       sends it once per burst, piggybacked on data when there is some.</li>
 *   <li>SEND ({@link #send}, {@link #poll}: MSS- and window-limited segments, Nagle unless
 *       {@link #noDelay(boolean)}, MUST-17, SHLD-7), CLOSE ({@link #close}), ABORT ({@link #abort}), the
 *       close reason (MUST-12) and TIME-WAIT expiry after 2 MSL (MUST-13) through {@link #nextDeadlineNs}
 *       and {@link #onTimer}.</li>
 *   <li>Timers ({@code TcpTimers}, one deadline for the stack's wheel: {@link #nextDeadlineNs}): retransmission
 *       (§3.10.8, RFC 6298 with Karn and backoff, MUST-18, MUST-19) of SYN and SYN-ACK (MUST-22, R2 for SYN
 *       at least 3 minutes, MUST-23; a passive connection that gives up ends CLOSED) and of data, go-back-N
 *       after an RTO; R1 advice to the handler (SHLD-9) and R2 = a per-connection user timeout (MUST-20,
 *       MUST-21); delayed ACK (MUST-40, SHLD-18, SHLD-19); persist with Linux-style zero-window probes
 *       (MUST-35..37, SHLD-29, SHLD-30); keep-alive, off by default (MUST-24..29).</li>
 *   <li>Congestion control ({@link CongestionControl}): RFC 5681 with RFC 6928's initial window, fast
 *       retransmit and NewReno fast recovery (RFC 6582); sending is limited by min(cwnd, SND.WND) and by
 *       sender SWS avoidance with Nagle (MUST-38, MUST-17, SHLD-7).</li>
 *   <li>RFC 5961: exact-RST, SYN and ACK-acceptability (SND.UNA - MAX.SND.WND .. SND.NXT) checks answer with
 *       challenge ACKs, at most one per {@link TcpConfig#challengeAckIntervalNs()} (like Linux).</li>
 * </ul>
 * Window scaling (RFC 7323 §2, {@link WindowScaling}): offered on our SYN and SYN-ACK, in effect only when both
 * SYNs carry it. Text and FIN on a SYN-ACK are processed from the sixth step (§3.10.7.3); text on a SYN in
 * LISTEN is held and delivered once ESTABLISHED (§3.10.7.2). Not yet: SACK, timestamps, ECN; text on a
 * simultaneously opening SYN and a FIN on a SYN in LISTEN are left to the peer's retransmission; a FIN beyond a
 * gap is held until the gap fills. Replies to unacceptable segments and challenge ACKs are sent at once rather than
 * aggregated by {@link #poll}.
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
    /** {@link #nextDeadlineNs()} when no timer is running. */
    public static final long NO_DEADLINE = Long.MAX_VALUE;
    /** {@link #send} result when the connection does not accept data (not open, or already closing). */
    public static final int SEND_NOT_OPEN = -1;

    private final TcpConfig config;
    private final IsnGenerator isnGenerator;
    private final TcpSegmentOutput output;
    private final SendBuffer sendBuffer;
    private final TcpReceiver receiver;
    private final TcpReceiveHandler handler;
    private final RttEstimator rtt;
    private final CongestionControl congestion;
    private final TcpTimers timers;
    private final WindowScaling windowScaling;

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

    private int maxSndWnd; // MAX.SND.WND (RFC 5961 §5), also Max(SND.WND) of sender SWS avoidance (MUST-38)
    private int rcvMss; // largest segment received, Linux's rcv_mss: "full-sized" for delayed ACKs (SHLD-19)
    private int unackedBytes; // received in order since our last ACK
    private boolean goBackN; // after an RTO: SND.UNA..rexmtEnd is sent again as cwnd allows
    private int rexmtNxt;
    private int rexmtEnd;
    private boolean synRetransmitted;
    private long lastSendNs;
    private long lastChallengeAckNs;
    private boolean challengeAckSent;
    private long challengeAcksSuppressed;
    private long userTimeoutNs;
    private boolean keepAlive;
    private boolean noDelay;
    private boolean writeBlocked;
    private boolean finHeld;
    private int heldFinSeq;
    private boolean ackPending;
    private boolean finQueued;
    private boolean finSent;
    private TcpCloseReason closeReason;

    /**
     * Creates a connection in CLOSED.
     *
     * @param config       validated settings.
     * @param isnGenerator the shard's ISN source (MUST-8, MUST-9).
     * @param output       where replies go.
     */
    public TcpConnection(final TcpConfig config, final IsnGenerator isnGenerator, final TcpSegmentOutput output)
    {
        this(config, isnGenerator, output, TcpReceiveHandler.DISCARD);
    }

    /**
     * Creates a connection in CLOSED with a private pool for its send and reassembly buffers.
     *
     * @param config       validated settings.
     * @param isnGenerator the shard's ISN source (MUST-8, MUST-9).
     * @param output       where segments go.
     * @param handler      where received data and connection events go.
     */
    public TcpConnection(
        final TcpConfig config, final IsnGenerator isnGenerator, final TcpSegmentOutput output,
        final TcpReceiveHandler handler)
    {
        this(config, isnGenerator, output, handler,
            ChunkPool.forOneConnection(config.sendBufferBytes(), config.receiveBufferBytes()));
    }

    /**
     * Creates a connection in CLOSED whose send and reassembly buffers take storage from a shard's pool while
     * they hold bytes (the configured sizes are limits).
     *
     * @param config       validated settings.
     * @param isnGenerator the shard's ISN source (MUST-8, MUST-9).
     * @param output       where segments go.
     * @param handler      where received data and connection events go.
     * @param pool         the shard's payload memory.
     */
    public TcpConnection(
        final TcpConfig config, final IsnGenerator isnGenerator, final TcpSegmentOutput output,
        final TcpReceiveHandler handler, final ChunkPool pool)
    {
        this.config = config;
        this.isnGenerator = isnGenerator;
        this.output = output;
        this.handler = handler;
        this.sendBuffer = new SendBuffer(config.sendBufferBytes(), pool);
        this.receiver = new TcpReceiver(config, handler, pool);
        this.noDelay = config.noDelay();
        this.rtt = new RttEstimator(config);
        this.congestion = new CongestionControl(config.initialWindowSegments());
        this.timers = new TcpTimers(config);
        this.windowScaling = new WindowScaling(config);
        this.userTimeoutNs = config.r2Ns();
        this.keepAlive = config.keepAliveEnabled();
        this.rcvMss = Math.min(config.mssBytes(), DEFAULT_SEND_MSS_BYTES);
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
        output.sendSyn(localIp, localPort, remoteIp, remotePort, iss, 0, SYN, rcvWnd, config.mssBytes(),
            windowScaling.offeredShift()); // RFC 7323 §2.2: MSS, NOP, WS
        sndUna = iss;
        sndNxt = iss + 1;
        sendBuffer.reset(iss + 1);
        state = TcpState.SYN_SENT;
        timers.onSegmentReceived(nowNs);
        timers.retransmissionNs = nowNs + rtt.rtoNs(); // SYN retransmission (MUST-22), initial RTO 1 s
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
            case SYN_SENT -> onSegmentInSynSent(segment, nowNs);
            case SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT ->
                onSegmentOtherwise(segment, nowNs);
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
            sendMssBytes = segment.options().hasMss() ? segment.options().mss() : DEFAULT_SEND_MSS_BYTES;
            onPeerSyn(segment);
            if (segment.payloadLength() > 0)
            {
                receiver.hold(segment, rcvNxt, rcvWnd); // "queued for processing after ... established"
            }
            iss = isnGenerator.nextIsn(localIp, localPort, remoteIp, remotePort, nowNs);
            sendSynAck();
            sndNxt = iss + 1;
            sndUna = iss;
            sendBuffer.reset(iss + 1);
            state = TcpState.SYN_RECEIVED;
            timers.onSegmentReceived(nowNs);
            timers.retransmissionNs = nowNs + rtt.rtoNs(); // SYN-ACK retransmission (MUST-22)
        }
        // fourth: other text or control, drop
    }

    // §3.10.7.3
    private void onSegmentInSynSent(final TcpSegment segment, final long nowNs)
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
                enterClosed(TcpCloseReason.RESET_BY_PEER); // "connection refused"
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
            onPeerSyn(segment);
            // the SYN's window (never scaled, RFC 7323 §2.2) is taken here because processing continues at the sixth step, after the
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
                onSynchronized(nowNs);
                if (segment.payloadLength() == 0 && !segment.has(FIN))
                {
                    sendAck();
                    handler.onEstablished();
                    return;
                }
                handler.onEstablished();
                // text and FIN on the SYN-ACK: "continue processing at the sixth step" (§3.10.7.3); the handler
                // may already have called CLOSE (FIN-WAIT-1 still receives text) or ABORT (CLOSED: nothing)
                if (receivesText())
                {
                    processText(segment, segment.seq() + 1, nowNs);
                }
                if (state.isSynchronized())
                {
                    sendAck();
                }
            }
            else
            {
                // simultaneous open (MUST-10): <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>
                state = TcpState.SYN_RECEIVED;
                output.sendSyn(localIp, localPort, remoteIp, remotePort, iss, rcvNxt, SYN | ACK,
                    Math.min(rcvWnd, MAX_UNSCALED_WINDOW), config.mssBytes(), windowScaling.synAckShift());
            }
            // text on a simultaneous-open SYN is not queued: the peer retransmits it
        }
        // fifth: neither SYN nor RST, drop
    }

    // the handshake completed: congestion control starts, the SYN timers end (RFC 6298 (5.7))
    private void onSynchronized(final long nowNs)
    {
        maxSndWnd = sndWnd;
        congestion.reset(effectiveSendMssBytes(), iss);
        if (synRetransmitted)
        {
            rtt.onSynRetransmittedBeforeData();
        }
        timers.onAckReceived(true);
        timers.onSegmentReceived(nowNs);
        if (sndUna == sndNxt)
        {
            timers.retransmissionNs = NO_DEADLINE;
        }
    }

    // §3.10.7.4, SYN-RECEIVED and the synchronized states
    private void onSegmentOtherwise(final TcpSegment segment, final long nowNs)
    {
        timers.onSegmentReceived(nowNs); // the peer is alive (keep-alive, MUST-26)
        // first: check the sequence number (Table 6)
        if (!isAcceptable(segment.seq(), segment.segLen(), rcvNxt, rcvWnd))
        {
            if (!segment.has(RST))
            {
                if (state == TcpState.SYN_RECEIVED && segment.has(SYN) && segment.seq() == irs)
                {
                    // the peer retransmitted its SYN, so our SYN-ACK was lost: answer with the SYN-ACK (Linux),
                    // not with the bare ACK of the first step, which a peer in SYN-SENT would drop
                    sendSynAck();
                    return;
                }
                if (state == TcpState.TIME_WAIT && segment.has(FIN) && segment.seq() + segment.segLen() == rcvNxt)
                {
                    // eighth step, TIME-WAIT: a retransmitted FIN restarts the 2 MSL timeout (MUST-13)
                    timers.timeWaitNs = nowNs + config.timeWaitNs();
                }
                else if (rcvWnd == 0 && segment.seq() == rcvNxt && segment.has(ACK) && !segment.has(SYN) &&
                    state.isSynchronized())
                {
                    // zero window: the text is dropped, but valid ACKs and URGs are still processed (MUST-66)
                    if (!onAck(segment, nowNs) || !afterAck(nowNs))
                    {
                        return;
                    }
                    if (segment.has(URG) && receivesText())
                    {
                        receiver.onUrgentPointer(segment.seq() + segment.urgentPointer(), rcvNxt);
                    }
                }
                sendAck();
            }
            return;
        }

        // second: check the RST bit (RFC 5961 §3: only an exact match resets)
        if (segment.has(RST))
        {
            if (segment.seq() != rcvNxt)
            {
                challengeAck(nowNs); // RFC 5961 §3.2
                return;
            }
            if (state == TcpState.SYN_RECEIVED && passiveOpen)
            {
                returnToListen();
            }
            else if (state == TcpState.TIME_WAIT)
            {
                // both FINs were exchanged and acknowledged, every byte delivered: the connection completed.
                // A reset now is the peer's stack answering a late segment after its LAST-ACK ended (RFC 1337),
                // so CLOSED as §3.10.7.4 says, but reported NORMAL (MUST-12 tells the application what happened
                // to its data)
                enterClosed(TcpCloseReason.NORMAL);
            }
            else
            {
                // SYN-RECEIVED from active OPEN: "connection refused"; synchronized states: "connection reset"
                enterClosed(TcpCloseReason.RESET_BY_PEER);
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
            challengeAck(nowNs); // RFC 5961 §4.2
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
                // a CLOSE issued in SYN-RECEIVED was queued until now (§3.10.4)
                state = finQueued ? TcpState.FIN_WAIT_1 : TcpState.ESTABLISHED;
                sndWnd = segmentWindow(segment);
                sndWl1 = segment.seq();
                sndWl2 = segment.ack();
                onSynchronized(nowNs);
                handler.onEstablished();
                if (!deliverHeldSynText())
                {
                    return;
                }
            }
            else
            {
                output.sendControl(localIp, localPort, remoteIp, remotePort, segment.ack(), 0, RST, 0,
                    TcpSegmentOutput.NO_MSS_OPTION);
                return;
            }
        }
        if (!onAck(segment, nowNs))
        {
            return;
        }
        if (!afterAck(nowNs))
        {
            return;
        }

        processText(segment, segment.seq(), nowNs);
    }

    // sixth to eighth steps; textSeq is the sequence number of the first payload byte (SEG.SEQ + 1 on a SYN)
    private void processText(final TcpSegment segment, final int textSeq, final long nowNs)
    {
        // sixth: check the URG bit (MUST-30, MUST-31); urgent bytes stay inline in the stream
        final boolean receivesText = receivesText();
        if (receivesText && segment.has(URG))
        {
            receiver.onUrgentPointer(segment.seq() + segment.urgentPointer(), rcvNxt);
        }

        // seventh: process the segment text (ignored once the peer's FIN was received)
        if (receivesText && segment.payloadLength() > 0)
        {
            final boolean inOrder = textSeq == rcvNxt && receiver.isInOrder();
            final int newRcvNxt = receiver.onText(segment, textSeq, rcvNxt, rcvWnd);
            if (state == TcpState.CLOSED)
            {
                return; // the handler aborted
            }
            onTextAccepted(inOrder, newRcvNxt - rcvNxt, segment.payloadLength(), nowNs);
            rcvNxt = newRcvNxt;
            rcvWnd = receiver.window();
        }

        // eighth: check the FIN bit; only a FIN that follows all data is processed. A FIN beyond a gap is held
        // with its out-of-order data (SHLD-31) and processed once RCV.NXT reaches it (Linux keeps it likewise)
        if (segment.has(FIN))
        {
            final int finSeq = textSeq + segment.payloadLength();
            if (finSeq == rcvNxt)
            {
                finHeld = false;
                onFin(nowNs);
                return;
            }
            if (receivesText && gt(finSeq, rcvNxt))
            {
                finHeld = true;
                heldFinSeq = finSeq;
            }
        }
        if (finHeld && heldFinSeq == rcvNxt)
        {
            finHeld = false;
            onFin(nowNs);
        }
    }

    // fifth step, the state-specific part for the closing states; false once the connection is closed
    private boolean afterAck(final long nowNs)
    {
        switch (state)
        {
            case FIN_WAIT_1 ->
            {
                if (isFinAcked())
                {
                    state = TcpState.FIN_WAIT_2;
                }
            }
            case CLOSING ->
            {
                if (isFinAcked())
                {
                    enterTimeWait(nowNs);
                }
            }
            case LAST_ACK ->
            {
                if (isFinAcked())
                {
                    enterClosed(TcpCloseReason.NORMAL);
                    return false;
                }
            }
            default ->
            {
                // ESTABLISHED, FIN-WAIT-2, CLOSE-WAIT: nothing more; TIME-WAIT: see the eighth step
            }
        }
        return true;
    }

    // text held from the SYN (LISTEN) is delivered once ESTABLISHED; false if the handler closed the connection
    private boolean deliverHeldSynText()
    {
        if (state == TcpState.CLOSED)
        {
            return false;
        }
        final int newRcvNxt = receiver.drainHeld(rcvNxt);
        if (newRcvNxt != rcvNxt)
        {
            final int delivered = newRcvNxt - rcvNxt;
            rcvNxt = newRcvNxt;
            rcvWnd = receiver.window();
            unackedBytes += delivered;
            ackPending = true;
        }
        return state != TcpState.CLOSED;
    }

    private boolean receivesText()
    {
        return state == TcpState.ESTABLISHED || state == TcpState.FIN_WAIT_1 || state == TcpState.FIN_WAIT_2;
    }

    // fifth step, the ACK processing common to ESTABLISHED and the closing states; false drops the segment
    private boolean onAck(final TcpSegment segment, final long nowNs)
    {
        final int segAck = segment.ack();
        // RFC 5961 §5.2: acceptable only within SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT, else drop and
        // (rate-limited) ACK; beyond SND.NXT it acknowledges something not yet sent (§3.10.7.4)
        if (gt(segAck, sndNxt) || lt(segAck, sndUna - maxSndWnd))
        {
            challengeAck(nowNs);
            return false;
        }
        timers.onAckReceived(lt(sndUna, segAck)); // zero-window probes are answered (MUST-37)
        final int flightBefore = sndNxt - sndUna;
        if (lt(sndUna, segAck))
        {
            final int acked = segAck - sndUna - (sndUna == iss ? 1 : 0); // the SYN is no data
            sndUna = segAck;
            sendBuffer.release(segAck); // an ACK of our FIN releases everything
            rtt.onAck(segAck, nowNs); // samples only a segment sent once (Karn, MUST-18)
            if (goBackN && lt(rexmtNxt, sndUna))
            {
                rexmtNxt = sndUna;
            }
            if (congestion.onNewAck(acked, segAck, sndNxt - sndUna) && sndUna != sndNxt)
            {
                retransmitAt(sndUna); // NewReno partial ACK (RFC 6582 §3.2 step 5)
            }
            // RFC 6298 (5.2), (5.3): stop the timer when all is acknowledged, else restart it
            timers.retransmissionNs = sndUna == sndNxt ? NO_DEADLINE : nowNs + rtt.rtoNs();
        }
        else if (segAck == sndUna && flightBefore > 0 && segment.payloadLength() == 0 &&
            !segment.has(FIN) && segmentWindow(segment) == sndWnd && state != TcpState.SYN_RECEIVED)
        {
            // a duplicate ACK (RFC 5681 §2): the third starts fast retransmit and NewReno fast recovery
            if (!goBackN && congestion.onDuplicateAck(sndUna, sndNxt, flightBefore))
            {
                retransmitAt(sndUna);
            }
        }
        // window update, only from a segment at least as new as the last one used (SND.WL1, SND.WL2)
        if (ge(segAck, sndUna) && (lt(sndWl1, segment.seq()) || (sndWl1 == segment.seq() && le(sndWl2, segAck))))
        {
            sndWnd = segmentWindow(segment);
            sndWl1 = segment.seq();
            sndWl2 = segAck;
            maxSndWnd = Math.max(maxSndWnd, sndWnd);
            if (sndWnd > 0)
            {
                timers.onWindowOpened(); // poll sends
            }
        }
        return true;
    }

    private boolean isFinAcked()
    {
        return finSent && sndUna == sndNxt;
    }

    // eighth step (§3.10.7.4): FIN
    private void onFin(final long nowNs)
    {
        ackPending = true;
        switch (state)
        {
            case SYN_RECEIVED, ESTABLISHED -> state = TcpState.CLOSE_WAIT;
            case FIN_WAIT_1 ->
            {
                if (isFinAcked())
                {
                    enterTimeWait(nowNs);
                }
                else
                {
                    state = TcpState.CLOSING;
                }
            }
            case FIN_WAIT_2 -> enterTimeWait(nowNs);
            case TIME_WAIT ->
            {
                timers.timeWaitNs = nowNs + config.timeWaitNs(); // restart the 2 MSL timeout
                return;
            }
            default ->
            {
                return; // CLOSE-WAIT, CLOSING, LAST-ACK: the peer's FIN was already counted; remain
            }
        }
        rcvNxt += 1; // advance RCV.NXT over the FIN
        handler.onPeerClosed();
    }

    private void enterTimeWait(final long nowNs)
    {
        state = TcpState.TIME_WAIT;
        timers.retransmissionNs = NO_DEADLINE; // everything we sent is acknowledged
        timers.persistNs = NO_DEADLINE;
        timers.timeWaitNs = nowNs + config.timeWaitNs(); // MUST-13
    }

    // seventh step: when to acknowledge accepted text (MUST-40, SHLD-18, SHLD-19, RFC 5681 §4.2)
    private void onTextAccepted(final boolean inOrder, final int newBytes, final int payloadLength, final long nowNs)
    {
        rcvMss = Math.max(rcvMss, Math.min(payloadLength, config.mssBytes()));
        unackedBytes += newBytes;
        if (!inOrder || newBytes < payloadLength || config.delayedAckNs() == 0 || unackedBytes >= 2 * rcvMss)
        {
            // out-of-order, duplicate, filling a hole, or the second full-sized segment: at the next poll
            ackPending = true;
        }
        else if (timers.delayedAckNs == NO_DEADLINE)
        {
            timers.delayedAckNs = nowNs + config.delayedAckNs();
        }
    }

    // RFC 5961 §7: challenge ACKs of one connection at most one per challengeAckIntervalNs (like Linux)
    private void challengeAck(final long nowNs)
    {
        if (challengeAckSent && nowNs - lastChallengeAckNs < config.challengeAckIntervalNs())
        {
            challengeAcksSuppressed++;
            return;
        }
        challengeAckSent = true;
        lastChallengeAckNs = nowNs;
        sendAck();
    }

    private void sendSynAck()
    {
        output.sendSyn(localIp, localPort, remoteIp, remotePort, iss, rcvNxt, SYN | ACK,
            Math.min(rcvWnd, MAX_UNSCALED_WINDOW), config.mssBytes(), windowScaling.synAckShift());
    }

    // the peer's SYN: window scaling in effect only if both SYNs carry the option (RFC 7323 §2.2); RCV.WND may
    // then exceed 65,535 (the SYN's own window field is capped, never scaled)
    private void onPeerSyn(final TcpSegment segment)
    {
        windowScaling.onPeerSyn(segment.options());
        receiver.windowCap(windowScaling.maxReceiveWindow());
        rcvWnd = receiver.window();
    }

    // SEG.WND of a segment without SYN, scaled by the peer's shift (RFC 7323 §2.3)
    private int segmentWindow(final TcpSegment segment)
    {
        return windowScaling.sendWindow(segment.window());
    }

    // the window field of every segment without SYN: RCV.WND scaled down, right edge never receding (§2.4)
    private int advertisedWindow()
    {
        return windowScaling.advertise(rcvNxt, rcvWnd);
    }

    private void sendAck()
    {
        output.sendControl(localIp, localPort, remoteIp, remotePort, sndNxt, rcvNxt, ACK, advertisedWindow(),
            TcpSegmentOutput.NO_MSS_OPTION);
        onAckSent();
    }

    private void onAckSent()
    {
        ackPending = false;
        unackedBytes = 0;
        timers.delayedAckNs = NO_DEADLINE;
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
        windowScaling.clear();
        ackPending = false;
        finQueued = false;
        writeBlocked = false;
        finHeld = false;
        finSent = false;
        maxSndWnd = 0;
        rcvMss = Math.min(config.mssBytes(), DEFAULT_SEND_MSS_BYTES);
        unackedBytes = 0;
        goBackN = false;
        synRetransmitted = false;
        challengeAckSent = false;
        timers.clear();
        rtt.reset();
        sendBuffer.reset(0);
        receiver.clear();
        state = TcpState.LISTEN;
    }

    private void enterClosed(final TcpCloseReason reason)
    {
        final boolean wasOpen = state != TcpState.CLOSED;
        returnToListen();
        state = TcpState.CLOSED;
        passiveOpen = false;
        userTimeoutNs = config.r2Ns(); // per-connection options return to the defaults for the next use
        keepAlive = config.keepAliveEnabled();
        noDelay = config.noDelay();
        if (wasOpen)
        {
            closeReason = reason;
            handler.onClosed(reason); // MUST-12
        }
    }

    /**
     * SEND (§3.10.2): copies as many bytes as fit into the send buffer; {@link #poll} transmits them. Allowed
     * from SYN-SENT (queued until ESTABLISHED) until CLOSE; accepting fewer bytes than offered is
     * back-pressure.
     *
     * @param source bytes to send.
     * @param offset of the first byte.
     * @param length bytes offered.
     * @return bytes accepted, or {@link #SEND_NOT_OPEN} ("connection does not exist" or "connection
     * closing").
     */
    public int send(final DirectBuffer source, final int offset, final int length)
    {
        notifyApplicationActivity(); // stack hook
        final int accepted = switch (state)
        {
            case SYN_SENT, ESTABLISHED, CLOSE_WAIT -> sendBuffer.append(source, offset, length);
            case SYN_RECEIVED -> finQueued ? SEND_NOT_OPEN : sendBuffer.append(source, offset, length);
            default -> SEND_NOT_OPEN;
        };
        if (accepted >= 0 && accepted < length)
        {
            writeBlocked = true; // TcpReceiveHandler.onWritable once an ACK frees space
        }
        return accepted;
    }

    /**
     * Emits what is due after a burst of received segments: queued data (at most one send MSS per segment,
     * within SND.WND, Nagle unless no-delay), our FIN once all data is sent, and otherwise one pure ACK if
     * one is due (MUST-58, MUST-59: ACKs are aggregated per call).
     *
     * @param nowNs the duty cycle's time.
     * @return segments sent.
     */
    public int poll(final long nowNs)
    {
        int segments = 0;
        if (writeBlocked && sendBuffer.freeBytes() > 0
            && (state == TcpState.ESTABLISHED || state == TcpState.CLOSE_WAIT))
        {
            writeBlocked = false;
            handler.onWritable();
        }
        switch (state)
        {
            case ESTABLISHED, CLOSE_WAIT, FIN_WAIT_1, CLOSING, LAST_ACK -> segments += sendQueued(nowNs);
            default ->
            {
                // nothing to transmit before the connection is synchronized or after our FIN
            }
        }
        if (ackPending && state.isSynchronized())
        {
            sendAck();
            segments++;
        }
        return segments;
    }

    private int sendQueued(final long nowNs)
    {
        final int mss = effectiveSendMssBytes();
        int segments = 0;
        if (sndUna == sndNxt && sendBuffer.tailSeq() != sndNxt && nowNs - lastSendNs > rtt.rtoNs())
        {
            congestion.onIdleRestart(); // RFC 5681 §4.1: restart window after an idle period
        }
        // after an RTO: resend what was outstanding (go-back-N), as cwnd and SND.WND allow (SHLD-16)
        while (goBackN)
        {
            final int dataEnd = finSent ? rexmtEnd - 1 : rexmtEnd;
            final int length = Math.min(mss, dataEnd - rexmtNxt);
            if (!lt(rexmtNxt, rexmtEnd))
            {
                goBackN = false;
            }
            else if (rexmtNxt - sndUna + Math.max(length, 1) > Math.min(congestion.cwnd(), Math.max(sndWnd, mss)))
            {
                return segments;
            }
            else
            {
                rexmtNxt += retransmitAt(rexmtNxt);
                segments++;
            }
        }
        while (!finSent)
        {
            final int unsent = sendBuffer.tailSeq() - sndNxt;
            final int flight = sndNxt - sndUna;
            final int cwndUsable = congestion.cwnd() - flight;
            // negative when the peer shrank the window (MUST-34); cwnd never cuts a segment short while
            // data is in flight: its ACK opens cwnd by a whole segment
            final int usable = Math.min(sndUna + sndWnd - sndNxt,
                flight > 0 && cwndUsable < Math.min(unsent, mss) ? 0 : cwndUsable);
            final int length = Math.min(Math.min(unsent, mss), Math.max(0, usable));
            final boolean withFin = finQueued && length == unsent;
            if (length == 0 && !withFin)
            {
                break; // nothing to send, a zero window or a full cwnd
            }
            final boolean swsAllows = length == unsent || length >= maxSndWnd / 2;
            if (length < mss && !withFin && !((noDelay || flight == 0) && swsAllows))
            {
                // Nagle (SHLD-7): a small segment waits until the outstanding data is acked; sender SWS
                // avoidance (MUST-38, §3.8.6.2.1): less than a full segment goes only if it is all that is
                // queued or at least half the largest window the peer offered; the persist timer overrides
                break;
            }
            int flags = ACK;
            if (length > 0 && length == unsent)
            {
                flags |= PSH; // MUST-61: PSH on the segment that empties the buffer
            }
            if (withFin)
            {
                flags |= FIN;
            }
            sendNew(length, flags, nowNs);
            segments++;
        }
        if (sndUna == sndNxt && sendBuffer.tailSeq() != sndNxt)
        {
            // data waits for the window with nothing in flight: zero-window probing (MUST-35, MUST-36) after
            // one RTO (SHLD-29), backing off (SHLD-30); also the sender SWS override timeout (MUST-38)
            timers.armPersist(nowNs, rtt.rtoNs());
        }
        return segments;
    }

    // a segment of new data at SND.NXT (and/or our FIN)
    private void sendNew(final int length, final int flags, final long nowNs)
    {
        if (length > 0)
        {
            output.sendData(localIp, localPort, remoteIp, remotePort, sndNxt, rcvNxt, flags, advertisedWindow(),
                sendBuffer, length);
            rtt.startTiming(sndNxt + length, nowNs); // new data only: retransmissions are never timed
        }
        else
        {
            output.sendControl(localIp, localPort, remoteIp, remotePort, sndNxt, rcvNxt, flags, advertisedWindow(),
                TcpSegmentOutput.NO_MSS_OPTION);
        }
        onAckSent();
        if (timers.retransmissionNs == NO_DEADLINE)
        {
            timers.retransmissionNs = nowNs + rtt.rtoNs(); // RFC 6298 (5.1)
        }
        timers.persistNs = NO_DEADLINE;
        lastSendNs = nowNs;
        sndNxt += length;
        if ((flags & FIN) != 0)
        {
            sndNxt += 1;
            finSent = true;
        }
    }

    /**
     * Send MSS used to cut segments: the peer's MSS (536 if it sent none, MUST-15), never more than our own
     * MSS, which bounds what the local MTU carries (MUST-16 with MMS_S = our MSS + 40 and no options).
     *
     * @return bytes.
     */
    public int effectiveSendMssBytes()
    {
        return Math.min(sendMssBytes, config.mssBytes());
    }

    /**
     * CLOSE (§3.10.4). LISTEN, SYN-SENT: → CLOSED. ESTABLISHED: → FIN-WAIT-1, CLOSE-WAIT: → LAST-ACK, the FIN
     * following all queued data ({@link #poll} sends it). SYN-RECEIVED: the CLOSE is queued and takes effect
     * (→ FIN-WAIT-1) when the handshake completes. With received data the
     * application never consumed, the connection is reset instead to show that data was lost (SHLD-3).
     *
     * @return false if there was nothing to close (CLOSED) or CLOSE was already called ("connection
     * closing").
     */
    public boolean close()
    {
        notifyApplicationActivity(); // stack hook
        switch (state)
        {
            case LISTEN, SYN_SENT ->
            {
                enterClosed(TcpCloseReason.NORMAL);
                return true;
            }
            case SYN_RECEIVED ->
            {
                if (finQueued)
                {
                    return false;
                }
                finQueued = true;
                return true;
            }
            case ESTABLISHED, CLOSE_WAIT ->
            {
                if (receiver.unreadBytes() > 0)
                {
                    abort(); // SHLD-3
                    return true;
                }
                finQueued = true;
                state = state == TcpState.CLOSE_WAIT ? TcpState.LAST_ACK : TcpState.FIN_WAIT_1;
                return true;
            }
            default ->
            {
                return false;
            }
        }
    }

    /**
     * ABORT (§3.10.5): in SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2 and CLOSE-WAIT sends
     * {@code <SEQ=SND.NXT><CTL=RST>}; in every state queued data is dropped and the connection goes to
     * CLOSED with {@link TcpCloseReason#ABORTED}.
     */
    public void abort()
    {
        switch (state)
        {
            case SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT ->
            {
                output.sendControl(localIp, localPort, remoteIp, remotePort, sndNxt, 0, RST, 0,
                    TcpSegmentOutput.NO_MSS_OPTION);
                enterClosed(TcpCloseReason.ABORTED);
            }
            case CLOSED ->
            {
                // "connection does not exist"
            }
            default -> enterClosed(TcpCloseReason.ABORTED);
        }
    }

    /**
     * The application finished with bytes it did not consume inside {@link TcpReceiveHandler#onData}: the
     * receive window opens again. A window that opens from zero or by at least one MSS (or half the buffer)
     * is announced at the next {@link #poll} (receiver-side SWS avoidance, MUST-39).
     *
     * @param bytes bytes released, clamped to what is unconsumed.
     */
    public void consumed(final int bytes)
    {
        notifyApplicationActivity(); // stack hook
        receiver.consumed(bytes);
        // no window updates once the peer's FIN arrived: it sends nothing more (Linux: none after RCV_SHUTDOWN)
        if (state.isSynchronized() && !peerFinReceived())
        {
            final int before = rcvWnd;
            rcvWnd = receiver.window();
            final int threshold = Math.min(config.receiveBufferBytes() / 2, config.mssBytes());
            if ((before == 0 && rcvWnd > 0) || rcvWnd - before >= threshold)
            {
                ackPending = true;
            }
        }
    }

    /**
     * Deletes the TCB of a passive connection that went back to LISTEN (a RST or SYN in SYN-RECEIVED,
     * §3.10.7.4) when a stack, not the connection, does the listening: CLOSED, reported to the application
     * (which saw the SYN) as {@link TcpCloseReason#RESET_BY_PEER} (MUST-12). Does nothing in other states.
     */
    public void releaseFromListen()
    {
        if (state == TcpState.LISTEN)
        {
            enterClosed(TcpCloseReason.RESET_BY_PEER);
        }
    }

    private boolean peerFinReceived()
    {
        return state == TcpState.CLOSE_WAIT || state == TcpState.LAST_ACK || state == TcpState.CLOSING ||
            state == TcpState.TIME_WAIT;
    }

    /**
     * Turns the Nagle algorithm off or on for this connection (MUST-17); the default comes from
     * {@link TcpConfig#noDelay()}.
     *
     * @param noDelay true to send small segments at once.
     */
    public void noDelay(final boolean noDelay)
    {
        this.noDelay = noDelay;
    }

    /**
     * When {@link #onTimer} needs to be called next: the earliest of the retransmission (SYN, SYN-ACK, data,
     * FIN), TIME-WAIT, delayed-ACK, persist and keep-alive timers.
     *
     * @return the earliest deadline in the {@code nowNs} timebase, or {@link #NO_DEADLINE}.
     */
    public long nextDeadlineNs()
    {
        return timers.nextDeadlineNs(keepAliveEligible());
    }

    // MUST-26: only while nothing is outstanding or queued
    private boolean keepAliveEligible()
    {
        return keepAlive && (state == TcpState.ESTABLISHED || state == TcpState.CLOSE_WAIT) && sndUna == sndNxt &&
            sendBuffer.tailSeq() == sndNxt;
    }

    /**
     * Fires the timers that are due (§3.10.8, §3.8). TIME-WAIT expiry deletes the TCB (MUST-13).
     * Retransmission timeout: SYN-SENT resends the SYN, SYN-RECEIVED the SYN-ACK (MUST-22); otherwise the
     * segment at SND.UNA is sent again and the rest of the flight follows as cwnd allows (go-back-N), RTO
     * doubles (MUST-19), the pending RTT measurement is dropped (Karn, MUST-18), ssthresh and cwnd fall
     * (RFC 5681 (4)). After R1 retransmissions the handler is told (SHLD-9); once retransmissions have lasted
     * R2 (the user timeout, {@link #userTimeoutNs(long)}; for a SYN {@link TcpConfig#synR2Ns()}, MUST-23) the
     * connection is closed with {@link TcpCloseReason#TIMEOUT} (MUST-20). Delayed ACK: the ACK goes out
     * (MUST-40). Persist: a zero-window probe {@code <SEQ=SND.UNA-1><ACK=RCV.NXT><CTL=ACK>} (Linux's form),
     * or held small data once the window allows some (SWS override, MUST-38). Keep-alive: a probe
     * {@code <SEQ=SND.NXT-1><ACK=RCV.NXT><CTL=ACK>} without data (SHLD-12), and TIMEOUT after the configured
     * number of unanswered probes (MUST-29).
     *
     * @param nowNs the duty cycle's time.
     * @return timers fired.
     */
    public int onTimer(final long nowNs)
    {
        if (state == TcpState.TIME_WAIT && TcpTimers.due(timers.timeWaitNs, nowNs))
        {
            enterClosed(TcpCloseReason.NORMAL);
            return 1;
        }
        int fired = 0;
        if (TcpTimers.due(timers.retransmissionNs, nowNs))
        {
            if (!onRetransmissionTimeout(nowNs))
            {
                return 1;
            }
            fired++;
        }
        if (TcpTimers.due(timers.persistNs, nowNs))
        {
            if (!onPersistTimeout(nowNs))
            {
                return fired + 1;
            }
            fired++;
        }
        if (TcpTimers.due(timers.delayedAckNs, nowNs))
        {
            timers.delayedAckNs = NO_DEADLINE;
            if (state.isSynchronized())
            {
                sendAck();
            }
            fired++;
        }
        if (TcpTimers.due(timers.keepAliveDeadlineNs(keepAliveEligible()), nowNs))
        {
            if (timers.onKeepAliveTimeout(nowNs))
            {
                enterClosed(TcpCloseReason.TIMEOUT); // MUST-29: only after several unanswered probes
                return fired + 1;
            }
            output.sendControl(localIp, localPort, remoteIp, remotePort, sndNxt - 1, rcvNxt, ACK, advertisedWindow(),
                TcpSegmentOutput.NO_MSS_OPTION);
            fired++;
        }
        return fired;
    }

    // false once the connection gave up (R2)
    private boolean onRetransmissionTimeout(final long nowNs)
    {
        final boolean synState = state == TcpState.SYN_SENT || state == TcpState.SYN_RECEIVED;
        final int retransmissions = timers.onRetransmissionTimeout(nowNs, synState ? config.synR2Ns() : userTimeoutNs,
            !synState && sndWnd == 0); // SHLD-17: a zero window that the peer keeps announcing is no failure
        if (retransmissions == TcpTimers.GIVE_UP)
        {
            enterClosed(TcpCloseReason.TIMEOUT);
            return false;
        }
        if (retransmissions == config.r1Retransmissions())
        {
            handler.onExcessiveRetransmissions(retransmissions); // R1 (MUST-20, SHLD-9)
        }
        final boolean firstTimeout = retransmissions == 1;
        rtt.onTimeout();
        if (state == TcpState.SYN_SENT)
        {
            synRetransmitted = true;
            output.sendSyn(localIp, localPort, remoteIp, remotePort, iss, 0, SYN, rcvWnd, config.mssBytes(),
                windowScaling.offeredShift());
        }
        else if (state == TcpState.SYN_RECEIVED)
        {
            synRetransmitted = true;
            sendSynAck();
        }
        else
        {
            congestion.onRetransmissionTimeout(sndNxt - sndUna, sndNxt, firstTimeout);
            rexmtEnd = sndNxt;
            rexmtNxt = sndUna + retransmitAt(sndUna);
            goBackN = lt(rexmtNxt, rexmtEnd);
        }
        timers.retransmissionNs = nowNs + rtt.rtoNs(); // RFC 6298 (5.5), (5.6)
        return true;
    }

    // false once the connection gave up
    private boolean onPersistTimeout(final long nowNs)
    {
        timers.persistNs = NO_DEADLINE;
        if (!state.isSynchronized() || sndUna != sndNxt)
        {
            return true; // something is in flight: the retransmission timer covers it
        }
        final int unsent = sendBuffer.tailSeq() - sndNxt;
        final int usable = sndUna + sndWnd - sndNxt;
        if (usable > 0 && (unsent > 0 || finQueued))
        {
            // the SWS override timeout (MUST-38): send what the window allows now
            final int length = Math.min(Math.min(unsent, usable), effectiveSendMssBytes());
            final boolean withFin = finQueued && length == unsent;
            sendNew(length, ACK | (length == unsent && length > 0 ? PSH : 0) | (withFin ? FIN : 0), nowNs);
            return true;
        }
        if (timers.onZeroWindowProbe(nowNs, userTimeoutNs, rtt.rtoNs()))
        {
            enterClosed(TcpCloseReason.TIMEOUT); // probes unanswered for the user timeout
            return false;
        }
        // zero-window probe (MUST-36): an old sequence number makes the peer answer with its window
        output.sendControl(localIp, localPort, remoteIp, remotePort, sndUna - 1, rcvNxt, ACK, advertisedWindow(),
            TcpSegmentOutput.NO_MSS_OPTION);
        return true;
    }

    // §3.10.8: one segment at seq (SND.UNA or a later go-back-N point), data and/or our FIN; returns the
    // sequence space it covers
    private int retransmitAt(final int seq)
    {
        final int dataEnd = finSent ? sndNxt - 1 : sndNxt;
        final int length = Math.max(0, Math.min(effectiveSendMssBytes(), dataEnd - seq));
        int flags = ACK;
        final boolean withFin = finSent && seq + length == dataEnd;
        if (withFin)
        {
            flags |= FIN;
        }
        if (length > 0)
        {
            if (seq + length == sendBuffer.tailSeq())
            {
                flags |= PSH;
            }
            output.sendData(localIp, localPort, remoteIp, remotePort, seq, rcvNxt, flags, advertisedWindow(), sendBuffer,
                length);
        }
        else
        {
            output.sendControl(localIp, localPort, remoteIp, remotePort, seq, rcvNxt, flags, advertisedWindow(),
                TcpSegmentOutput.NO_MSS_OPTION);
        }
        rtt.onRetransmit(); // Karn (MUST-18)
        onAckSent();
        return length + (withFin ? 1 : 0);
    }

    /**
     * Sets this connection's user timeout: how long retransmissions (or unanswered zero-window probes) may
     * go on before the connection is closed with {@link TcpCloseReason#TIMEOUT} (R2, MUST-20, MUST-21). The
     * default is {@link TcpConfig#r2Ns()}; it returns to the default when the connection closes.
     *
     * @param timeoutNs &gt; 0; values under 100 s break SHLD-11 and are the application's choice.
     * @throws IllegalArgumentException if not positive.
     */
    public void userTimeoutNs(final long timeoutNs)
    {
        if (timeoutNs <= 0)
        {
            throw new IllegalArgumentException("user timeout must be > 0, got " + timeoutNs);
        }
        this.userTimeoutNs = timeoutNs;
    }

    /**
     * This connection's user timeout (R2 for data).
     *
     * @return nanoseconds.
     */
    public long userTimeoutNs()
    {
        return userTimeoutNs;
    }

    /**
     * Turns keep-alives on or off for this connection (MUST-24); the default comes from
     * {@link TcpConfig#keepAliveEnabled()} (off, MUST-25) and returns when the connection closes.
     *
     * @param enabled true to probe an idle connection.
     */
    public void keepAlive(final boolean enabled)
    {
        this.keepAlive = enabled;
    }

    /**
     * The congestion state (cwnd, ssthresh, fast recovery) of this connection, read-only use.
     *
     * @return the congestion control.
     */
    public CongestionControl congestionControl()
    {
        return congestion;
    }

    /**
     * Challenge ACKs not sent because of the rate limit (RFC 5961 §7), since construction.
     *
     * @return count.
     */
    public long challengeAcksSuppressed()
    {
        return challengeAcksSuppressed;
    }

    /**
     * Urgent bytes still ahead of the next byte to be delivered (MUST-33).
     *
     * @return bytes up to RCV.UP, 0 when no urgent data is pending.
     */
    public int urgentBytesPending()
    {
        return receiver.urgentBytesPending(rcvNxt);
    }

    /**
     * Received bytes the application has not consumed yet (they reduce RCV.WND).
     *
     * @return bytes.
     */
    public int unreadBytes()
    {
        return receiver.unreadBytes();
    }

    /**
     * Bytes the application queued that are not yet acknowledged (sent or not).
     *
     * @return bytes.
     */
    public int sendQueueBytes()
    {
        return sendBuffer.size();
    }

    /**
     * Why the connection last reached CLOSED (MUST-12).
     *
     * @return the reason, or null if it never closed after being opened.
     */
    public TcpCloseReason closeReason()
    {
        return closeReason;
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

    // ================================================================================================
    // Stack hooks: appended as one block by the stack (dev.sluice.core.stack) work; nothing above this
    // line depends on it except three single-line notifyApplicationActivity() calls (send, close,
    // consumed).
    // ================================================================================================

    /** {@link #onIcmpError} result: the quoted sequence number is not in [SND.UNA, SND.NXT) (RFC 5927). */
    public static final int ICMP_OUT_OF_WINDOW = 0;
    /** {@link #onIcmpError} result: recorded as the connection's last soft error, not fatal (MUST-56). */
    public static final int ICMP_SOFT_RECORDED = 1;
    /** {@link #onIcmpError} result: a hard error aborted the connection during its handshake. */
    public static final int ICMP_ABORTED = 2;
    /** {@link #onIcmpError} result: not acted upon (e.g. fragmentation needed announcing no smaller MTU). */
    public static final int ICMP_IGNORED = 3;
    /** {@link #onIcmpError} result: fragmentation needed lowered the send MSS (RFC 1191). */
    public static final int ICMP_PATH_MTU_LOWERED = 4;
    /** Smallest path MTU believed from an ICMP message (Linux's min_pmtu): a forged tiny MTU cannot make a
     * connection send tiny segments. */
    public static final int MIN_PATH_MTU = 552;
    /** {@link #lastSoftErrorType()} when no soft error was recorded. */
    public static final int NO_SOFT_ERROR = -1;

    /**
     * Told when the application calls {@link #send}, {@link #close} or {@link #consumed} (possibly outside
     * any callback of the stack), so that the stack polls the connection in its next duty cycle instead of
     * polling every connection every cycle. Called on the shard's thread; must not allocate.
     */
    @FunctionalInterface
    public interface ActivityListener
    {
        /**
         * The application changed what the connection may have to send.
         *
         * @param connection the connection.
         */
        void onApplicationActivity(TcpConnection connection);
    }

    private ActivityListener activityListener;
    private int lastSoftErrorType = NO_SOFT_ERROR;
    private int lastSoftErrorCode;
    private long lastSoftErrorNs;
    private int softErrors;

    /**
     * Sets who is told about application calls (the stack's connection pool); null for nobody.
     *
     * @param listener the listener or null.
     */
    public void activityListener(final ActivityListener listener)
    {
        this.activityListener = listener;
    }

    private void notifyApplicationActivity()
    {
        final ActivityListener listener = activityListener;
        if (listener != null)
        {
            listener.onApplicationActivity(this);
        }
    }

    /**
     * An ICMP error about a segment of this connection (MUST-54), already matched to it by its quoted ports
     * and addresses.
     *
     * <ul>
     *   <li>The quoted sequence number must lie in [SND.UNA, SND.NXT), i.e. quote a segment still in
     *       flight; otherwise the error is ignored (RFC 5927 §4.1, blind ICMP attacks).</li>
     *   <li>Hard errors ({@link dev.sluice.core.wire.IcmpHeader#ERROR_HARD}: protocol or port unreachable,
     *       SHLD-26) abort the connection in SYN-SENT and SYN-RECEIVED: CLOSED with
     *       {@link TcpCloseReason#UNREACHABLE} reported to the handler (MUST-12), no segment sent. In the
     *       synchronized states they are treated as soft errors, as RFC 5927 §4.1 recommends and Linux does:
     *       a connection that already worked keeps trying until its own timeout (R2, MUST-20).</li>
     *   <li>Soft errors (MUST-56: destination unreachable 0, 1, 5 and the administrative codes, time
     *       exceeded, parameter problem) are never fatal: the last one is recorded for the application
     *       (SHLD-25, {@link #lastSoftErrorType()}), e.g. to explain a later {@link TcpCloseReason#TIMEOUT}.</li>
     *   <li>Fragmentation needed and DF set (RFC 1191 §4): path MTU discovery. A next-hop MTU below the
     *       current one lowers the send MSS to MTU − 40 (clamped at {@link #MIN_PATH_MTU}) and resends what is
     *       in flight at once, in segments that fit, without a congestion response (RFC 1191 §6.5, Linux's
     *       simple retransmit); a larger MTU is ignored.</li>
     * </ul>
     * Source quench never arrives here (the network layer discards it, MUST-55).
     *
     * @param errorKind  one of {@link dev.sluice.core.wire.IcmpHeader#ERROR_SOFT},
     *                   {@link dev.sluice.core.wire.IcmpHeader#ERROR_HARD},
     *                   {@link dev.sluice.core.wire.IcmpHeader#ERROR_FRAGMENTATION_NEEDED}.
     * @param icmpType   ICMP type.
     * @param icmpCode   ICMP code.
     * @param nextHopMtu the announced next-hop MTU (fragmentation needed only), 0 if none.
     * @param quotedSeq  sequence number of the quoted TCP header.
     * @param nowNs      the duty cycle's time.
     * @return {@link #ICMP_OUT_OF_WINDOW}, {@link #ICMP_SOFT_RECORDED}, {@link #ICMP_ABORTED},
     * {@link #ICMP_PATH_MTU_LOWERED} or {@link #ICMP_IGNORED}.
     */
    public int onIcmpError(
        final int errorKind, final int icmpType, final int icmpCode, final int nextHopMtu, final int quotedSeq,
        final long nowNs)
    {
        if (state == TcpState.CLOSED || state == TcpState.LISTEN || !(le(sndUna, quotedSeq) && lt(quotedSeq, sndNxt)))
        {
            return ICMP_OUT_OF_WINDOW;
        }
        if (errorKind == dev.sluice.core.wire.IcmpHeader.ERROR_FRAGMENTATION_NEEDED)
        {
            return onPathMtu(nextHopMtu);
        }
        if (errorKind == dev.sluice.core.wire.IcmpHeader.ERROR_HARD &&
            (state == TcpState.SYN_SENT || state == TcpState.SYN_RECEIVED))
        {
            enterClosed(TcpCloseReason.UNREACHABLE);
            return ICMP_ABORTED;
        }
        lastSoftErrorType = icmpType;
        lastSoftErrorCode = icmpCode;
        lastSoftErrorNs = nowNs;
        softErrors++;
        return ICMP_SOFT_RECORDED;
    }

    private int onPathMtu(final int nextHopMtu)
    {
        // an old router announces 0 (RFC 1191 §5): assume the smallest MTU we believe
        final int mtu = Math.max(nextHopMtu == 0 ? MIN_PATH_MTU : nextHopMtu, MIN_PATH_MTU);
        final int mss = mtu - 40;
        if (mss >= effectiveSendMssBytes() || !state.isSynchronized())
        {
            return ICMP_IGNORED;
        }
        sendMssBytes = mss;
        if (sndNxt != sndUna)
        {
            rexmtEnd = sndNxt; // the segments in flight were dropped by the router: send them again, smaller
            rexmtNxt = sndUna;
            goBackN = true;
        }
        return ICMP_PATH_MTU_LOWERED;
    }

    /**
     * Forgets the soft errors recorded by {@link #onIcmpError}; the stack calls it when a pooled connection
     * is reused.
     */
    public void clearSoftErrors()
    {
        lastSoftErrorType = NO_SOFT_ERROR;
        lastSoftErrorCode = 0;
        lastSoftErrorNs = 0;
        softErrors = 0;
    }

    /**
     * ICMP type of the last soft error reported for this connection (SHLD-25), e.g. 3 (destination
     * unreachable) or 11 (time exceeded).
     *
     * @return the type, or {@link #NO_SOFT_ERROR}.
     */
    public int lastSoftErrorType()
    {
        return lastSoftErrorType;
    }

    /**
     * ICMP code of the last soft error (valid when {@link #lastSoftErrorType()} is not
     * {@link #NO_SOFT_ERROR}).
     *
     * @return the code.
     */
    public int lastSoftErrorCode()
    {
        return lastSoftErrorCode;
    }

    /**
     * When the last soft error arrived, in the {@code nowNs} timebase.
     *
     * @return the time, 0 if none.
     */
    public long lastSoftErrorNs()
    {
        return lastSoftErrorNs;
    }

    /**
     * Soft errors recorded since the connection was opened (or {@link #clearSoftErrors()}).
     *
     * @return count.
     */
    public int softErrors()
    {
        return softErrors;
    }
}

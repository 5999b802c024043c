package dev.sluice.core.tcp;

import static dev.sluice.core.tcp.SequenceNumbers.inWindow;
import static dev.sluice.core.tcp.SequenceNumbers.le;
import static dev.sluice.core.tcp.SequenceNumbers.lt;
import static dev.sluice.core.wire.TcpHeader.ACK;
import static dev.sluice.core.wire.TcpHeader.RST;
import static dev.sluice.core.wire.TcpHeader.SYN;

import dev.sluice.core.wire.TcpOptions;
import org.agrona.DirectBuffer;

/**
 * The transmission control block of one connection and the only owner of its lifecycle: the user calls of
 * RFC 9293 §3.10.1-§3.10.6 (OPEN, SEND, RECEIVE through the handler, CLOSE, ABORT, STATUS) here, SEGMENT
 * ARRIVES (§3.10.7) in {@link SegmentArrives}, one method per step in the RFC's order, each returning what
 * happens next, and the timeouts (§3.10.8) in {@link Timeouts}. Application callbacks (established, peer
 * closed, closed with its reason, R1 advice) fire after the step that decided them, never in the middle of a
 * transition; only data and urgent notifications are delivered inside the seventh and sixth steps.
 *
 * <h2>Its parts</h2>
 * The variables and the STATUS accessors live in its base class, {@link TcpControlBlock}.
 * <ul>
 *   <li>{@link SendSequenceSpace}: SND.UNA, SND.NXT, SND.WND, SND.WL1/WL2, ISS, MAX.SND.WND, the send MSS,
 *       the send buffer and our FIN; the window update rule and RFC 5961 §5 ACK acceptability.</li>
 *   <li>{@link ReceiveSequenceSpace}: RCV.NXT, RCV.WND, IRS, URG and text (steps six and seven, zero copy
 *       in order, SHLD-31 reassembly), a FIN held beyond a gap, and the ACK policy (MUST-40, MUST-58, MUST-59,
 *       SHLD-18, SHLD-19); receiver SWS avoidance (MUST-39); with a zero window ACK and URG are still
 *       processed (MUST-66).</li>
 *   <li>{@link LossRecovery}: RTT and RTO (RFC 6298, Karn, MUST-18, MUST-19), duplicate ACKs, fast
 *       retransmit and NewReno (RFC 5681, RFC 6582, {@link CongestionControl}), go-back-N after an RTO.</li>
 *   <li>{@link SegmentScheduler}: what to send now (go-back-N, new data within min(cwnd, SND.WND) with Nagle
 *       and sender SWS avoidance, MUST-17, MUST-38, SHLD-7, our FIN, probes), through the {@link TcpFlow}.</li>
 *   <li>{@link TcpTimers}: the deadlines and their policy: retransmission (SYN and SYN-ACK too, MUST-22,
 *       MUST-23), R1/R2 (MUST-20, MUST-21, SHLD-9), delayed ACK, persist (MUST-35..37, SHLD-29, SHLD-30),
 *       keep-alive (off by default, MUST-24..29), TIME-WAIT (MUST-13); {@link WindowScaling} (RFC 7323 §2).</li>
 *   <li>{@link Timestamps}: RFC 7323 §3-5, negotiated on the SYNs: TSval/TSecr on every segment but RST,
 *       RTTM, PAWS.</li>
 *   <li>{@link SackReceiver} and {@link SackScoreboard}: RFC 2018 SACK blocks and RFC 2883 D-SACK in our ACKs,
 *       the sender's scoreboard with RFC 6675 loss recovery in {@link LossRecovery}.</li>
 * </ul>
 * Not yet: RACK-TLP, ECN; text on a simultaneously opening SYN and a FIN on a SYN in LISTEN are left to
 * the peer's retransmission. Replies to unacceptable segments and challenge ACKs are sent at once rather than
 * aggregated by {@link #poll}.
 *
 * <p>No allocation, no clock reads: segments arrive through {@link #onSegment}, replies leave through
 * {@link TcpSegmentOutput}. Single-threaded.
 */
public final class TcpConnection extends TcpControlBlock
{
    /** MSS assumed when the peer's SYN carries no MSS option, IPv4 (MUST-15). */
    public static final int DEFAULT_SEND_MSS_BYTES = 536;
    /** Largest window the 16-bit field carries without window scaling. */
    public static final int MAX_UNSCALED_WINDOW = 0xFFFF;
    /** {@link #nextDeadlineNs()} when no timer is running. */
    public static final long NO_DEADLINE = Long.MAX_VALUE;
    /** {@link #send} result when the connection does not accept data (not open, or already closing). */
    public static final int SEND_NOT_OPEN = -1;

    // application events decided by a step, fired after it (fireEvents)
    static final int EVENT_ESTABLISHED = 1;
    static final int EVENT_PEER_CLOSED = 2;
    static final int EVENT_EXCESSIVE_RETRANSMISSIONS = 4;
    static final int EVENT_CLOSED = 8;


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
        super(config, isnGenerator, output, handler, pool);
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
        flow.local(localIp, localPort);
        this.passiveOpen = true;
        state = TcpState.LISTEN;
    }

    /**
     * A SYN cookie's handshake completes (RFC 4987 §3.6): LISTEN → SYN-RECEIVED as if the SYN that the cookie
     * answered had arrived and our SYN-ACK with ISS = SEG.ACK - 1 had been sent; the caller then hands this
     * connection the ACK itself ({@link #onSegment}), which the fifth step of §3.10.7.4 takes to ESTABLISHED.
     *
     * @param ack        the completing ACK, whose cookie the caller validated.
     * @param synOptions the options of the SYN, restored from the cookie (MSS class; window scale, SACK-permitted
     *                   and timestamps with TS.Recent = the ACK's TSval when it carries timestamps).
     * @param nowNs      the duty cycle's time.
     * @throws IllegalStateException unless LISTEN.
     */
    public void synReceivedFromCookie(final TcpSegment ack, final TcpOptions synOptions, final long nowNs)
    {
        if (state != TcpState.LISTEN)
        {
            throw new IllegalStateException("a cookie needs LISTEN, state is " + state.rfcName());
        }
        timestamps.now(nowNs);
        SegmentArrives.synReceived(this, ack.sourceIp(), ack.sourcePort(), ack.seq() - 1, synOptions, ack.ack() - 1,
            nowNs);
        timestamps.onAckSent(rcv.nxt); // our SYN-ACK acknowledged the SYN: Last.ACK.sent (RFC 7323 §4.3)
    }

    /**
     * A compact SYN-RECEIVED record's handshake completes (the stack keeps half-open connections as small records,
     * like Linux's request socks): LISTEN → SYN-RECEIVED as if the recorded SYN had just arrived and our SYN-ACK
     * with the recorded ISS had been sent; the caller then hands this connection the segment that completed the
     * handshake ({@link #onSegment}).
     *
     * @param remoteIp         the peer's address.
     * @param remotePort       the peer's port.
     * @param irs              the SYN's sequence number.
     * @param iss              the ISS of our SYN-ACK.
     * @param synOptions       the SYN's options as recorded (TS.Recent = the SYN's TSval).
     * @param synAckRetransmitted whether the SYN-ACK was retransmitted (RFC 6298 (5.7)).
     * @param nowNs            the duty cycle's time.
     * @throws IllegalStateException unless LISTEN.
     */
    public void synReceivedFromRecord(
        final int remoteIp, final int remotePort, final int irs, final int iss, final TcpOptions synOptions,
        final boolean synAckRetransmitted, final long nowNs)
    {
        if (state != TcpState.LISTEN)
        {
            throw new IllegalStateException("a SYN-RECEIVED record needs LISTEN, state is " + state.rfcName());
        }
        timestamps.now(nowNs);
        SegmentArrives.synReceived(this, remoteIp, remotePort, irs, synOptions, iss, nowNs);
        synRetransmitted = synAckRetransmitted;
        timestamps.onAckSent(rcv.nxt);
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
        flow.local(localIp, localPort);
        flow.remote(remoteIp, remotePort);
        this.passiveOpen = false;
        timestamps.now(nowNs);
        timestamps.open(isnGenerator.timestampOffset(localIp, localPort, remoteIp, remotePort));
        rcv.openActive();
        snd.open(isnGenerator.nextIsn(localIp, localPort, remoteIp, remotePort, nowNs));
        scheduler.sendSyn();
        state = TcpState.SYN_SENT;
        timers.onSegmentReceived(nowNs);
        timers.retransmissionNs = nowNs + recovery.rtoNs(); // SYN retransmission (MUST-22), initial RTO 1 s
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
        timestamps.now(nowNs);
        switch (state)
        {
            case CLOSED -> replyToClosedPort(segment, flow.output());
            case LISTEN -> SegmentArrives.inListen(this, segment, nowNs);
            case SYN_SENT -> SegmentArrives.inSynSent(this, segment, nowNs);
            case SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT ->
                SegmentArrives.otherwise(this, segment, nowNs);
        }
        fireEvents();
    }

    // the events decided so far, in their natural order; each is cleared before its callback, which may call
    // back into the connection (and decide more events)
    void fireEvents()
    {
        while (events != 0)
        {
            if ((events & EVENT_ESTABLISHED) != 0)
            {
                events &= ~EVENT_ESTABLISHED;
                handler.onEstablished();
            }
            else if ((events & EVENT_EXCESSIVE_RETRANSMISSIONS) != 0)
            {
                events &= ~EVENT_EXCESSIVE_RETRANSMISSIONS;
                handler.onExcessiveRetransmissions(excessiveRetransmissions); // R1 (MUST-20, SHLD-9)
            }
            else if ((events & EVENT_PEER_CLOSED) != 0)
            {
                events &= ~EVENT_PEER_CLOSED;
                handler.onPeerClosed();
            }
            else
            {
                events &= ~EVENT_CLOSED;
                handler.onClosed(closeReason); // MUST-12
            }
        }
    }

    void returnToListen()
    {
        flow.remote(0, 0);
        snd.clear();
        rcv.clear();
        windowScaling.clear();
        timestamps.clear();
        sack.clear();
        recovery.clear();
        writeBlocked = false;
        synRetransmitted = false;
        SegmentArrives.clear(this);
        timers.clear();
        state = TcpState.LISTEN;
    }

    // CLOSED; the application hears it after the step (fireEvents)
    void enterClosed(final TcpCloseReason reason)
    {
        final boolean wasOpen = state != TcpState.CLOSED;
        returnToListen();
        state = TcpState.CLOSED;
        passiveOpen = false;
        userTimeoutNs = config.r2Ns(); // per-connection options return to the defaults for the next use
        keepAlive = config.keepAliveEnabled();
        scheduler.noDelay(config.noDelay());
        if (wasOpen)
        {
            closeReason = reason;
            events |= EVENT_CLOSED;
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
            case SYN_SENT, ESTABLISHED, CLOSE_WAIT -> snd.buffer.append(source, offset, length);
            case SYN_RECEIVED -> snd.finQueued() ? SEND_NOT_OPEN : snd.buffer.append(source, offset, length);
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
        timestamps.now(nowNs);
        int segments = 0;
        if (writeBlocked && snd.buffer.freeBytes() > 0 &&
            (state == TcpState.ESTABLISHED || state == TcpState.CLOSE_WAIT))
        {
            writeBlocked = false;
            handler.onWritable();
        }
        switch (state)
        {
            case ESTABLISHED, CLOSE_WAIT, FIN_WAIT_1, CLOSING, LAST_ACK -> segments += scheduler.sendQueued(nowNs);
            default ->
            {
                // nothing to transmit before the connection is synchronized or after our FIN
            }
        }
        if (rcv.isAckPending() && state.isSynchronized())
        {
            scheduler.sendAck();
            segments++;
        }
        return segments;
    }

    /**
     * @return whether the last {@link #poll} stopped at the send quantum ({@link TcpConfig#sendQuantumBytes()}) with
     *         more to send: the stack polls the connection again in its next duty cycle.
     */
    public boolean wantsAnotherPoll()
    {
        return scheduler.quantumUsed();
    }

    /**
     * Send MSS used to cut segments: the peer's MSS (536 if it sent none, MUST-15), never more than our own
     * MSS, which bounds what the local MTU carries (MUST-16 with MMS_S = our MSS + 40 and no options).
     *
     * @return bytes.
     */
    public int effectiveSendMssBytes()
    {
        return scheduler.effectiveSendMssBytes();
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
        final boolean closing = switch (state)
        {
            case LISTEN, SYN_SENT ->
            {
                enterClosed(TcpCloseReason.NORMAL);
                yield true;
            }
            case SYN_RECEIVED ->
            {
                if (snd.finQueued())
                {
                    yield false;
                }
                snd.fin = SendSequenceSpace.Fin.QUEUED;
                yield true;
            }
            case ESTABLISHED, CLOSE_WAIT ->
            {
                if (rcv.unreadBytes() > 0)
                {
                    abort(); // SHLD-3
                    yield true;
                }
                snd.fin = SendSequenceSpace.Fin.QUEUED;
                state = state == TcpState.CLOSE_WAIT ? TcpState.LAST_ACK : TcpState.FIN_WAIT_1;
                yield true;
            }
            default -> false;
        };
        fireEvents();
        return closing;
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
                scheduler.sendReset(snd.nxt);
                enterClosed(TcpCloseReason.ABORTED);
            }
            case CLOSED ->
            {
                // "connection does not exist"
            }
            default -> enterClosed(TcpCloseReason.ABORTED);
        }
        fireEvents();
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
        // no window updates once the peer's FIN arrived: it sends nothing more (Linux: none after RCV_SHUTDOWN)
        rcv.consumed(bytes, state.isSynchronized() && !peerFinReceived());
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
            fireEvents();
        }
    }

    /**
     * Deletes the TCB of a connection in TIME-WAIT whose stack keeps a compact record of it instead (the record
     * answers the peer until 2 MSL have passed, MUST-13): CLOSED, reported {@link TcpCloseReason#NORMAL}. Does
     * nothing in other states.
     */
    public void releaseTimeWait()
    {
        if (state == TcpState.TIME_WAIT)
        {
            enterClosed(TcpCloseReason.NORMAL);
            fireEvents();
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
        scheduler.noDelay(noDelay);
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
    boolean keepAliveEligible()
    {
        return keepAlive && (state == TcpState.ESTABLISHED || state == TcpState.CLOSE_WAIT) && snd.una == snd.nxt &&
            snd.buffer.tailSeq() == snd.nxt;
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
        timestamps.now(nowNs);
        final int fired = Timeouts.fire(this, nowNs);
        fireEvents();
        return fired;
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
        if (state == TcpState.CLOSED || state == TcpState.LISTEN || !(le(snd.una, quotedSeq) && lt(quotedSeq, snd.nxt)))
        {
            return ICMP_OUT_OF_WINDOW;
        }
        if (errorKind == dev.sluice.core.wire.IcmpHeader.ERROR_FRAGMENTATION_NEEDED)
        {
            // an old router announces 0 (RFC 1191 §5): assume the smallest MTU we believe
            final int mtu = Math.max(nextHopMtu == 0 ? MIN_PATH_MTU : nextHopMtu, MIN_PATH_MTU);
            return state.isSynchronized() && scheduler.lowerSendMss(mtu - 40) ? ICMP_PATH_MTU_LOWERED : ICMP_IGNORED;
        }
        if (errorKind == dev.sluice.core.wire.IcmpHeader.ERROR_HARD &&
            (state == TcpState.SYN_SENT || state == TcpState.SYN_RECEIVED))
        {
            enterClosed(TcpCloseReason.UNREACHABLE);
            fireEvents();
            return ICMP_ABORTED;
        }
        lastSoftErrorType = (short)(icmpType & 0xFF);
        lastSoftErrorCode = (short)(icmpCode & 0xFF);
        lastSoftErrorNs = nowNs;
        softErrors++;
        return ICMP_SOFT_RECORDED;
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
}

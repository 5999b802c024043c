package dev.sluice.core.tcp;

/**
 * The transmission control block of one connection (RFC 9293 §3.2): its variables, held by its parts (the send
 * and receive sequence spaces, loss recovery, the scheduler, the timers, timestamps and SACK state), and the
 * answers to STATUS (§3.10.6): read-only accessors, plus two per-connection options (keep-alive, the shared
 * recovery counters). {@link TcpConnection} adds the event processing of
 * §3.10 (the user calls, SEGMENT ARRIVES, the timeouts). One object per connection (a base class, not a part):
 * an idle connection pays no extra header. Single-threaded.
 */
public abstract sealed class TcpControlBlock permits TcpConnection
{
    final TcpConfig config;
    final IsnGenerator isnGenerator;
    final Timestamps timestamps;
    final SackReceiver sack;
    final TcpFlow flow;
    final SendSequenceSpace snd;
    final ReceiveSequenceSpace rcv;
    final LossRecovery recovery;
    final SegmentScheduler scheduler;
    final TcpReceiveHandler handler;
    final TcpTimers timers;
    final WindowScaling windowScaling;

    TcpState state = TcpState.CLOSED; // written by SegmentArrives too
    boolean passiveOpen;
    boolean synRetransmitted;
    long userTimeoutNs;
    boolean keepAlive;
    boolean writeBlocked;
    int events;
    long lastChallengeAckNs; // RFC 5961 §7 rate limit (SegmentArrives.challengeAck)
    boolean challengeAckSent;
    int challengeAcksSuppressed; // unsigned: narrow fields keep an idle connection under 1 KiB (issue 11)
    int excessiveRetransmissions;
    TcpCloseReason closeReason;

    short lastSoftErrorType = TcpConnection.NO_SOFT_ERROR; // an ICMP type 0..255 or NO_SOFT_ERROR
    short lastSoftErrorCode;
    long lastSoftErrorNs;
    int softErrors;

    TcpControlBlock(
        final TcpConfig config, final IsnGenerator isnGenerator, final TcpSegmentOutput output,
        final TcpReceiveHandler handler, final ChunkPool pool)
    {
        this.config = config;
        this.isnGenerator = isnGenerator;
        this.handler = handler;
        this.timers = new TcpTimers(config);
        this.windowScaling = new WindowScaling(config);
        this.timestamps = new Timestamps(config);
        this.sack = new SackReceiver(config);
        this.flow = new TcpFlow(output, timestamps, sack);
        this.snd = new SendSequenceSpace(new SendBuffer(config.sendBufferBytes(), pool));
        this.rcv = new ReceiveSequenceSpace(config, handler, timers, windowScaling, pool, sack);
        this.recovery = new LossRecovery(config);
        this.scheduler = new SegmentScheduler(config, flow, snd, rcv, recovery, timers, windowScaling);
        this.userTimeoutNs = config.r2Ns();
        this.keepAlive = config.keepAliveEnabled();
    }

    /** This connection's user timeout (R2 for data), in nanoseconds. */
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

    /** The congestion state (cwnd, ssthresh, fast recovery) of this connection, read-only use. */
    public CongestionControl congestionControl()
    {
        return recovery.congestion;
    }

    /** The smoothed round-trip time (RFC 6298 SRTT) in nanoseconds, 0 before the first sample. */
    public long srttNs()
    {
        return recovery.rtt.srttNs();
    }

    /** The current retransmission timeout (RFC 6298 RTO, with backoff) in nanoseconds. */
    public long rtoNs()
    {
        return recovery.rtoNs();
    }

    /**
     * Counts this connection's loss-recovery events also in {@code counters} (the stack's, for
     * {@code sluice stat}); call once, before the connection is used.
     *
     * @param counters the shared counters.
     */
    public void recoveryCounters(final TcpRecoveryCounters counters)
    {
        recovery.counters(counters);
    }

    /** Whether SACK is in effect: both SYNs carried SACK-permitted (RFC 2018 §2). */
    public boolean sackEnabled()
    {
        return sack.enabled();
    }

    /** SACK-based loss recoveries (RFC 6675) this connection started. */
    public long sackRecoveries()
    {
        return recovery.sackRecoveries();
    }

    /** Retransmission timeouts of data (RFC 6298) this connection had. */
    public long retransmissionTimeouts()
    {
        return recovery.retransmissionTimeouts();
    }

    /** D-SACKs received (RFC 2883): segments the peer got twice, most often spurious retransmissions. */
    public long dsacks()
    {
        return recovery.dsacks();
    }

    /** Whether RFC 7323 timestamps are in effect: both SYNs carried them (§3.2). */
    public boolean timestampsEnabled()
    {
        return timestamps.enabled();
    }

    /** TS.Recent (RFC 7323 §4.3), the peer's TSval we echo; meaningful when {@link TcpConnection#timestampsEnabled()}. */
    public int tsRecent()
    {
        return timestamps.tsRecent();
    }

    /** When TS.Recent was last set, in the {@code nowNs} timebase (RFC 7323 §5.5 ages it after 24 days). */
    public long tsRecentNs()
    {
        return timestamps.tsRecentNs();
    }

    /**
     * The TSval this connection sends at a given time: a 1 ms clock plus its per-connection offset (RFC 7323
     * §5.4, §7.1).
     *
     * @param atNs a time in the {@code nowNs} timebase.
     * @return TSval.
     */
    public int tsVal(final long atNs)
    {
        return timestamps.tsVal(atNs);
    }

    /** Challenge ACKs not sent because of the rate limit (RFC 5961 §7), since construction. */
    public long challengeAcksSuppressed()
    {
        return Integer.toUnsignedLong(challengeAcksSuppressed);
    }

    /** Urgent bytes still ahead of the next byte to be delivered (MUST-33): up to RCV.UP, 0 when none. */
    public int urgentBytesPending()
    {
        return rcv.urgentBytesPending();
    }

    /** Received bytes the application has not consumed yet (they reduce RCV.WND). */
    public int unreadBytes()
    {
        return rcv.unreadBytes();
    }

    /** Bytes the application queued that are not yet acknowledged (sent or not). */
    public int sendQueueBytes()
    {
        return snd.buffer.size();
    }

    /** Why the connection last reached CLOSED (MUST-12), null if it never closed after being opened. */
    public TcpCloseReason closeReason()
    {
        return closeReason;
    }

    /** The current state. */
    public TcpState state()
    {
        return state;
    }

    /** Whether the connection came from a passive OPEN (MUST-11). */
    public boolean isPassiveOpen()
    {
        return passiveOpen;
    }

    /** SND.UNA, the oldest unacknowledged sequence number (raw). */
    public int sndUna()
    {
        return snd.una;
    }

    /** SND.NXT, the next sequence number to send (raw). */
    public int sndNxt()
    {
        return snd.nxt;
    }

    /** SND.WND, the peer's window in bytes. */
    public int sndWnd()
    {
        return snd.wnd;
    }

    /** SND.WL1, SEG.SEQ of the segment last used to update SND.WND (raw). */
    public int sndWl1()
    {
        return snd.wl1;
    }

    /** SND.WL2, SEG.ACK of the segment last used to update SND.WND (raw). */
    public int sndWl2()
    {
        return snd.wl2;
    }

    /** ISS, our initial sequence number (raw). */
    public int iss()
    {
        return snd.iss;
    }

    /** RCV.NXT, the next sequence number expected (raw). */
    public int rcvNxt()
    {
        return rcv.nxt;
    }

    /** RCV.WND, our receive window in bytes. */
    public int rcvWnd()
    {
        return rcv.wnd;
    }

    /** IRS, the peer's initial sequence number (raw). */
    public int irs()
    {
        return rcv.irs;
    }

    /**
     * The peer's MSS from its SYN, 536 if it sent none (MUST-15); the effective send MSS (MUST-16) also
     * depends on the MTU and options and is computed where segments are built.
     *
     * @return bytes.
     */
    public int sendMssBytes()
    {
        return snd.mssBytes;
    }

    /** Our IPv4 address. */
    public int localIp()
    {
        return flow.localIp();
    }

    /** Our port, 0..65535. */
    public int localPort()
    {
        return flow.localPort();
    }

    /** The peer's IPv4 address, 0 in LISTEN. */
    public int remoteIp()
    {
        return flow.remoteIp();
    }

    /** The peer's port, 0..65535, 0 in LISTEN. */
    public int remotePort()
    {
        return flow.remotePort();
    }

    /** ICMP type of the last soft error (SHLD-25), e.g. 3 or 11, or {@link TcpConnection#NO_SOFT_ERROR}. */
    public int lastSoftErrorType()
    {
        return lastSoftErrorType;
    }

    /** ICMP code of the last soft error (valid when {@link TcpConnection#lastSoftErrorType()} is not {@link TcpConnection#NO_SOFT_ERROR}). */
    public int lastSoftErrorCode()
    {
        return lastSoftErrorCode;
    }

    /** When the last soft error arrived, in the {@code nowNs} timebase, 0 if none. */
    public long lastSoftErrorNs()
    {
        return lastSoftErrorNs;
    }

    /** Soft errors recorded since the connection was opened (or {@link TcpConnection#clearSoftErrors()}). */
    public int softErrors()
    {
        return softErrors;
    }
}

package dev.sluice.core.tcp;

/**
 * The timers of one connection (RFC 9293 §3.8, §3.10.8) as absolute deadlines in the caller's {@code nowNs}
 * timebase, and their policy: retransmission (SYN, SYN-ACK, data, FIN) with the R1/R2 thresholds (MUST-20,
 * MUST-23), TIME-WAIT, delayed ACK, persist (zero-window probes and the sender SWS override, backing off,
 * SHLD-29, SHLD-30) and keep-alive (MUST-26, MUST-29). {@link TcpConnection} decides what to send when one
 * fires; this class decides when, and when to give up. No allocation; single-threaded.
 */
final class TcpTimers
{
    static final long NONE = TcpConnection.NO_DEADLINE;
    /** {@link #onRetransmissionTimeout} result: R2 has passed, close the connection. */
    static final int GIVE_UP = -1;
    /** {@link #retransmissionKind}: the retransmission timeout (RFC 6298). */
    static final byte RTO = 0;
    /** {@link #retransmissionKind}: the tail loss probe's PTO (RFC 8985 §7.2). */
    static final byte PROBE = 1;
    /** {@link #retransmissionKind}: RACK's reordering timer (RFC 8985 §6.3). */
    static final byte REORDER = 2;

    private final TcpConfig config;

    long retransmissionNs = NONE;
    long timeWaitNs = NONE;
    long delayedAckNs = NONE;
    long persistNs = NONE;
    /**
     * What {@link #retransmissionNs} stands for: {@link #RTO}, {@link #PROBE} or {@link #REORDER} (one deadline,
     * like Linux's icsk_pending: at most one of them runs, and each of the others re-arms the RTO).
     */
    byte retransmissionKind = RTO;

    private long firstRetransmissionNs = NONE;
    private int retransmissions;
    private int persistBackoff;
    private long probeStartNs = NONE;
    private long lastReceivedNs;
    private long lastKeepAliveNs;
    private int keepAliveProbes;

    TcpTimers(final TcpConfig config)
    {
        this.config = config;
    }

    void clear()
    {
        retransmissionNs = NONE;
        retransmissionKind = RTO;
        timeWaitNs = NONE;
        delayedAckNs = NONE;
        persistNs = NONE;
        firstRetransmissionNs = NONE;
        retransmissions = 0;
        persistBackoff = 0;
        probeStartNs = NONE;
        lastReceivedNs = 0;
        lastKeepAliveNs = 0;
        keepAliveProbes = 0;
    }

    /**
     * Earliest deadline, with the keep-alive deadline when keep-alive applies.
     *
     * @param keepAliveEligible keep-alive is on and the connection is idle with nothing outstanding.
     * @return the deadline or {@link #NONE}.
     */
    long nextDeadlineNs(final boolean keepAliveEligible)
    {
        final long earliest = Math.min(Math.min(retransmissionNs, timeWaitNs), Math.min(delayedAckNs, persistNs));
        return Math.min(earliest, keepAliveDeadlineNs(keepAliveEligible));
    }

    /**
     * Arms the retransmission deadline for one of its kinds.
     *
     * @param kind       {@link #RTO}, {@link #PROBE} or {@link #REORDER}.
     * @param deadlineNs when, or {@link #NONE}.
     */
    void armRetransmission(final byte kind, final long deadlineNs)
    {
        retransmissionKind = deadlineNs == NONE ? RTO : kind;
        retransmissionNs = deadlineNs;
    }

    static boolean due(final long deadlineNs, final long nowNs)
    {
        return deadlineNs != NONE && nowNs - deadlineNs >= 0;
    }

    /**
     * A segment arrived from the peer: it is alive (keep-alive idle time restarts, MUST-26).
     *
     * @param nowNs arrival time.
     */
    void onSegmentReceived(final long nowNs)
    {
        lastReceivedNs = nowNs;
        keepAliveProbes = 0;
    }

    /**
     * An ACK arrived: zero-window probes are answered (MUST-37); if it acknowledged new data, the
     * retransmission episode ends (R1 and R2 count afresh).
     *
     * @param newDataAcked whether SND.UNA advanced.
     */
    void onAckReceived(final boolean newDataAcked)
    {
        probeStartNs = NONE;
        if (newDataAcked)
        {
            firstRetransmissionNs = NONE;
            retransmissions = 0;
        }
    }

    /**
     * The retransmission timer expired: counts the retransmission, or gives up once retransmissions have
     * lasted R2. While the peer keeps answering with a zero window, data beyond the window does not count
     * towards R2 (SHLD-17; Linux's tcp_retransmit_timer does the same).
     *
     * @param nowNs           the time.
     * @param r2Ns            R2: the user timeout, or {@link TcpConfig#synR2Ns()} for a SYN (MUST-23).
     * @param zeroWindow      SND.WND is zero and the connection is synchronized.
     * @return the retransmission count including this one, or {@link #GIVE_UP}.
     */
    int onRetransmissionTimeout(final long nowNs, final long r2Ns, final boolean zeroWindow)
    {
        if (zeroWindow && nowNs - lastReceivedNs <= config.rtoMaxNs())
        {
            firstRetransmissionNs = nowNs;
        }
        if (firstRetransmissionNs == NONE)
        {
            firstRetransmissionNs = nowNs;
        }
        else if (nowNs - firstRetransmissionNs >= r2Ns)
        {
            return GIVE_UP;
        }
        return ++retransmissions;
    }

    /**
     * Arms the persist timer unless it runs: one RTO, doubled per unanswered probe (SHLD-29, SHLD-30).
     *
     * @param nowNs the time.
     * @param rtoNs the current RTO.
     */
    void armPersist(final long nowNs, final long rtoNs)
    {
        if (persistNs == NONE)
        {
            persistNs = nowNs + backoff(rtoNs, persistBackoff, config.rtoMaxNs());
        }
    }

    /**
     * The peer opened its window: the persist timer stops and its backoff ends.
     */
    void onWindowOpened()
    {
        persistNs = NONE;
        persistBackoff = 0;
    }

    /**
     * The persist timer expired with a zero window: whether probes went unanswered for the user timeout
     * (then the caller closes); otherwise the caller probes and the timer is re-armed, backed off.
     *
     * @param nowNs         the time.
     * @param userTimeoutNs the connection's R2.
     * @param rtoNs         the current RTO.
     * @return true to give up.
     */
    boolean onZeroWindowProbe(final long nowNs, final long userTimeoutNs, final long rtoNs)
    {
        if (probeStartNs == NONE)
        {
            probeStartNs = nowNs;
        }
        else if (nowNs - probeStartNs >= userTimeoutNs)
        {
            return true;
        }
        persistBackoff++;
        persistNs = nowNs + backoff(rtoNs, persistBackoff, config.rtoMaxNs());
        return false;
    }

    /**
     * Keep-alive (MUST-26..29): after the idle time since the last segment received, then every interval.
     *
     * @param eligible keep-alive is on and the connection is idle with nothing outstanding.
     * @return the deadline or {@link #NONE}.
     */
    long keepAliveDeadlineNs(final boolean eligible)
    {
        if (!eligible)
        {
            return NONE;
        }
        return keepAliveProbes == 0 ? lastReceivedNs + config.keepAliveIdleNs() :
            lastKeepAliveNs + config.keepAliveIntervalNs();
    }

    /**
     * The keep-alive timer expired: whether the configured number of probes went unanswered (MUST-29: never
     * after a single one); otherwise the caller sends a probe, counted here.
     *
     * @param nowNs the time.
     * @return true to give up.
     */
    boolean onKeepAliveTimeout(final long nowNs)
    {
        if (keepAliveProbes >= config.keepAliveProbes())
        {
            return true;
        }
        keepAliveProbes++;
        lastKeepAliveNs = nowNs;
        return false;
    }

    /**
     * An exponential backoff: {@code baseNs * 2^exponent}, capped.
     *
     * @param baseNs   the first interval.
     * @param exponent doublings.
     * @param maxNs    the cap.
     * @return nanoseconds.
     */
    static long backoff(final long baseNs, final int exponent, final long maxNs)
    {
        long interval = baseNs;
        for (int i = 0; i < exponent && interval < maxNs; i++)
        {
            interval *= 2;
        }
        return Math.min(interval, maxNs);
    }
}

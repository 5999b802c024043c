package dev.sluice.core.tcp;

/**
 * The timers of one connection as absolute deadlines in the caller's {@code nowNs} timebase (RFC 9293
 * §3.8 and §3.10.8): retransmission (including SYN and SYN-ACK), TIME-WAIT, delayed ACK, persist (zero
 * window probes and the sender SWS override) and keep-alive, with the backoff state each needs.
 * The keep-alive deadline is derived from {@link #lastReceivedNs} by the connection. {@link #nextDeadlineNs()}
 * is the earliest of the others; which the stack schedules on its timer wheel. Which
 * timer fires what is decided by {@link TcpConnection#onTimer}. No allocation; single-threaded.
 */
final class TcpTimers
{
    static final long NONE = TcpConnection.NO_DEADLINE;

    long retransmissionNs = NONE;
    long timeWaitNs = NONE;
    long delayedAckNs = NONE;
    long persistNs = NONE;

    /** Time of the first retransmission (or unanswered probe) of the current episode, for R1/R2. */
    long firstRetransmissionNs = NONE;
    /** Retransmissions of the segment at SND.UNA since it was last acknowledged (R1, MUST-20). */
    int retransmissions;
    /** Consecutive persist timeouts, the exponent of its backoff (SHLD-30). */
    int persistBackoff;
    /** Time of the first unanswered zero-window probe, for the user timeout. */
    long probeStartNs = NONE;
    /** Time the last keep-alive probe was sent. */
    long lastKeepAliveNs;
    /** Keep-alive probes sent without an answer (MUST-29). */
    int keepAliveProbes;
    /** Time the last segment arrived from the peer (keep-alive idle time, MUST-26). */
    long lastReceivedNs;

    void clear()
    {
        retransmissionNs = NONE;
        timeWaitNs = NONE;
        delayedAckNs = NONE;
        persistNs = NONE;
        probeStartNs = NONE;
        lastKeepAliveNs = 0;
        firstRetransmissionNs = NONE;
        retransmissions = 0;
        persistBackoff = 0;
        keepAliveProbes = 0;
        lastReceivedNs = 0;
    }

    long nextDeadlineNs()
    {
        return Math.min(Math.min(retransmissionNs, timeWaitNs), Math.min(delayedAckNs, persistNs));
    }

    static boolean due(final long deadlineNs, final long nowNs)
    {
        return deadlineNs != NONE && nowNs - deadlineNs >= 0;
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

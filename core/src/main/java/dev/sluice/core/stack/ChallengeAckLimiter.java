package dev.sluice.core.stack;

/**
 * The stack-wide limit on challenge ACKs (RFC 5961 §7: "an implementation SHOULD include an ACK throttling
 * mechanism"; Linux's {@code tcp_challenge_ack_limit}, 1,000 per second before Linux 6.0): at most
 * {@code perSecond} challenge ACKs in any one-second window of the shard, beside each connection's own limit.
 * A blind attacker spraying RSTs or SYNs over many 4-tuples then cannot make the shard send more than this.
 * Like Linux since CVE-2016-5696, the window starts at a time randomised by the stack's secret, so the limit
 * itself is no side channel to count hits with. Single-threaded; no allocation.
 */
public final class ChallengeAckLimiter
{
    /** Default limit per second (Linux's historical default). */
    public static final int DEFAULT_PER_SECOND = 1_000;

    private static final long SECOND_NS = 1_000_000_000L;

    private final int perSecond;
    private final long offsetNs;
    private long windowStartNs = Long.MIN_VALUE;
    private int sent;
    private long suppressed;

    /**
     * Creates the limiter.
     *
     * @param perSecond most challenge ACKs per second, &gt;= 1.
     * @param offsetNs  where each one-second window starts (a secret-derived value), 0..10^9-1.
     */
    public ChallengeAckLimiter(final int perSecond, final long offsetNs)
    {
        if (perSecond < 1)
        {
            throw new IllegalArgumentException("perSecond must be >= 1, got " + perSecond);
        }
        this.perSecond = perSecond;
        this.offsetNs = Math.floorMod(offsetNs, SECOND_NS);
    }

    /**
     * Takes one challenge ACK from this second's allowance.
     *
     * @param nowNs the duty cycle's time.
     * @return true if it may be sent; false if it is suppressed (and counted).
     */
    public boolean tryAcquire(final long nowNs)
    {
        final long window = Math.floorDiv(nowNs - offsetNs, SECOND_NS);
        if (window != windowStartNs)
        {
            windowStartNs = window;
            sent = 0;
        }
        if (sent >= perSecond)
        {
            suppressed++;
            return false;
        }
        sent++;
        return true;
    }

    /**
     * Challenge ACKs suppressed by the stack-wide limit.
     *
     * @return count.
     */
    public long suppressed()
    {
        return suppressed;
    }
}

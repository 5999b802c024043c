package dev.sluice.core.tcp;

/**
 * RFC 9438 CUBIC: what a congestion event takes away and how cwnd grows in congestion avoidance, as a function of
 * the time since the epoch began (the duty cycle's nowNs: core never reads a clock) and the smoothed RTT of the
 * {@link RttEstimator}. Slow start, fast retransmit and recovery are {@link CongestionControl}'s, unchanged.
 *
 * <pre>
 * congestion event (§4.6, §4.7): W_max = cwnd &lt; W_max ? cwnd * (1 + beta) / 2 : cwnd   (fast convergence)
 *                                cwnd_prior = cwnd; ssthresh = max(FlightSize * beta, 2 * SMSS); epoch ends
 * RTO (§4.8):                    ssthresh as above (first expiry only); the next epoch starts with K = 0 and
 *                                W_max = cwnd_epoch
 * epoch start (§4.2):            first ACK in congestion avoidance: t0 = now, cwnd_epoch = cwnd, W_est = cwnd,
 *                                K = cbrt((W_max - cwnd_epoch) / C)
 *                                (K = 0 and W_max = cwnd_epoch if W_max &lt; cwnd_epoch, like Linux)
 * each ACK (§4.3 - §4.5):        W_est += alpha * acked / cwnd  (alpha = 3 (1 - beta) / (1 + beta), 1 once
 *                                W_est &gt;= cwnd_prior); W_cubic(t) &lt; W_est: cwnd = W_est (Reno-friendly region);
 *                                else target = W_cubic(t + RTT) clamped to [cwnd, 1.5 cwnd],
 *                                cwnd += (target - cwnd) / cwnd per segment acked (concave below W_max, convex above)
 * </pre>
 *
 * Windows are kept in segments as in the RFC (computed in double; W_max, cwnd_prior and the growth carried over
 * in fractions of a byte stored in float, W_est, a running sum, in double); the epoch start and K are kept as
 * one time, epoch start + K, in units of 2^20 ns (about 1 ms; differences wrap safely within 26 days): 24 bytes
 * of state in a subclass (no second object header), 24 bytes per connection more than NewReno. No allocation; single-threaded.
 */
final class CubicCongestionControl extends CongestionControl
{
    /** C of RFC 9438 §5.1: aggressiveness of the growth, segments / s^3. */
    static final double C = 0.4;
    /** beta_cubic of RFC 9438 §4.6: the multiplicative decrease factor. */
    static final double BETA = 0.7;
    /** alpha_cubic of RFC 9438 §4.3: the Reno-friendly additive increase, 3 (1 - beta) / (1 + beta). */
    static final double ALPHA = 3 * (1 - BETA) / (1 + BETA);

    private static final int TIME_SHIFT = 20; // epoch start in units of 2^20 ns
    private static final double TIME_UNIT_S = (1 << TIME_SHIFT) / 1e9;

    private float wMax;      // segments; 0: none (start, or the first epoch after an RTO, §4.8)
    private float cwndPrior; // segments, cwnd before the last reduction (§4.3)
    private double wEst;     // segments, negative: no epoch; a double: it sums steps as small as alpha / cwnd
    private float carry;     // bytes of growth not yet added
    private int plateauAt;   // epoch start + K, in units of 2^TIME_SHIFT ns: W_cubic depends on t - K only

    /**
     * Creates CUBIC congestion state; call {@link #reset} when the connection is synchronized.
     *
     * @param initialWindowSegments n of RFC 6928 (10), &gt;= 1.
     */
    CubicCongestionControl(final int initialWindowSegments)
    {
        this(initialWindowSegments, true);
    }

    /**
     * Creates CUBIC congestion state; call {@link #reset} when the connection is synchronized.
     *
     * @param initialWindowSegments n of RFC 6928 (10), &gt;= 1.
     * @param hyStart               whether the initial slow start runs RFC 9406 HyStart++.
     */
    CubicCongestionControl(final int initialWindowSegments, final boolean hyStart)
    {
        super(initialWindowSegments, hyStart);
    }

    @Override
    public CongestionAlgorithm algorithm()
    {
        return CongestionAlgorithm.CUBIC;
    }

    @Override
    void resetAlgorithm()
    {
        resetCubic();
    }

    @Override
    int reducedSsthresh(final int flightSize)
    {
        return onCongestionEvent(cwnd, flightSize, smss);
    }

    @Override
    int timeoutSsthresh(final int flightSize, final boolean firstTimeout)
    {
        return onTimeout(cwnd, flightSize, smss, firstTimeout, ssthresh);
    }

    @Override
    int avoidanceCwnd(final int ackedBytes, final long nowNs, final long rttNs)
    {
        return onAvoidanceAck(cwnd, ackedBytes, smss, nowNs, rttNs);
    }

    @Override
    void onIdle()
    {
        restartEpoch(); // the idle time is not growth time
    }

    /**
     * W_cubic(t) = C * (t - K)^3 + W_max (RFC 9438 §4.2, Figure 1).
     *
     * @param t    seconds since the epoch began.
     * @param k    K in seconds.
     * @param wMax W_max in segments.
     * @return the window in segments.
     */
    static double window(final double t, final double k, final double wMax)
    {
        final double d = t - k;
        return C * d * d * d + wMax;
    }

    /**
     * K = cbrt((W_max - cwnd_epoch) / C) (RFC 9438 §4.2, Figure 2): the time the window takes to grow back to
     * W_max.
     *
     * @param wMax      W_max in segments.
     * @param cwndEpoch cwnd at the start of the epoch, in segments.
     * @return K in seconds.
     */
    static double k(final double wMax, final double cwndEpoch)
    {
        return Math.cbrt((wMax - cwndEpoch) / C);
    }

    /** A new connection: no W_max, no epoch. */
    void resetCubic()
    {
        wMax = 0;
        cwndPrior = 0;
        carry = 0;
        plateauAt = 0;
        wEst = -1;
    }

    /**
     * A congestion event detected by duplicate ACKs or SACK (RFC 9438 §4.6), with fast convergence (§4.7).
     *
     * @param cwnd       cwnd before the reduction, bytes.
     * @param flightSize bytes outstanding.
     * @param smss       sender MSS.
     * @return the new ssthresh in bytes.
     */
    int onCongestionEvent(final int cwnd, final int flightSize, final int smss)
    {
        final double cwndSegments = (double)cwnd / smss;
        wMax = (float)(cwndSegments < wMax ? cwndSegments * (1 + BETA) / 2 : cwndSegments);
        cwndPrior = (float)cwndSegments;
        restartEpoch();
        return reducedSsthresh(flightSize, smss);
    }

    /**
     * The retransmission timer expired (RFC 9438 §4.8): ssthresh falls by beta on the first expiry, and the first
     * epoch afterwards grows from K = 0 with W_max = cwnd_epoch.
     *
     * @param cwnd         cwnd before the timeout, bytes.
     * @param flightSize   bytes outstanding.
     * @param smss         sender MSS.
     * @param firstTimeout the first expiry for this segment.
     * @param ssthresh     the current ssthresh, kept on later expiries.
     * @return the new ssthresh in bytes.
     */
    int onTimeout(final int cwnd, final int flightSize, final int smss, final boolean firstTimeout, final int ssthresh)
    {
        restartEpoch();
        wMax = 0;
        if (!firstTimeout)
        {
            return ssthresh;
        }
        cwndPrior = (float)cwnd / smss;
        return reducedSsthresh(flightSize, smss);
    }

    /** The epoch ends (a reduction, or an idle restart): the next congestion-avoidance ACK starts a new one. */
    void restartEpoch()
    {
        wEst = -1;
        carry = 0;
    }

    /**
     * An ACK of new data in congestion avoidance (cwnd &gt;= ssthresh, not recovering).
     *
     * @param cwnd       cwnd in bytes.
     * @param ackedBytes bytes newly acknowledged.
     * @param smss       sender MSS.
     * @param nowNs      the duty cycle's time.
     * @param rttNs      the smoothed RTT (RFC 6298 SRTT), 0 before the first sample.
     * @return the new cwnd in bytes, never below {@code cwnd}.
     */
    int onAvoidanceAck(final int cwnd, final int ackedBytes, final int smss, final long nowNs, final long rttNs)
    {
        final double cwndSegments = (double)cwnd / smss;
        final int now = (int)(nowNs >> TIME_SHIFT);
        if (wEst < 0)
        {
            if (wMax < cwndSegments)
            {
                wMax = (float)cwndSegments; // after an RTO (§4.8), or cwnd grew past W_max in slow start: K = 0
            }
            plateauAt = now + (int)Math.round(k(wMax, cwndSegments) / TIME_UNIT_S);
            wEst = cwndSegments;
        }
        final double tMinusK = (now - plateauAt) * TIME_UNIT_S; // wrap-safe difference; t - K
        final double acked = (double)ackedBytes / smss;
        final double est = wEst + (wEst >= cwndPrior ? 1.0 : ALPHA) * acked / cwndSegments; // §4.3
        wEst = est;
        final double next;
        if (window(tMinusK, 0, wMax) < est)
        {
            next = Math.max(cwndSegments, est); // Reno-friendly region (§4.3)
        }
        else
        {
            // concave (§4.4) or convex (§4.5) region: target W_cubic(t + RTT) within [cwnd, 1.5 cwnd]
            final double target = Math.min(Math.max(window(tMinusK + rttNs / 1e9, 0, wMax), cwndSegments),
                1.5 * cwndSegments);
            next = cwndSegments + (target - cwndSegments) / cwndSegments * acked;
        }
        final double growth = (next - cwndSegments) * smss + carry;
        final long whole = (long)growth;
        carry = (float)(growth - whole);
        return (int)Math.min(Integer.MAX_VALUE, cwnd + whole);
    }

    /** @return W_max in segments (0: none). */
    double wMax()
    {
        return wMax;
    }

    /**
     * K of the running epoch, to the time unit (about 1 ms).
     *
     * @param epochStartNs the time of the epoch's first ACK.
     * @return K in seconds.
     */
    double kFrom(final long epochStartNs)
    {
        return (plateauAt - (int)(epochStartNs >> TIME_SHIFT)) * TIME_UNIT_S;
    }

    /** @return W_est in segments (§4.3). */
    double wEst()
    {
        return wEst;
    }

    private static int reducedSsthresh(final int flightSize, final int smss)
    {
        return (int)Math.max(flightSize * BETA, 2L * smss);
    }
}

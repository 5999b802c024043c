package dev.sluice.core.tcp;

/**
 * The retransmission timeout of one connection, computed per RFC 6298 (MUST-18) with Karn's algorithm
 * and exponential backoff (MUST-19).
 *
 * <pre>
 * first sample R:   SRTT = R, RTTVAR = R/2
 * later sample R':  RTTVAR = (1 - 1/4) * RTTVAR + 1/4 * |SRTT - R'|     (uses the old SRTT)
 *                   SRTT   = (1 - 1/8) * SRTT   + 1/8 * R'
 * always:           RTO    = clamp(SRTT + max(G, 4 * RTTVAR), rtoMinNs, rtoMaxNs)
 * no sample yet:    RTO    = rtoInitialNs (1 s)
 * on RTO expiry:    RTO    = min(2 * RTO, rtoMaxNs)                         (backoff, MUST-19)
 * </pre>
 *
 * <h2>Karn's rule, made explicit</h2>
 * An RTT sample is only valid for a segment that was transmitted exactly once. The estimator times at
 * most one segment at a time, the way BSD does: {@link #startTiming} when a segment carrying new data is
 * sent, {@link #onAck} takes the sample when an ACK covers it. {@link #onRetransmit} and
 * {@link #onTimeout} cancel the measurement, because after a retransmission an ACK can no longer say
 * which transmission it answers. Samples from an unambiguous source (e.g. RFC 7323 timestamps) go
 * straight to {@link #onRttSample}; the caller must never feed it a sample from a retransmitted segment.
 *
 * <p>The backed-off RTO is kept until the next valid sample, which recomputes RTO from SRTT and RTTVAR
 * (RFC 6298 §5, note after step 5.7). Integer nanosecond arithmetic, no allocation.
 */
public final class RttEstimator
{
    /** RTO after a SYN or SYN-ACK was retransmitted, when data transfer begins (RFC 6298 §5, 5.7). */
    public static final long RTO_AFTER_SYN_LOSS_NS = 3_000_000_000L;

    /**
     * The timer settings an estimator reads: {@link TcpConfig} is one, so every connection of a stack shares its
     * config instead of copying four longs into each estimator (issue 11: an idle connection under 1 KiB).
     */
    public interface Settings
    {
        /** RTO before the first sample (RFC 6298: 1 s). */
        long rtoInitialNs();

        /** Lower bound of a computed RTO (RFC 6298: 1 s; Linux: 200 ms). */
        long rtoMinNs();

        /** Upper bound, also of backoff (RFC 6298: at least 60 s; Linux: 120 s). */
        long rtoMaxNs();

        /** G, the granularity of the timer that fires the RTO. */
        long clockGranularityNs();
    }

    private record FixedSettings(long rtoInitialNs, long rtoMinNs, long rtoMaxNs, long clockGranularityNs)
        implements Settings
    {
    }

    private final Settings settings;

    private long srttNs;
    private long rttvarNs;
    private long rtoNs;
    private boolean hasSample;
    private int backoffCount;

    private boolean timing;
    private int timedSeqEnd;
    private long timedSentNs;

    /**
     * Creates an estimator with the timer settings of a {@link TcpConfig}.
     *
     * @param config validated settings.
     */
    public RttEstimator(final TcpConfig config)
    {
        this.settings = config;
        reset();
    }

    /**
     * Creates an estimator.
     *
     * @param rtoInitialNs       RTO before the first sample (RFC 6298: 1 s).
     * @param rtoMinNs           lower bound of a computed RTO (RFC 6298: 1 s; Linux: 200 ms).
     * @param rtoMaxNs           upper bound, also of backoff (RFC 6298: at least 60 s; Linux: 120 s).
     * @param clockGranularityNs G, the granularity of the timer that fires the RTO.
     * @throws IllegalArgumentException unless {@code 0 < rtoMinNs <= rtoInitialNs <= rtoMaxNs} and
     *                                  {@code clockGranularityNs > 0}.
     */
    public RttEstimator(
        final long rtoInitialNs, final long rtoMinNs, final long rtoMaxNs, final long clockGranularityNs)
    {
        if (rtoMinNs <= 0 || rtoMinNs > rtoInitialNs || rtoInitialNs > rtoMaxNs)
        {
            throw new IllegalArgumentException("need 0 < rtoMinNs <= rtoInitialNs <= rtoMaxNs, got " +
                rtoMinNs + ", " + rtoInitialNs + ", " + rtoMaxNs);
        }
        if (clockGranularityNs <= 0)
        {
            throw new IllegalArgumentException("clockGranularityNs must be > 0, got " + clockGranularityNs);
        }
        this.settings = new FixedSettings(rtoInitialNs, rtoMinNs, rtoMaxNs, clockGranularityNs);
        reset();
    }

    /**
     * Forgets all samples: RTO back to the initial value (RFC 6298 (2.1)), for reuse of a pooled
     * connection.
     */
    public void reset()
    {
        srttNs = 0;
        rttvarNs = 0;
        rtoNs = settings.rtoInitialNs();
        hasSample = false;
        backoffCount = 0;
        timing = false;
    }

    /**
     * Starts timing a segment that carries new (never sent) data, unless a segment is already being timed.
     * Never call it for a retransmission (Karn, MUST-18).
     *
     * @param seqEnd sequence number after the segment's last byte (the ACK that covers it).
     * @param nowNs  time of transmission.
     * @return true if this segment is now being timed.
     */
    public boolean startTiming(final int seqEnd, final long nowNs)
    {
        if (timing)
        {
            return false;
        }
        timing = true;
        timedSeqEnd = seqEnd;
        timedSentNs = nowNs;
        return true;
    }

    /**
     * When the timed segment was sent (valid while {@link #isTiming()}).
     *
     * @return its transmission time.
     */
    long timedSentNs()
    {
        return timedSentNs;
    }

    /**
     * Whether a segment is being timed.
     *
     * @return true while a measurement is in progress.
     */
    public boolean isTiming()
    {
        return timing;
    }

    /**
     * An acceptable ACK arrived: if it covers the timed segment, takes the RTT sample and updates the RTO.
     *
     * @param segAck SEG.ACK.
     * @param nowNs  arrival time.
     * @return true if a sample was taken.
     */
    public boolean onAck(final int segAck, final long nowNs)
    {
        if (timing && SequenceNumbers.ge(segAck, timedSeqEnd))
        {
            timing = false;
            onRttSample(nowNs - timedSentNs);
            return true;
        }
        return false;
    }

    /**
     * A segment is being retransmitted (fast retransmit or RTO): the pending measurement is ambiguous and
     * is discarded (Karn's algorithm, MUST-18).
     */
    public void onRetransmit()
    {
        timing = false;
    }

    /**
     * The retransmission timer expired: doubles the RTO up to the maximum (MUST-19, RFC 6298 (5.5)) and
     * discards the pending measurement (Karn).
     */
    public void onTimeout()
    {
        timing = false;
        final long rtoMaxNs = settings.rtoMaxNs();
        rtoNs = rtoNs >= rtoMaxNs / 2 ? rtoMaxNs : rtoNs * 2;
        backoffCount++;
    }

    /**
     * Feeds one valid RTT measurement (RFC 6298 (2.2), (2.3)) and ends any backoff. The caller guarantees
     * it does not come from a retransmitted segment (Karn, MUST-18).
     *
     * @param rttNs measured round-trip time, clamped to at least 0.
     */
    public void onRttSample(final long rttNs)
    {
        final long r = Math.max(0, rttNs);
        if (!hasSample)
        {
            srttNs = r;
            rttvarNs = r / 2;
            hasSample = true;
        }
        else
        {
            final long delta = Math.abs(srttNs - r);
            rttvarNs = (3 * rttvarNs + delta) / 4;
            srttNs = (7 * srttNs + r) / 8;
        }
        backoffCount = 0;
        final long rto = srttNs + Math.max(settings.clockGranularityNs(), 4 * rttvarNs);
        rtoNs = Math.min(settings.rtoMaxNs(), Math.max(settings.rtoMinNs(), rto));
    }

    /**
     * Data transfer begins after the SYN or SYN-ACK had to be retransmitted (RFC 6298 §5, (5.7)): if no
     * valid RTT sample exists (Karn leaves none when the handshake was retransmitted), RTO is
     * re-initialised to 3 s instead of the 1 s initial value, and the backoff ends. With a sample (e.g. from
     * timestamps) the computed RTO is kept. This is also what Linux does (TCP_TIMEOUT_FALLBACK).
     */
    public void onSynRetransmittedBeforeData()
    {
        if (!hasSample)
        {
            rtoNs = Math.min(settings.rtoMaxNs(), Math.max(settings.rtoMinNs(), RTO_AFTER_SYN_LOSS_NS));
            backoffCount = 0;
        }
    }

    /**
     * The current retransmission timeout, including backoff.
     *
     * @return RTO in nanoseconds.
     */
    public long rtoNs()
    {
        return rtoNs;
    }

    /**
     * Smoothed round-trip time.
     *
     * @return SRTT in nanoseconds, 0 before the first sample.
     */
    public long srttNs()
    {
        return srttNs;
    }

    /**
     * Round-trip time variation.
     *
     * @return RTTVAR in nanoseconds, 0 before the first sample.
     */
    public long rttvarNs()
    {
        return rttvarNs;
    }

    /**
     * Whether a sample has been taken.
     *
     * @return true after the first valid RTT measurement.
     */
    public boolean hasSample()
    {
        return hasSample;
    }

    /**
     * Consecutive timeouts since the last valid sample; the connection compares it with R1 (MUST-20).
     *
     * @return number of backoffs.
     */
    public int backoffCount()
    {
        return backoffCount;
    }
}
